"""A17: two-factor authentication with an authenticator application (TOTP) and single-use backup codes.

Real django-otp devices; the codes are computed as the phone would (RFC 6238) at a time fixed by time-machine.
"""

import json
import re
from base64 import b32decode
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import lifecycle, two_factor
from accounts.permissions import sync_agent_group
from core.models import Action, JournalEntry
from tests.accounts.factories import UserFactory
from tests.conventions.factories import CaisseFactory, PartenaireFactory, partner_with_access

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)
WRONG_INPUTS = [
    "",
    "   ",
    "abcdef",
    "12345",
    "1234567",
    "1" * 50,
    "9" * 200,
    "12 34 5a",
    "１２３４５６",
    "\x00",
    "<b>1</b>",
]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock():
    """Time stands still at START unless a test moves it (codes change every 30 seconds)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def code_at(device, moment=None, steps=0) -> str:
    """The 6 digits the application shows for `device`, `steps` periods after `moment` (default: now)."""
    timestamp = (moment or datetime.now(UTC)).timestamp()
    counter = (int(timestamp) - device.t0) // device.step + device.drift + steps
    return f"{hotp(device.bin_key, counter, digits=device.digits):0{device.digits}d}"


def wrong_code(device) -> str:
    """A 6-digit code that no accepted period (now, before, after) shows."""
    accepted = {code_at(device, steps=s) for s in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def make_request(user):
    """A request with a real session, as the portal's views get it."""
    request = RequestFactory().post("/2fa/", REMOTE_ADDR="192.0.2.7")
    SessionMiddleware(lambda r: None).process_request(request)
    request.session.save()
    request.user = user
    user.otp_device = None
    return request


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = two_factor.start_enrolment(user)
    codes = two_factor.confirm_enrolment(make_request(user), device, code_at(device))
    device.refresh_from_db()
    return device, codes


def journal(action):
    return list(JournalEntry.objects.filter(action=action))


# --- Who must use it ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trait", ["gestionnaire", "agent", "administrateur"])
def test_a17_required_for_caisse_staff_and_gestionnaires(settings, trait):
    settings.TECHNICIEN_2FA_REQUIRED = False
    assert two_factor.is_required(UserFactory(**{trait: True})) is True


@pytest.mark.parametrize("required", [True, False])
def test_a17_required_for_techniciens_by_setting(settings, required):
    settings.TECHNICIEN_2FA_REQUIRED = required
    assert two_factor.is_required(UserFactory()) is required


def test_a17_technicien_setting_is_on_by_default():
    from django.conf import settings

    assert settings.TECHNICIEN_2FA_REQUIRED is True


# --- Enrolment ------------------------------------------------------------------------------------------------


def test_a17_enrolment_reuses_one_unconfirmed_device():
    user = UserFactory(gestionnaire=True)
    first = two_factor.start_enrolment(user)
    second = two_factor.start_enrolment(user)
    assert first.pk == second.pk
    assert first.name == "Application d'authentification"
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert not two_factor.has_confirmed_device(user)


def test_a17_qr_code_is_inline_svg_with_a_text_alternative_and_the_key_is_grouped_by_4():
    device = two_factor.start_enrolment(UserFactory(gestionnaire=True))
    svg = two_factor.qr_code_svg(device)
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-label="QR code à scanner avec votre application' in svg
    assert "<script" not in svg
    secret = two_factor.secret_for_manual_entry(device)
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret)
    assert b32decode(secret.replace(" ", "")) == device.bin_key


def test_a17_enrolment_with_the_right_code_confirms_and_gives_10_backup_codes_once(clock):
    user = UserFactory(gestionnaire=True)
    device = two_factor.start_enrolment(user)
    request = make_request(user)

    codes = two_factor.confirm_enrolment(request, device, code_at(device))

    device.refresh_from_db()
    assert device.confirmed
    assert two_factor.has_confirmed_device(user)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(codes)
    assert request.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    [entry] = journal(Action.TWO_FACTOR_ENABLED)
    assert entry.actor == user
    assert entry.target_id == str(user.pk)
    assert not any(code in json.dumps(entry.details) for code in codes)


