"""A13, A17: sessions (ASVS V3).

A new session id at login; an idle timeout (30 min) and an absolute lifetime (12 h) even with activity;
every session ends on a password change or an inactivation; an email on a password or email change;
Secure / HttpOnly / SameSite cookies in production.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import habilitations, invitations, services
from accounts.models import InactivationReason
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import DomaineEmailFactory, partner_with_access

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Un-mot-de-passe-solide-1"
IDLE_MESSAGE = "Votre session a expiré après 30 minutes d'inactivité"


@pytest.fixture
def technicien():
    return UserFactory(partenaire=partner_with_access().convention_metier.partenaire)


def page(client):
    return client.get(reverse("contacts"))


def assert_sent_to_login_with(client, response, message):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert SESSION_KEY not in client.session
    login_page = client.get(response.url)
    assert message in login_page.content.decode().replace("&#x27;", "'")


# --- New session id at login ----------------------------------------------------------------------------


def test_3_a_new_session_id_at_login(client, technicien):
    client.get(reverse("login"))
    session = client.session
    session["avant"] = "connexion"
    session.save()
    before = session.session_key
    response = client.post(reverse("login"), {"username": technicien.username, "password": PASSWORD})
    assert response.status_code == 302
    after = client.session.session_key
    assert after and after != before
    assert not SessionStore().exists(before)  # the old id can no longer be used (session fixation)


# --- Idle timeout ---------------------------------------------------------------------------------------


def test_3_idle_timeout_29_minutes_is_fine_31_minutes_logs_out_with_the_message(client, technicien):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        verified_login(client, technicien)
        assert page(client).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert page(client).status_code == 200
    # Activity counts from the last request: 29 more minutes are fine again…
    with time_machine.travel(start + timedelta(minutes=58), tick=False):
        assert page(client).status_code == 200
    # …31 minutes without a request are not.
    with time_machine.travel(start + timedelta(minutes=89), tick=False):
        response = page(client)
        assert_sent_to_login_with(client, response, IDLE_MESSAGE)
        assert "next=" in response.url
        assert page(client).status_code == 302  # and the session is gone, not only this request


def test_3_idle_timeout_applies_to_the_back_office_too(client):
    agent = UserFactory(agent=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        verified_login(client, agent)
        assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("admin:index"))
        assert_sent_to_login_with(client, response, IDLE_MESSAGE)


def test_3_idle_timeout_is_a_setting(client, technicien, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 10
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        verified_login(client, technicien)
        assert page(client).status_code == 200
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        response = page(client)
        assert_sent_to_login_with(client, response, "Votre session a expiré après 10 minutes d'inactivité")


# --- Absolute lifetime ----------------------------------------------------------------------------------


def test_3_absolute_lifetime_of_12_hours_even_with_activity(client, technicien):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        verified_login(client, technicien)
        for _ in range(12 * 3 - 1):  # a request every 20 minutes for 11 h 40
            traveller.shift(timedelta(minutes=20))
            assert page(client).status_code == 200
        traveller.shift(timedelta(minutes=20, seconds=1))  # 12 h after the login
        response = page(client)
    assert_sent_to_login_with(client, response, "elle dure au plus 12 heures")


def test_3_the_absolute_lifetime_counts_from_the_login_form(client, technicien, settings):
    settings.TECHNICIEN_2FA_REQUIRED = False
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 24 * 60  # only the absolute lifetime here
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client.post(reverse("login"), {"username": technicien.username, "password": PASSWORD})
        traveller.shift(timedelta(hours=11, minutes=59))
        assert client.get(reverse("home")).status_code in (200, 302)
        assert SESSION_KEY in client.session
        traveller.shift(timedelta(minutes=1, seconds=1))
        response = client.get(reverse("home"))
    assert_sent_to_login_with(client, response, "elle dure au plus 12 heures")


# --- Logout everywhere ----------------------------------------------------------------------------------


def test_3_password_change_ends_the_other_sessions_and_keeps_this_one(client, technicien):
    other = verified_login(Client(), technicien)
    verified_login(client, technicien)
    new = "Un-Tout-Nouveau-Mot-2026"
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert page(client).status_code == 200
    assert page(other).status_code == 302


def test_3_a_password_reset_by_emailed_link_ends_every_session(client, technicien, django_capture_on_commit_callbacks):
    verified_login(client, technicien)
    assert page(client).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        invitations.request_password_reset(technicien.username)
    token = mail.outbox[-1].body.split("/mot-de-passe/nouveau/")[1].split("/")[0]
    invitations.reset_password(token, "Un-Tout-Nouveau-Mot-2026")
    assert page(client).status_code == 302


def test_3_inactivation_ends_every_session_and_the_backend_refuses_the_account(client, technicien):
    other = verified_login(Client(), technicien)
    verified_login(client, technicien)
    services.inactivate_account(technicien, reason=InactivationReason.LEFT_STRUCTURE)
    assert page(client).status_code == 302
    assert page(other).status_code == 302
    response = Client().post(reverse("login"), {"username": technicien.username, "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in response.wsgi_request.session


# --- Notifications --------------------------------------------------------------------------------------


def test_3_password_change_is_notified_by_email(client, technicien, django_capture_on_commit_callbacks):
    verified_login(client, technicien)
    new = "Un-Tout-Nouveau-Mot-2026"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert mail.outbox[-1].to == [technicien.email]
    assert "mot de passe" in mail.outbox[-1].subject


def test_3_email_change_is_notified_to_the_old_address_with_a_reference_only(django_capture_on_commit_callbacks):
    agent = UserFactory(agent=True)
    partenaire = partner_with_access(caisse=agent.caisse, member_count=13).convention_metier.partenaire
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    asking = UserFactory(gestionnaire=True, partenaire=partenaire, username="g1", email="g1@structure.example")
    target = UserFactory(
        gestionnaire=True,
        partenaire=partenaire,
        username="g2",
        email="ancienne@structure.example",
        first_name="Héloïse",
        last_name="Vandenbroucke",
    )
    demand = habilitations.request_gestionnaire_modification(
        target, {"email": "nouvelle@structure.example"}, requested_by=asking
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        habilitations.apply_gestionnaire_request(demand, actor=agent)
    notices = [message for message in mail.outbox if message.to == ["ancienne@structure.example"]]
    assert len(notices) == 1
    notice = notices[0]
    assert "adresse email" in notice.subject
    assert "g2" in notice.body and "http://" in notice.body
    for personal in ("nouvelle@structure.example", "Héloïse", "Vandenbroucke", partenaire.name):
        assert personal not in notice.body and personal not in notice.subject
    assert not any("nouvelle@structure.example" in message.to for message in mail.outbox if message is notice)


def test_3_a_change_without_a_new_email_sends_no_email_notice(django_capture_on_commit_callbacks):
    agent = UserFactory(agent=True)
    partenaire = partner_with_access(caisse=agent.caisse, member_count=13).convention_metier.partenaire
    asking = UserFactory(gestionnaire=True, partenaire=partenaire, username="g1")
    target = UserFactory(gestionnaire=True, partenaire=partenaire, username="g2", job_title="Adjoint")
    demand = habilitations.request_gestionnaire_modification(target, {"job_title": "Directrice"}, requested_by=asking)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        habilitations.apply_gestionnaire_request(demand, actor=agent)
    assert not [message for message in mail.outbox if "adresse email" in message.subject]


# --- Cookies in production ------------------------------------------------------------------------------


def production(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "x" * 20 + "-production-like-secret-key-for-the-check-" + "y" * 20,
            "DJANGO_ALLOWED_HOSTS": "portail.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_3_cookies_are_secure_httponly_samesite_in_production():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_SAMESITE",
        "SESSION_COOKIE_AGE",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
        "SESSION_IDLE_TIMEOUT_MINUTES",
        "SECURE_SSL_REDIRECT",
    ]
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = production("shell", "-c", script)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 12 * 3600,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_IDLE_TIMEOUT_MINUTES": 30,
        "SECURE_SSL_REDIRECT": True,
    }
    deploy = production("check", "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode == 0, deploy.stderr


def test_3_the_session_cookie_carries_the_flags_on_a_real_login(client, technicien, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.post(reverse("login"), {"username": technicien.username, "password": PASSWORD}, secure=True)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"]  # ends with the browser; the server ends it after 30 min idle or 12 h
