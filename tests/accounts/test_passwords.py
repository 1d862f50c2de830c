"""A7: activation link, password rules, history, maximum age, forgotten password."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import invitations, services
from accounts.models import AccountState, Profile
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.conventions.factories import DomaineEmailFactory, PartenaireFactory

pytestmark = pytest.mark.django_db
GOOD = "Soleil-Levant-2026"


@pytest.fixture
def invited(django_capture_on_commit_callbacks):
    partenaire = PartenaireFactory()
    DomaineEmailFactory(partenaire=partenaire, domain="structure.example")
    gestionnaire = UserFactory(gestionnaire=True, partenaire=partenaire)
    with django_capture_on_commit_callbacks(execute=True):
        user = services.create_technicien(
            gestionnaire,
            {
                "civilite": "mme",
                "last_name": "Fontaine",
                "first_name": "Léa",
                "job_title": "CESF",
                "phone": "0320000000",
                "email": "lea.fontaine@structure.example",
            },
        )
    return user


def link_in(message) -> str:
    return re.search(r"http://\S+", message.body).group(0)


def test_a7_new_account_receives_a_link_and_chooses_its_password(client, invited):
    assert invited.state == AccountState.INVITE and not invited.has_usable_password()
    (message,) = mail.outbox
    assert message.to == ["lea.fontaine@structure.example"]
    assert invited.username in message.body
    path = link_in(message).replace("http://127.0.0.1:8000", "")
    page = client.get(path)
    assert "Au moins 3 types de caractères" in page.content.decode()
    response = client.post(path, {"new_password1": GOOD, "new_password2": GOOD})
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.state == AccountState.ACTIF and invited.check_password(GOOD)
    assert invited.password_changed_at is not None


def test_a7_link_is_single_use(client, invited):
    path = link_in(mail.outbox[0]).replace("http://127.0.0.1:8000", "")
    client.post(path, {"new_password1": GOOD, "new_password2": GOOD})
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "déjà été utilisé" in response.content.decode()


def test_a7_link_expires_after_72_hours_and_a_new_one_can_be_asked(client, invited, django_capture_on_commit_callbacks):
    path = link_in(mail.outbox[0]).replace("http://127.0.0.1:8000", "")
    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        response = client.get(path)
        assert response.status_code == 410
        assert "a expiré" in response.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(path.rstrip("/") + "/nouveau-lien/")
    assert len(mail.outbox) == 2
    assert client.get(link_in(mail.outbox[1]).replace("http://127.0.0.1:8000", "")).status_code == 200


def test_a7_resending_an_invitation_replaces_the_previous_link(invited, django_capture_on_commit_callbacks):
    first = link_in(mail.outbox[0]).rsplit("/", 2)[-2]
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(invited, actor=invited.created_by)
    with pytest.raises(invitations.TokenError) as error:
        invitations.find_token(first, "activation")
    assert error.value.problem == invitations.TokenProblem.USED


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Court-1a", "trop court"),
        ("toutenminusculeslongues", "au moins 3 types"),
        ("Password1234", "trop courant"),
    ],
)
def test_a7_password_rules_are_enforced_in_french(client, invited, password, message):
    path = link_in(mail.outbox[0]).replace("http://127.0.0.1:8000", "")
    response = client.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert message in response.content.decode().lower()
    invited.refresh_from_db()
    assert invited.state == AccountState.INVITE


def test_a7_the_last_five_passwords_are_refused():
    user = UserFactory(password=GOOD)
    history = [f"Nouveau-Passe-{n}!" for n in range(5)]
    for password in history:
        invitations.set_password(user, password)
    for old in [GOOD, *history]:
        with pytest.raises(ValidationError, match="derniers"):
            invitations.set_password(user, old)
    invitations.set_password(user, "Encore-Un-Autre-7")


@pytest.mark.parametrize(("profile_trait", "days"), [({}, 365), ({"agent": True}, 180)])
def test_a7_expired_password_must_be_changed_before_anything_else(client, profile_trait, days):
    user = UserFactory(password=GOOD, **profile_trait)
    verified_login(client, user)
    user.password_changed_at = timezone.now() - timedelta(days=days - 1)
    user.save()
    assert client.get(reverse("contacts")).status_code == 200
    user.password_changed_at = timezone.now() - timedelta(days=days, minutes=1)
    user.save()
    response = client.get(reverse("contacts"))
    assert response.status_code == 302 and response.url.startswith(reverse("password_expired"))
    assert client.get(reverse("home")).url.startswith(reverse("password_expired"))
    new = "Un-Tout-Nouveau-99"
    response = client.post(
        reverse("password_expired"),
        {"old_password": GOOD, "new_password1": new, "new_password2": new, "next": "/contacts/"},
    )
    assert response.status_code == 302 and response.url == "/contacts/"
    assert client.get(reverse("contacts")).status_code == 200


def test_a7_password_change_notifies_by_email_and_ends_other_sessions(client, django_capture_on_commit_callbacks):
    from django.test import Client

    user = UserFactory(password=GOOD)
    other = verified_login(Client(), user)
    verified_login(client, user)
    new = "Un-Tout-Nouveau-99"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_change"), {"old_password": GOOD, "new_password1": new, "new_password2": new})
    assert client.get(reverse("contacts")).status_code == 200
    assert other.get(reverse("contacts")).status_code == 302
    assert "vient d'être modifié" in mail.outbox[-1].body


def test_a7_forgotten_password_does_not_reveal_whether_an_account_exists(client, django_capture_on_commit_callbacks):
    user = UserFactory(password=GOOD, email="lea@structure.example")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"identifier": user.username})
        unknown = client.post(reverse("password_reset"), {"identifier": "personne.inconnue"})
    assert known.status_code == unknown.status_code == 200
    # The same page, byte for byte, but for the CSP nonce that every response draws anew.
    nonce = re.compile(rb'nonce="[^"]*"')
    assert nonce.sub(b"", known.content) == nonce.sub(b"", unknown.content)
    (message,) = mail.outbox
    path = link_in(message).replace("http://127.0.0.1:8000", "")
    new = "Un-Tout-Nouveau-99"
    assert client.post(path, {"new_password1": new, "new_password2": new}).status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_a7_an_inactivated_account_cannot_reset_its_password(client, django_capture_on_commit_callbacks):
    user = UserFactory(password=GOOD, profile=Profile.TECHNICIEN)
    services.inactivate_account(user, reason="left_structure")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"identifier": user.username})
    assert not [m for m in mail.outbox if "réinitialisation" in m.subject.lower()]