def test_a17_enrolment_replaces_previous_backup_codes(clock):
    user = UserFactory(gestionnaire=True)
    old = StaticDevice.objects.create(user=user, name="anciens", confirmed=True)
    old.token_set.create(token="aaaaaaaa")
    _, codes = enrol(user)
    assert StaticDevice.objects.filter(user=user).count() == 1
    assert not StaticToken.objects.filter(token="aaaaaaaa").exists()
    assert StaticToken.objects.filter(device__user=user).count() == len(codes) == 10


def test_a17_wrong_totp_code_is_refused_in_french(clock):
    user = UserFactory(gestionnaire=True)
    device = two_factor.start_enrolment(user)
    bad = wrong_code(device)
    with pytest.raises(ValidationError) as error:
        two_factor.confirm_enrolment(make_request(user), device, bad)
    message = error.value.messages[0]
    assert "n'est pas le bon" in message
    assert "heure" in message
    assert "code affiché en ce moment" in message
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=user).exists()
    [entry] = journal(Action.TWO_FACTOR_FAILED)
    assert bad not in json.dumps(entry.details)
    assert bad not in entry.target_label


@pytest.mark.parametrize("typed", WRONG_INPUTS)
def test_a17_enrolment_refuses_malformed_codes_in_french(clock, typed):
    user = UserFactory(gestionnaire=True)
    device = two_factor.start_enrolment(user)
    with pytest.raises(ValidationError) as error:
        two_factor.confirm_enrolment(make_request(user), device, typed)
    assert "6 chiffres" in error.value.messages[0] or "n'est pas le bon" in error.value.messages[0]
    device.refresh_from_db()
    assert not device.confirmed


def test_a17_no_second_enrolment_without_a_reset(clock):
    user = UserFactory(gestionnaire=True)
    enrol(user)
    with pytest.raises(ValidationError, match="déjà activée"):
        two_factor.start_enrolment(user)


# --- Verification at login ------------------------------------------------------------------------------------


def test_a17_verify_with_the_application_code_then_the_same_code_is_not_replayed(clock):
    user = UserFactory(gestionnaire=True)
    device, _ = enrol(user)
    clock.shift(timedelta(minutes=5))
    request = make_request(user)
    code = code_at(device)

    assert two_factor.verify(request, code) is True
    assert request.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert user.otp_device.pk == device.pk

    clock.shift(timedelta(seconds=5))
    assert two_factor.verify(make_request(user), code) is False


def test_a17_each_backup_code_works_once(clock):
    user = UserFactory(gestionnaire=True)
    device, codes = enrol(user)

    request = make_request(user)
    assert two_factor.verify(request, codes[0]) is True
    assert request.user.otp_device.persistent_id == StaticDevice.objects.get(user=user).persistent_id
    assert two_factor.backup_codes_left(user) == 9

    clock.shift(timedelta(seconds=10))
    assert two_factor.verify(make_request(user), codes[0]) is False

    clock.shift(timedelta(seconds=10))  # past the throttling delay of the failed attempt
    assert two_factor.verify(make_request(user), codes[1].upper()[:4] + " " + codes[1][4:]) is True
    assert two_factor.backup_codes_left(user) == 8


def test_a17_wrong_code_is_journaled_without_the_code(clock):
    user = UserFactory(gestionnaire=True)
    device, _ = enrol(user)
    bad = wrong_code(device)
    request = make_request(user)

    assert two_factor.verify(request, bad) is False

    assert DEVICE_ID_SESSION_KEY not in request.session
    [entry] = journal(Action.TWO_FACTOR_FAILED)
    assert entry.actor == user
    assert entry.ip == "192.0.2.7"
    assert entry.details == {"stage": "login", "reason": "wrong_code", "kind": "totp"}
    assert bad not in json.dumps(entry.details)


