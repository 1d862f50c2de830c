"""P4: the journal knows who acted and from where without being told: the audit context is set once, by the
middleware for a web request and by the job runner for a job, a command or a Celery task."""

from uuid import uuid4

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core import audit, audit_context
from core.audit_context import AuditContextMiddleware
from core.models import Action, JournalEntry
from portal import tasks
from portal.jobs import BY_NAME, JOBS, Job
from tests.accounts.factories import UserFactory
from tests.conftest import celery_configured, verified_login
from tests.conventions.factories import PartenaireFactory

pytestmark = pytest.mark.django_db


def _seen_by_a_view(user, ip):
    """Run the middleware around a view; return what the view saw of the context, and the context after."""
    seen = {}

    def view(request):
        context = audit_context.current()
        seen.update(actor=context.actor, ip=context.ip, run_id=context.run_id)
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    request.user = user
    AuditContextMiddleware(view)(request)
    return seen, audit_context.current()


def test_p4_the_middleware_sets_the_context_for_the_request_and_resets_it_after():
    first, second = UserFactory(), UserFactory()

    seen, after = _seen_by_a_view(first, "203.0.113.1")
    assert seen == {"actor": first, "ip": "203.0.113.1", "run_id": None}
    assert (after.actor, after.ip, after.run_id) == (None, None, None)

    # The next request, another user from another address: nothing of the first one is left.
    seen, after = _seen_by_a_view(second, "203.0.113.2")
    assert seen == {"actor": second, "ip": "203.0.113.2", "run_id": None}
    assert (after.actor, after.ip) == (None, None)


def test_p4_an_anonymous_request_has_no_actor_but_its_address():
    seen, _ = _seen_by_a_view(AnonymousUser(), "203.0.113.3")
    assert seen["actor"] is None and seen["ip"] == "203.0.113.3"


def test_p4_the_middleware_resets_the_context_when_the_view_raises():
    def view(request):
        raise RuntimeError("boom")

    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.4")
    request.user = UserFactory()
    with pytest.raises(RuntimeError):
        AuditContextMiddleware(view)(request)
    assert audit_context.current().ip is None


def test_p4_the_middleware_takes_the_proxy_address_behind_the_proxy(settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    seen = {}

    def view(request):
        seen["ip"] = audit_context.current().ip
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5")
    request.user = AnonymousUser()
    AuditContextMiddleware(view)(request)
    assert seen["ip"] == "203.0.113.5"


def test_p4_a_row_written_by_a_service_called_from_a_view_carries_the_views_user_and_address(client):
    """The page passes neither its user nor its request to the service: the context carries them."""
    partenaire = PartenaireFactory(member_count=5)
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    verified_login(client, gestionnaire)

    assert client.get(reverse("accounts_export"), REMOTE_ADDR="203.0.113.10").status_code == 200

    entry = JournalEntry.objects.get(action=Action.ACCOUNTS_EXPORTED)
    assert (entry.actor, entry.ip, entry.target_id) == (gestionnaire, "203.0.113.10", str(partenaire.pk))


def test_p4_two_requests_in_a_row_journal_each_their_own_user_and_address(client):
    rows = []
    for ip in ("203.0.113.21", "203.0.113.22"):
        gestionnaire = UserFactory(gestionnaire=True, partenaire=PartenaireFactory(member_count=5))
        verified_login(client, gestionnaire)
        client.get(reverse("accounts_export"), REMOTE_ADDR=ip)
        rows.append((gestionnaire, ip))
        client.logout()
    entries = JournalEntry.objects.filter(action=Action.ACCOUNTS_EXPORTED).order_by("id")
    assert [(entry.actor, entry.ip) for entry in entries] == rows


def test_p4_an_explicit_actor_wins_over_the_signed_in_user():
    signed_in, on_behalf = UserFactory(), UserFactory()
    with audit_context.bound(actor=signed_in, ip="203.0.113.30"):
        entry = audit.record(Action.ACCOUNT_CHANGED, actor=on_behalf, target=on_behalf)
    assert (entry.actor, entry.ip) == (on_behalf, "203.0.113.30")


def test_p4_a_job_run_journals_its_run_id_and_no_actor():
    job = Job("essai", "Essai", "tests.core.test_audit_context.journal_twice", JOBS[0].schedule)
    assert job.run() == 2
    first, second = JournalEntry.objects.filter(action=Action.CONSISTENCY_CHECKED).order_by("id")
    assert first.run_id and first.run_id == second.run_id and first.run_id.startswith("essai:")
    assert (first.actor, first.ip) == (None, None)
    # Each run has its own id; outside a run, none.
    job.run()
    assert JournalEntry.objects.filter(action=Action.CONSISTENCY_CHECKED).values("run_id").distinct().count() == 2
    assert audit_context.current().run_id is None


def journal_twice(**kwargs) -> int:
    """A job's service: two journal entries, no actor nor request given."""
    audit.record(Action.CONSISTENCY_CHECKED, details={"n": 1})
    audit.record_many(Action.CONSISTENCY_CHECKED, [], details={})
    audit.record(Action.CONSISTENCY_CHECKED, details={"n": 2})
    return 2


def test_p4_the_celery_task_wrapper_runs_the_job_under_the_tasks_id(monkeypatch):
    monkeypatch.setitem(
        BY_NAME, "essai", Job("essai", "Essai", "tests.core.test_audit_context.journal_twice", JOBS[0].schedule)
    )
    task_id = str(uuid4())
    with celery_configured(task_always_eager=True):
        assert tasks.run_job.apply(args=("essai",), task_id=task_id).get() == 2
    run_ids = set(JournalEntry.objects.filter(action=Action.CONSISTENCY_CHECKED).values_list("run_id", flat=True))
    assert run_ids == {f"essai:{task_id}"}
    assert audit_context.current().run_id is None


def test_p4_the_run_jobs_command_gives_each_job_its_run_id():
    call_command("run_jobs", "coherence")
    entry = JournalEntry.objects.get(action=Action.CONSISTENCY_CHECKED)
    assert entry.run_id.startswith("coherence:") and entry.actor is None
