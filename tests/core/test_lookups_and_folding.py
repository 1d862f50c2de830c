"""The purge's helpers at national scale: `field__any` (one array parameter) and the ASCII shortcut of fold()."""

import unicodedata

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.text import fold
from tests.accounts.factories import UserFactory


@pytest.mark.django_db
def test_any_lookup_sends_one_array_and_filters_like_in():
    users = UserFactory.create_batch(3)
    wanted = [users[0].pk, users[2].pk, 10**9]
    with CaptureQueriesContext(connection) as queries:
        found = set(User.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == set(User.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == {users[0].pk, users[2].pk}
    assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]
    assert not User.objects.filter(pk__any=[]).exists()
    # On a text column too.
    assert set(User.objects.filter(username__any=[users[1].username]).values_list("pk", flat=True)) == {users[1].pk}


def _slow_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    without = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without.casefold().translate(str.maketrans({"œ": "oe", "æ": "ae"})).split())


@pytest.mark.parametrize(
    "text",
    ["Jean-Marie.DUPONT@caf.fr", "  a\tb\nc  ", "", "x\x1fy", "ÉLODIE  Lefèvre", "Œdème", "ﬁ ligature", "ß"],
)
def test_fold_is_the_same_with_or_without_its_ascii_shortcut(text):
    assert fold(text) == _slow_fold(text)
    assert fold(None) == ""
