"""Every admin page opens for the national administrator and for an agent, on real demo data: no 500."""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from tests.conftest import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("load_demo_data", stdout=StringIO())


@pytest.mark.parametrize(("login", "at_least"), [("demo.admin", 13), ("demo.agent", 9)])
def test_every_admin_changelist_add_and_change_page_opens(client, demo, login, at_least):
    verified_login(client, User.objects.get(username=login))
    opened = 0
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code in (200, 403), (info, response.status_code)
        if response.status_code == 403:
            continue
        opened += 1
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code in (200, 403), (info, add.status_code)
        first = model_admin.get_queryset(response.wsgi_request).first()
        if first is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert change.status_code == 200, (info, change.status_code)
    assert opened >= at_least