def test_a17_repeated_wrong_codes_are_slowed_down(clock):
    user = UserFactory(gestionnaire=True)
    device, _ = enrol(user)
    clock.shift(timedelta(minutes=1))
    assert two_factor.verify(make_request(user), wrong_code(device)) is False

    assert two_factor.retry_after(user, code_at(device)) == 1
    assert two_factor.verify(make_request(user), code_at(device)) is False
    assert journal(Action.TWO_FACTOR_FAILED)[0].details["reason"] == "throttled"

    clock.shift(timedelta(seconds=2))
    assert two_factor.retry_after(user, code_at(device)) == 0
    assert two_factor.verify(make_request(user), code_at(device)) is True


@pytest.mark.parametrize("typed", WRONG_INPUTS)
def test_a17_verify_never_fails_on_odd_input(clock, typed):
    user = UserFactory(gestionnaire=True)
    enrol(user)
    assert two_factor.verify(make_request(user), typed) is False


# --- Reset ----------------------------------------------------------------------------------------------------


def test_a17_gestionnaire_resets_a_technicien_of_its_structure(clock):
    gestionnaire = UserFactory(gestionnaire=True)
    technicien = UserFactory(partenaire=gestionnaire.partenaire)
    enrol(technicien)

    removed = two_factor.reset_two_factor(technicien, actor=gestionnaire)

    assert removed == 2  # the application and the backup codes
    assert not two_factor.has_confirmed_device(technicien)
    assert not StaticToken.objects.filter(device__user=technicien).exists()
    [entry] = journal(Action.TWO_FACTOR_RESET)
    assert entry.actor == gestionnaire
    assert entry.target_id == str(technicien.pk)
    # At the next login the technicien enrols again.
    assert two_factor.start_enrolment(technicien).confirmed is False


def _refused(target, actor, expected):
    enrol(target)
    with pytest.raises(PermissionDenied) as error:
        two_factor.reset_two_factor(target, actor=actor)
    assert expected in str(error.value)
    assert two_factor.has_confirmed_device(target)
    assert not journal(Action.TWO_FACTOR_RESET)


def test_a17_gestionnaire_may_not_reset_a_technicien_of_another_structure(clock):
    _refused(UserFactory(), UserFactory(gestionnaire=True), "techniciens de sa structure")


def test_a17_gestionnaire_may_not_reset_another_gestionnaire(clock):
    gestionnaire = UserFactory(gestionnaire=True)
    _refused(UserFactory(gestionnaire=True, partenaire=gestionnaire.partenaire), gestionnaire, "techniciens")


def test_a17_technicien_may_not_reset_anyone(clock):
    technicien = UserFactory()
    _refused(UserFactory(partenaire=technicien.partenaire), technicien, "Seuls un gestionnaire")


@pytest.mark.parametrize("trait", ["gestionnaire", "technicien", "agent", "administrateur"])
def test_a17_nobody_resets_their_own(clock, trait):
    user = UserFactory(**({trait: True} if trait != "technicien" else {}))
    _refused(user, user, "propre double authentification")


@pytest.mark.parametrize("trait", [{"gestionnaire": True}, {}])
def test_a17_agent_resets_a_partner_account_of_its_caisse(clock, trait):
    convention = partner_with_access()
    agent = UserFactory(agent=True, caisse=convention.convention_metier.caisse)
    target = UserFactory(partenaire=convention.convention_metier.partenaire, **trait)
    enrol(target)
    two_factor.reset_two_factor(target, actor=agent)
    assert not two_factor.has_confirmed_device(target)


def test_a17_agent_of_another_caisse_may_not_reset(clock):
    convention = partner_with_access()
    agent = UserFactory(agent=True, caisse=CaisseFactory())
    target = UserFactory(gestionnaire=True, partenaire=convention.convention_metier.partenaire)
    _refused(target, agent, "partenaires de sa caisse")


def test_a17_agent_may_not_reset_another_agent(clock):
    agent = UserFactory(agent=True)
    _refused(UserFactory(agent=True, caisse=agent.caisse), agent, "partenaires de sa caisse")


def test_a17_administrateur_resets_anyone(clock):
    administrateur = UserFactory(administrateur=True)
    for target in (UserFactory(agent=True), UserFactory(gestionnaire=True, partenaire=PartenaireFactory())):
        enrol(target)
        two_factor.reset_two_factor(target, actor=administrateur)
        assert not two_factor.has_confirmed_device(target)
    assert len(journal(Action.TWO_FACTOR_RESET)) == 2


