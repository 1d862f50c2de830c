"""P4: the journal entries the database writes itself (`core.audit.entries_sql`, the jobs' batches) are the
ones `record` writes: same action, author, run, target and label — the label computed in SQL."""

import pytest

from accounts.models import User
from conventions.models import ConventionMetier, ConventionUtilisation
from core import audit, audit_context
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conventions.factories import ConventionUtilisationFactory

pytestmark = pytest.mark.django_db
FIELDS = ("action", "actor", "ip", "run_id", "target_type", "target_id", "target_label", "details")


def same_as_record(action, target, **kwargs):
    one = audit.record(action, target=target, **kwargs)
    queryset = type(target).objects.filter(pk=target.pk)
    assert audit.record_from_query(action, queryset, **kwargs) == 1
    written = JournalEntry.objects.exclude(pk=one.pk).get(
        action=action, target_type=one.target_type, target_id=str(target.pk)
    )
    assert [getattr(written, name) for name in FIELDS] == [getattr(one, name) for name in FIELDS]
    return written


def test_p4_an_account_is_labelled_by_its_number_in_sql_too():
    user = UserFactory(first_name="Léa", last_name="Fontaine")
    with audit_context.job_run("bench", "run-42"):
        entry = same_as_record(Action.ACCOUNT_PURGED, user, details={"motif": "test"})
    assert (entry.target_label, entry.run_id, entry.details) == (f"Compte n° {user.pk}", "run-42", {"motif": "test"})


def test_p4_conventions_are_labelled_as_their_str_in_sql_too():
    utilisation = ConventionUtilisationFactory(convention_metier__partenaire__name="Maison d'accueil — Sud")
    actor = UserFactory()
    same_as_record(Action.CONVENTION_ENDED, utilisation.convention_metier, actor=actor)
    entry = same_as_record(Action.CONVENTION_ENDED, utilisation, actor=actor)
    assert entry.target_label == str(ConventionUtilisation.objects.get(pk=utilisation.pk))


def test_p4_one_query_whatever_the_number_of_rows(django_assert_num_queries):
    UserFactory.create_batch(5)
    count = User.objects.count()
    with django_assert_num_queries(1):
        assert audit.record_from_query(Action.ACCOUNT_PURGED, User.objects.all()) == count
    with django_assert_num_queries(0):
        assert audit.record_from_query(Action.CONVENTION_ENDED, ConventionMetier.objects.none()) == 0
