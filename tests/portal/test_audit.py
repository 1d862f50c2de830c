"""P4: the audit journal is append-only and records logins and failures."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core import audit
from core.models import Action, AppendOnlyError, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conventions.factories import PartenaireFactory

pytestmark = pytest.mark.django_db


def test_p4_record_keeps_actor_target_and_ip(rf):
    user = UserFactory()
    partenaire = PartenaireFactory()
    request = rf.get("/", REMOTE_ADDR="192.0.2.10")
    request.user = user
    entry = audit.record(Action.PARTENAIRE_CHANGED, target=partenaire, request=request)
    entry.refresh_from_db()
    assert entry.actor == user
    assert (entry.target_type, entry.target_id) == ("conventions.partenaire", str(partenaire.pk))
    assert entry.target_label == partenaire.name
    assert entry.ip == "192.0.2.10"
    assert entry.at is not None


def test_p4_journal_rows_cannot_be_changed_or_deleted_through_django():
    entry = audit.record(Action.LOGIN_FAILED, details={"identifiant": "x"})
    entry.action = Action.LOGIN
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).update(action=Action.LOGIN)
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.action == Action.LOGIN_FAILED


def test_p4_postgresql_refuses_update_and_delete_in_sql():
    entry = audit.record(Action.LOGIN_FAILED)
    for sql in (
        "UPDATE portal_journalentry SET action = 'login' WHERE id = %s",
        "DELETE FROM portal_journalentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert JournalEntry.objects.filter(pk=entry.pk, action=Action.LOGIN_FAILED).exists()


def test_p4_login_and_login_failure_are_journaled(client):
    user = UserFactory(username="lea.fontaine")
    client.post(reverse("login"), {"username": "lea.fontaine", "password": "mauvais"}, REMOTE_ADDR="198.51.100.7")
    failure = JournalEntry.objects.get(action=Action.LOGIN_FAILED)
    assert (failure.target_type, failure.target_id) == ("accounts.user", str(user.pk))
    assert failure.target_label == f"Compte n° {user.pk}"  # no name in a journal that never changes (A15)
    assert failure.ip == "198.51.100.7"
    assert "mauvais" not in str(failure.details)

    client.post(reverse("login"), {"username": "Mot-De-Passe-Tapé-Ici", "password": "x"})
    unknown = JournalEntry.objects.filter(action=Action.LOGIN_FAILED).exclude(pk=failure.pk).get()
    assert unknown.details == {"inconnu": True} and unknown.target_id == ""

    client.post(reverse("login"), {"username": "lea.fontaine", "password": "Un-mot-de-passe-solide-1"})
    assert JournalEntry.objects.filter(action=Action.LOGIN, actor=user).exists()
    client.post(reverse("logout"))
    assert JournalEntry.objects.filter(action=Action.LOGOUT, actor=user).exists()


def test_p4_record_many_writes_what_record_writes_in_one_query(rf, django_assert_num_queries):
    user = UserFactory()
    partenaires = PartenaireFactory.create_batch(3)
    request = rf.get("/", REMOTE_ADDR="192.0.2.10")
    request.user = user
    one = audit.record(Action.PARTENAIRE_CHANGED, target=partenaires[0], request=request, details={"n": 0})
    with django_assert_num_queries(1):
        many = audit.record_many(
            Action.PARTENAIRE_CHANGED, partenaires, request=request, details=lambda p: {"n": partenaires.index(p)}
        )
    fields = ("action", "actor", "ip", "target_type", "target_id", "target_label", "details")
    rows = list(JournalEntry.objects.filter(pk__in=[entry.pk for entry in many]).order_by("pk"))
    assert [getattr(rows[0], name) for name in fields] == [getattr(one, name) for name in fields]
    assert [entry.details for entry in rows] == [{"n": 0}, {"n": 1}, {"n": 2}]
    with django_assert_num_queries(0):
        assert audit.record_many(Action.PARTENAIRE_CHANGED, []) == []