# --- Pages ----------------------------------------------------------------------------------------------------


def html(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_a17_pages_require_login(client):
    for name in ("two_factor_setup", "two_factor_backup_codes", "two_factor_verify"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_a17_setup_page_explains_shows_the_qr_code_and_the_key(client):
    user = UserFactory(gestionnaire=True)
    client.force_login(user)
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 200
    content = html(response)
    device = TOTPDevice.objects.get(user=user)
    assert "application d'authentification" in content
    assert "<svg" in content and 'role="img"' in content
    assert two_factor.secret_for_manual_entry(device) in content
    assert "Code à 6 chiffres" in content
    assert "no-store" in response["Cache-Control"]


def test_a17_setup_page_journey_to_the_backup_codes_and_on(client, clock):
    user = UserFactory(gestionnaire=True)
    client.force_login(user)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user)

    response = client.post(reverse("two_factor_setup"), {"code": code_at(device), "next": "/contacts/"})

    assert response.status_code == 302
    assert response.url == reverse("two_factor_backup_codes") + "?next=%2Fcontacts%2F"
    page = html(client.get(response.url))
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in page for code in codes)
    assert "J'ai conservé mes codes" in page
    # Shown once: the session no longer holds them.
    again = html(client.get(reverse("two_factor_backup_codes")))
    assert not any(code in again for code in codes)
    assert "ne s'affichent qu'une fois" in again
    response = client.post(reverse("two_factor_backup_codes"), {"next": "/contacts/"})
    assert response.url == "/contacts/"
    assert client.get("/admin/").status_code == 302  # a gestionnaire is no staff, verified or not


def test_a17_setup_page_refuses_a_wrong_code_next_to_the_field_without_keeping_it(client, clock):
    user = UserFactory(gestionnaire=True)
    client.force_login(user)
    client.get(reverse("two_factor_setup"))
    bad = wrong_code(TOTPDevice.objects.get(user=user))
    response = client.post(reverse("two_factor_setup"), {"code": bad})
    assert response.status_code == 200
    content = html(response)
    assert "fr-input-group--error" in content
    assert "Ce code n'est pas le bon" in content
    assert f'value="{bad}"' not in content


@pytest.mark.parametrize("typed", WRONG_INPUTS)
def test_a17_setup_page_never_fails_on_odd_input(client, clock, typed):
    client.force_login(UserFactory(gestionnaire=True))
    response = client.post(reverse("two_factor_setup"), {"code": typed})
    assert response.status_code == 200
    assert "fr-input-group--error" in html(response)


def test_a17_setup_page_with_a_confirmed_device_sends_to_verification(client, clock):
    user = UserFactory(gestionnaire=True)
    enrol(user)
    client.force_login(user)
    response = client.get(reverse("two_factor_setup") + "?next=/contacts/")
    assert response.url == reverse("two_factor_verify") + "?next=%2Fcontacts%2F"


def test_a17_verify_page_without_a_device_sends_to_activation(client):
    client.force_login(UserFactory(gestionnaire=True))
    response = client.get(reverse("two_factor_verify"))
    assert response.url == reverse("two_factor_setup")


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [("/contacts/", "/contacts/"), ("https://pirate.example/", "/"), ("//pirate.example/", "/"), ("", "/")],
)
def test_a17_verify_page_accepts_the_code_and_goes_to_a_safe_next(client, clock, next_url, landing):
    user = UserFactory(gestionnaire=True)
    device, _ = enrol(user)
    clock.shift(timedelta(minutes=1))
    client.force_login(user)
    response = client.post(reverse("two_factor_verify"), {"code": code_at(device), "next": next_url})
    assert response.status_code == 302
    assert response.url == landing
    # Verified: the page now sends straight on.
    assert client.get(reverse("two_factor_verify")).url == "/"


def test_a17_verify_page_accepts_a_backup_code(client, clock):
    user = UserFactory(gestionnaire=True)
    _, codes = enrol(user)
    client.force_login(user)
    response = client.post(reverse("two_factor_verify"), {"code": codes[3]})
    assert response.url == "/"
    assert two_factor.backup_codes_left(user) == 9


