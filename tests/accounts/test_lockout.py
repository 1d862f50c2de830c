"""A13, ASVS V2: django-axes locks the login after repeated failures, per account and per address.

The French lockout page (HTTP 429) never says whether the account exists; the audit journal still
records every failure; a success forgets its own account's failures only.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from core.audit_context import client_ip
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Un-mot-de-passe-solide-1"
WRONG = "Pas-le-bon-mot-de-passe-1"
LOCKED_TITLE = "Connexion temporairement bloquée"


def attempt(client, username, password=WRONG, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def fail(client, username, times, **extra):
    responses = [attempt(client, username, **extra) for _ in range(times)]
    return responses[-1]


def is_logged_in(client) -> bool:
    return SESSION_KEY in client.session


def text(response) -> str:
    """The page without what changes at every response (the CSP nonce)."""
    return re.sub(r'nonce="[^"]*"', "", response.content.decode())


@pytest.fixture
def user():
    return UserFactory(username="lea.fontaine")


def test_3_lockout_after_5_bad_passwords_for_one_account(client, user):
    for _ in range(4):
        response = attempt(client, user.username)
        assert response.status_code == 200
        assert "Identifiant ou mot de passe incorrect" in response.content.decode()
    response = attempt(client, user.username)
    assert response.status_code == 429
    body = response.content.decode().replace("&#x27;", "'")
    assert LOCKED_TITLE in body
    assert "Patientez 15 minutes" in body
    assert "gestionnaire de votre structure ou votre caisse" in body
    assert user.username not in body
    assert response["Content-Security-Policy"] and response["X-Frame-Options"] == "DENY"


def test_3_while_locked_even_the_right_password_is_refused(client, user):
    fail(client, user.username, 5)
    response = attempt(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert LOCKED_TITLE in response.content.decode()
    assert not is_logged_in(client)
    # From another address too: the account itself is locked.
    response = attempt(Client(REMOTE_ADDR="192.0.2.50"), user.username, PASSWORD)
    assert response.status_code == 429


def test_3_the_lockout_page_never_says_whether_the_account_exists(client, user):
    known = fail(Client(REMOTE_ADDR="192.0.2.1"), user.username, 5)
    unknown = fail(Client(REMOTE_ADDR="192.0.2.2"), "personne.inconnue", 5)
    assert known.status_code == unknown.status_code == 429
    assert text(known) == text(unknown)


def test_3_the_lockout_ends_after_the_cool_off_of_15_minutes(client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, user.username, 5)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert attempt(client, user.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        response = attempt(client, user.username, PASSWORD)
        assert response.status_code == 302
        assert is_logged_in(client)


def test_3_tries_during_the_lockout_do_not_lengthen_it(client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, user.username, 5)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        fail(client, user.username, 3)
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert attempt(client, user.username, PASSWORD).status_code == 302


def test_3_failure_limit_and_cool_off_are_settings(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    assert fail(client, user.username, 2).status_code == 200
    response = attempt(client, user.username)
    assert response.status_code == 429
    assert "Patientez 30 minutes" in response.content.decode()


def test_3_lockout_per_address_across_accounts(user):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(5):
        last = attempt(attacker, f"compte.{n}")
    assert last.status_code == 429
    # The same address is refused for any other account, even with its right password…
    assert attempt(attacker, user.username, PASSWORD).status_code == 429
    # …while that account still logs in from elsewhere.
    elsewhere = Client(REMOTE_ADDR="198.51.100.20")
    assert attempt(elsewhere, user.username, PASSWORD).status_code == 302
    assert is_logged_in(elsewhere)


def test_3_a_success_resets_the_accounts_failures(client, user):
    fail(client, user.username, 4)
    assert attempt(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, user.username, 4).status_code == 200
    assert attempt(client, user.username, PASSWORD).status_code == 302


def test_3_a_success_on_another_account_does_not_reset_the_count_against_this_one(user):
    """One's own valid login between guesses must not wipe the failures against someone else's account."""
    attacker_account = UserFactory(username="complice")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    fail(attacker, user.username, 4)
    assert attempt(attacker, attacker_account.username, PASSWORD).status_code == 302
    attacker.post(reverse("logout"))
    response = attempt(Client(REMOTE_ADDR="203.0.113.10"), user.username)
    assert response.status_code == 429


def test_3_failures_and_locked_tries_still_reach_the_audit_journal(client, user):
    fail(client, user.username, 6)
    entries = JournalEntry.objects.filter(action=Action.LOGIN_FAILED, target_id=str(user.pk))
    assert entries.count() == 6


def test_3_the_typed_identifier_is_not_kept_in_clear(client, user):
    """What is typed as identifier may be a password in the wrong field: axes keeps a keyed hash only."""
    attempt(client, "Mon-Mot-De-Passe-Tape-Ici-1")
    kept = list(AccessAttempt.objects.values_list("username", flat=True))
    assert kept and all("Mon-Mot-De-Passe" not in value for value in kept)
    assert "Mon-Mot-De-Passe-Tape-Ici-1" not in str(list(AccessAttempt.objects.values()))


def test_3_behind_the_proxy_the_address_is_the_one_the_proxy_wrote(settings):
    factory = RequestFactory()
    forged = factory.post("/connexion/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    settings.AUDIT_TRUST_X_FORWARDED_FOR = False
    assert client_ip(forged) == "10.0.0.2"
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    assert client_ip(forged) == "203.0.113.7"


def test_3_behind_the_proxy_a_forged_forwarded_for_does_not_escape_the_per_address_lockout(settings, user):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(5):
        response = attempt(proxy, f"compte.{n}", HTTP_X_FORWARDED_FOR=f"198.18.0.{n}, 203.0.113.7")
    assert response.status_code == 429
    assert attempt(proxy, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.18.1.1, 203.0.113.7").status_code == 429
    assert attempt(proxy, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302