def test_a17_verify_page_refuses_a_wrong_code_then_asks_to_wait(client, clock):
    user = UserFactory(gestionnaire=True)
    device, _ = enrol(user)
    clock.shift(timedelta(minutes=1))
    client.force_login(user)
    content = html(client.post(reverse("two_factor_verify"), {"code": wrong_code(device)}))
    assert "Ce code n'est pas le bon" in content
    content = html(client.post(reverse("two_factor_verify"), {"code": code_at(device)}))
    assert "attendez 1 seconde" in content
    assert len(journal(Action.TWO_FACTOR_FAILED)) == 2


@pytest.mark.parametrize("typed", WRONG_INPUTS)
def test_a17_verify_page_never_fails_on_odd_input(client, clock, typed):
    user = UserFactory(gestionnaire=True)
    enrol(user)
    client.force_login(user)
    response = client.post(reverse("two_factor_verify"), {"code": typed})
    assert response.status_code == 200
    assert "fr-input-group--error" in html(response)


# --- Back-office ------------------------------------------------------------------------------------------------


@pytest.fixture
def agent():
    user = UserFactory(agent=True)
    user.groups.add(sync_agent_group())
    return user


def test_a17_admin_login_is_the_portal_login(client):
    response = client.get("/admin/")
    assert response.url == "/admin/login/?next=/admin/"
    response = client.get(response.url)
    assert response.url == reverse("login") + "?next=%2Fadmin%2F"


def test_a17_admin_refuses_a_staff_session_without_the_second_factor(client, agent, clock):
    from django.contrib import admin

    enrol(agent)
    client.force_login(agent)  # password only

    response = client.get(reverse("admin:index"), follow=True)

    # The portal's gate (or the admin's login address) leads to the second step, then back to the admin.
    assert response.redirect_chain[-1][0] == reverse("two_factor_verify") + "?next=%2Fadmin%2F"
    assert response.status_code == 200
    request = make_request(agent)
    request.user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    request.user.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


def test_a17_admin_opens_to_a_verified_staff_session(client, agent, clock):
    device, _ = enrol(agent)
    clock.shift(timedelta(minutes=1))
    client.force_login(agent)
    response = client.post(reverse("two_factor_verify"), {"code": code_at(device), "next": "/admin/"})
    assert response.url == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get("/admin/login/").url == "/admin/"


def test_a17_admin_login_sends_a_partner_home_with_the_reason(client, clock):
    gestionnaire = UserFactory(gestionnaire=True)
    _, codes = enrol(gestionnaire)
    client.force_login(gestionnaire)
    assert client.post(reverse("two_factor_verify"), {"code": codes[0]}).url == "/"
    response = client.get("/admin/login/?next=/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "réservé aux agents des caisses" in html(response)


# --- After a reset: the new device only through the emailed link ------------------------------------------


@pytest.fixture
def emailed(django_capture_on_commit_callbacks):
    """Run an action and send its emails, as its transaction's commit would (the outbox queues on commit)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _reset_and_link(mailoutbox, emailed):
    """A technicien whose second factor its gestionnaire resets; the path of the link it receives."""
    gestionnaire = UserFactory(gestionnaire=True)
    technicien = UserFactory(partenaire=gestionnaire.partenaire)
    enrol(technicien)
    mailoutbox.clear()
    emailed(two_factor.reset_two_factor, technicien, actor=gestionnaire)
    [email] = mailoutbox
    assert email.to == [technicien.email]
    link = re.search(r"/2fa/nouvel-appareil/[^/\s]+/", email.body).group(0)
    return technicien, link


def test_a17_after_a_reset_the_password_alone_enrols_no_device(client, clock, mailoutbox, emailed):
    technicien, _ = _reset_and_link(mailoutbox, emailed)
    client.force_login(technicien)

    page = html(client.get(reverse("two_factor_setup")))
    assert "Ouvrez le lien reçu par email" in page
    assert "<svg" not in page  # no QR code, no key
    assert not TOTPDevice.objects.filter(user=technicien).exists()
    # Even with a device under way (an enrolment page kept open from before the reset) and its right code.
    device = two_factor.start_enrolment(technicien)
    client.post(reverse("two_factor_setup"), {"code": code_at(device)})
    assert not two_factor.has_confirmed_device(technicien)
    with pytest.raises(PermissionDenied, match="lien reçu par email"):
        two_factor.confirm_enrolment(make_request(technicien), device, code_at(device))
    assert not two_factor.has_confirmed_device(technicien)


def test_a17_the_emailed_link_opens_enrolment_and_is_used_by_it(client, clock, mailoutbox, emailed):
    technicien, link = _reset_and_link(mailoutbox, emailed)
    client.force_login(technicien)

    assert client.get(link).url == reverse("two_factor_setup")
    assert "<svg" in html(client.get(reverse("two_factor_setup")))
    device = TOTPDevice.objects.get(user=technicien, confirmed=False)
    client.post(reverse("two_factor_setup"), {"code": code_at(device)})
    assert two_factor.has_confirmed_device(technicien)

    # Used: it opens nothing any more.
    response = client.get(link)
    assert response.status_code == 410
    assert "déjà été utilisé" in html(response)


def test_a17_another_account_cannot_use_the_link(client, clock, mailoutbox, emailed):
    technicien, link = _reset_and_link(mailoutbox, emailed)
    other = UserFactory(partenaire=technicien.partenaire)
    client.force_login(other)
    response = client.get(link)
    assert response.status_code == 410
    assert "n'est pas valide" in html(response)
    assert "Ouvrez le lien reçu par email" not in html(client.get(reverse("two_factor_setup")))  # other: no reset
    client.force_login(technicien)
    assert "Ouvrez le lien reçu par email" in html(client.get(reverse("two_factor_setup")))


def test_a17_the_link_opened_signed_out_leads_to_the_login_then_to_the_new_device(client, clock, mailoutbox, emailed):
    technicien, link = _reset_and_link(mailoutbox, emailed)
    response = client.get(link)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    response = client.post(
        response.url, {"username": technicien.username, "password": "Un-mot-de-passe-solide-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("two_factor_setup")
    assert "<svg" in html(response)


def test_a17_the_link_requirement_outlives_its_expired_link_and_the_cleanup_job(
    client, clock, mailoutbox, emailed, settings
):
    """The hourly job revokes expired links: the account still needs a fresh one, never its password alone."""
    technicien, _ = _reset_and_link(mailoutbox, emailed)
    clock.shift(timedelta(hours=settings.TWO_FACTOR_LINK_TTL_HOURS + 2))
    assert lifecycle.expire_invitations() == 1
    client.force_login(technicien)
    page = html(client.get(reverse("two_factor_setup")))
    assert "Ouvrez le lien reçu par email" in page and "<svg" not in page


def test_a17_an_expired_link_is_replaced_on_request_not_before(client, clock, mailoutbox, settings, emailed):
    technicien, link = _reset_and_link(mailoutbox, emailed)
    client.force_login(technicien)
    mailoutbox.clear()

    emailed(client.post, reverse("two_factor_setup"), {"resend": "1"})
    assert mailoutbox == []  # the link is still valid: no second email

    clock.shift(timedelta(hours=settings.TWO_FACTOR_LINK_TTL_HOURS, seconds=1))
    client.force_login(technicien)  # days later: a new session
    response = client.get(link)
    assert response.status_code == 410 and "a expiré" in html(response)
    emailed(client.post, reverse("two_factor_setup"), {"resend": "1"})
    [email] = mailoutbox
    fresh = re.search(r"/2fa/nouvel-appareil/[^/\s]+/", email.body).group(0)
    assert client.get(fresh).url == reverse("two_factor_setup")
    assert "<svg" in html(client.get(reverse("two_factor_setup")))


def test_a17_an_account_without_email_is_not_reset(clock):
    """The new device needs the emailed link: without an address the account would be locked out for good."""
    gestionnaire = UserFactory(gestionnaire=True)
    _refused(UserFactory(partenaire=gestionnaire.partenaire, email=""), gestionnaire, "pas d'adresse email")
