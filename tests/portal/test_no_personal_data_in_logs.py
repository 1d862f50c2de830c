"""D3, D4, P4 — no personal data in logs or emails.

Every portal form (and the agent's answer) is filled with a recognisable NIR (valid key, typed with spaces),
a recognisable password and a recognisable name, refused and accepted variants alike; every logger is set to
DEBUG and captured (the root logger through caplog, the loggers that do not propagate too), and the emails
are taken from the outbox. Then:

- no log record (message, arguments, extra attributes, exception text) holds the NIR in any spacing (nor its
  13 first digits), the password, or the name (any case, with or without accents, URL-encoded);
- the audit journal holds none of them either (accounts are named by number);
- no email holds the NIR or the password; an email about a request carries its reference and a link, never
  the insured's name, first name or birth date; the name may appear in an account email only when it is the
  addressee's own name.
"""

import logging
import re
import traceback
import uuid
from datetime import timedelta
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import invitations
from accounts.models import CGU, AccountState, TokenPurpose, User
from core.models import JournalEntry
from core.text import fold
from requests_app.models import Demande, DemandeKind, PieceJointe
from tests.accounts.factories import UserFactory
from tests.conftest import verified_login
from tests.portal.test_fuzz_forms import DOMAIN, VALID_NIR, build_world, signed_in, tiny_pdf
from tests.requests_app import files

pytestmark = pytest.mark.django_db

NIR = VALID_NIR  # "2 91 07 75 123 456 52"
NIR_DIGITS = re.sub(r"\D", "", NIR)
PASSWORD = "Mot-De-Passe-Témoin-42"
NAME = "Témoinnom"  # the insured person's name (requests, free texts, searches)
FIRST_NAME = "Témoinprénom"
BIRTH_DATE = "1961-07-23"
ACCOUNT_NAME = "Témoincompte"  # an account holder's name (identity forms, the accounts that sign in)


def variants(*secrets: str) -> set[str]:
    return {v for s in secrets for v in (s, fold(s), quote(s), quote_plus(s), s.encode().hex())}


SECRETS = {
    "NIR": set(),
    "password": variants(PASSWORD),
    "insured name": variants(NAME, FIRST_NAME),
    "account name": variants(ACCOUNT_NAME),
}


def leaks(text: str, *, ignore=()) -> list[str]:
    """Which secrets `text` holds: the NIR in any spacing (also without its key), the password, the names."""
    found = []
    if "NIR" not in ignore and NIR_DIGITS[:13] in re.sub(r"[\s.\-_/\u00a0\u202f]", "", text):
        found.append("NIR")
    lowered, folded = text.lower(), fold(text)
    for secret, spellings in SECRETS.items():
        if secret not in ignore and any(v.lower() in lowered or v in folded for v in spellings):
            found.append(secret)
    return found


def _around(text: str) -> str:
    """The first line of the record and the text around the first secret found."""
    lowered, first = text.lower(), text.split("\n", 2)[:2]
    markers = (NAME, FIRST_NAME, ACCOUNT_NAME, PASSWORD, NIR, fold(NAME), fold(ACCOUNT_NAME))
    positions = [lowered.find(v.lower()) for v in markers if v.lower() in lowered]
    at = min(positions) if positions else 0
    return f"{' | '.join(first)} … {text[max(0, at - 150) : at + 80]}"


STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception:  # noqa: BLE001 — a record whose arguments do not fit its message is still checked
        parts.append("(message illisible)")
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    for attribute in ("exc_text", "stack_info"):
        if getattr(record, attribute, None):
            parts.append(str(getattr(record, attribute)))
    for name, value in vars(record).items():
        if name not in STANDARD_ATTRIBUTES:
            parts.append(f"{name}={value!r}")
    return "\n".join(parts)


@pytest.fixture
def every_log(caplog):
    """Every logger at DEBUG, captured: the root logger through caplog, and the loggers that do not propagate."""
    caplog.set_level(logging.DEBUG)
    named = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in named:
        caplog.set_level(logging.DEBUG, logger=logger.name)
    silent = [logger for logger in named if not logger.propagate]
    disabled = [logger for logger in named if logger.disabled]
    for logger in silent:
        logger.addHandler(caplog.handler)
    for logger in disabled:
        logger.disabled = False
    yield caplog
    for logger in silent:
        logger.removeHandler(caplog.handler)
    for logger in disabled:
        logger.disabled = True


def all_emails() -> list[dict]:
    """Sent emails, and the outbox's rows (an email written but not yet sent is checked the same)."""
    emails = [
        {"subject": message.subject, "body": message.body, "to": list(message.to), "sent": True}
        for message in mail.outbox
    ]
    try:
        outbox = apps.get_model("portal", "OutboxEmail")
    except LookupError:
        return emails
    emails += [
        {"subject": row.subject, "body": row.body, "to": row.recipients.split("\n"), "sent": False}
        for row in outbox.objects.all()
    ]
    return emails


def fill_every_form(world, django_capture_on_commit_callbacks):
    """Drive every form with the NIR, the password and the name; returns the requests filed."""
    anonymous = Client()
    witness = UserFactory(partenaire=world.partenaire, last_name=ACCOUNT_NAME, email=f"temoin@{DOMAIN}")
    witness.set_password(PASSWORD)
    witness.save()
    with django_capture_on_commit_callbacks(execute=True):
        # Signing in: wrong identifiers, then the right one.
        for username in (NAME, ACCOUNT_NAME, NIR, f"{NAME} {NIR}", witness.username):
            anonymous.post(reverse("login"), {"username": username, "password": PASSWORD})
        anonymous.logout()
        for identifier in (NIR, NAME, ACCOUNT_NAME, witness.email):
            anonymous.post(reverse("password_reset"), {"identifier": identifier})

        # Emailed links: activation and new password, refused then accepted.
        invited = UserFactory(
            partenaire=world.partenaire, state=AccountState.INVITE, last_name=ACCOUNT_NAME, email=f"invite@{DOMAIN}"
        )
        secret = invitations._issue(invited, TokenPurpose.ACTIVATION)
        url = reverse("activate", args=[secret])
        anonymous.post(url, {"new_password1": NIR, "new_password2": NIR})
        anonymous.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD + ACCOUNT_NAME})
        anonymous.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
        secret = invitations._issue(world.other_gestionnaire, TokenPurpose.RESET)
        Client().post(
            reverse("password_reset_confirm", args=[secret]), {"new_password1": PASSWORD, "new_password2": PASSWORD}
        )

        # Signed in: password change, second factor, CGU.
        technicien = signed_in(world.technicien)
        for old in (PASSWORD, "Un-mot-de-passe-solide-1"):
            technicien.post(
                reverse("password_change"), {"old_password": old, "new_password1": PASSWORD, "new_password2": PASSWORD}
            )
        world.technicien.refresh_from_db()  # its new password: a session of the old one ends
        verified_login(technicien, world.technicien)
        TOTPDevice.objects.create(user=world.gestionnaire, name="Téléphone", confirmed=True)
        unverified = Client()
        unverified.force_login(world.gestionnaire)
        for code in (NIR, PASSWORD, ACCOUNT_NAME):
            unverified.post(reverse("two_factor_verify"), {"code": code})
        enrolling = Client()
        enrolling.force_login(witness)
        enrolling.post(reverse("two_factor_setup"), {"code": NIR})
        CGU.objects.create(version="témoin", body="Texte", published_at=timezone.now() - timedelta(minutes=1))
        technicien.post(reverse("cgu"), {"accept": "on", "commentaire": f"{NAME} {NIR}"})
        CGU.objects.update(published_at=timezone.now() + timedelta(days=365))  # not in force for what follows

        # The gestionnaire's forms.
        gestionnaire = signed_in(world.gestionnaire)
        identity = {
            "civilite": "mme",
            "last_name": ACCOUNT_NAME,
            "first_name": "Camille",
            "job_title": NIR,
            "phone": NIR,
            "email": f"temoin.{uuid.uuid4().hex[:6]}@{DOMAIN}",
        }
        gestionnaire.post(reverse("technicien_create"), identity)
        gestionnaire.post(reverse("technicien_create"), {**identity, "job_title": "Conseillère", "phone": "0320000000"})
        gestionnaire.post(reverse("habilitation_request"), {**identity, "email": f"h.temoin@{DOMAIN}"})
        target = UserFactory(partenaire=world.partenaire, attached_to=world.gestionnaire)
        url = reverse("technicien_inactivate", args=[target.pk])
        gestionnaire.post(url, {"reason": "other", "comment": f"{NAME} {NIR}"})
        gestionnaire.post(url, {"reason": "other", "comment": f"Départ de {ACCOUNT_NAME}"})
        url = reverse("gestionnaire_modification", args=[world.other_gestionnaire.pk])
        gestionnaire.post(url, {"last_name": ACCOUNT_NAME, "job_title": NIR, "phone": NIR, "email": f"{NAME}@{DOMAIN}"})
        gestionnaire.post(url, {"last_name": ACCOUNT_NAME, "job_title": "Directrice", "phone": "", "email": ""})
        url = reverse("gestionnaire_inactivation", args=[world.other_gestionnaire.pk])
        gestionnaire.post(url, {"wanted_on": NIR})
        gestionnaire.post(url, {"wanted_on": (timezone.localdate() + timedelta(days=20)).isoformat()})
        for description in (
            f"{ACCOUNT_NAME} a perdu ses identifiants, NIR {NIR}",
            f"{ACCOUNT_NAME} a perdu ses identifiants",
        ):
            gestionnaire.post(
                reverse("incident_report"),
                {"account": str(world.technicien.pk), "kind": "loss", "description": description},
            )

        # The technicien's forms: the five requests (refused with the NIR, then filed), the reply, the history.
        slot = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
        kind_fields = {
            DemandeKind.CONTACT: {},
            DemandeKind.ETUDE_DOSSIER: {"dossier_type": "autre", "dossier_other": NIR},
            DemandeKind.SIGNALEMENT: {"nature": "autre", "urgency": "urgente"},
            DemandeKind.RENDEZ_VOUS: {"reason": NIR, "modality": "visio", "slot_1": slot, "worker_attends": "oui"},
            DemandeKind.DOCUMENT: {"document_type": "autre", "document_other": NIR, "delivery": "partenaire"},
        }
        technicien = signed_in(world.technicien)
        for kind, extra in kind_fields.items():
            url = reverse("demande_new", args=[world.caisse.pk, kind])
            insured = {
                "assure_civilite": "mme",
                "assure_last_name": NAME,
                "assure_first_name": FIRST_NAME,
                "assure_birth_date": BIRTH_DATE,
                "assure_departement": "59",
                "form_token": str(uuid.uuid4()),
            }
            named_file = files.upload(f"{NAME} {NIR}.pdf", tiny_pdf(), "application/pdf")
            infected = files.upload(f"{NAME}.pdf", files.pdf_with_eicar(), "application/pdf")
            technicien.post(url, {**insured, **extra, "message": f"{NAME}, NIR {NIR}", "files": [named_file, infected]})
            cleaned = {name: ("Précision" if value == NIR else value) for name, value in extra.items()}
            technicien.post(url, {**insured, **cleaned, "message": f"Merci de rappeler {NAME}."})
        demande = Demande.objects.filter(assure_last_name=NAME).first()
        assert demande is not None, "no request was filed: the test would prove nothing"
        url = reverse("demande_reply", args=[demande.reference])
        for body in (f"NIR de {NAME} : {NIR}", f"Complément pour {NAME}"):
            technicien.post(url, {"body": body, "form_token": str(uuid.uuid4())})
        for query in (NAME, NIR, FIRST_NAME):
            technicien.get(reverse("demandes"), {"q": query})
            b"".join(technicien.get(reverse("demandes_export"), {"q": query}).streaming_content)
        piece = PieceJointe.objects.filter(demande=demande).first()
        if piece is not None:
            b"".join(technicien.get(reverse("piece_download", args=[demande.reference, piece.pk])).streaming_content)

        # The caisse answers (the partner is told by email) and changes the state of another request.
        agent = signed_in(world.agent)
        action = f"/admin/requests_app/demande/{demande.pk}/action/repondre/"
        agent.post(action, {"body": f"Réponse pour {NAME} ({NIR})", "new_state": "en_cours"})
        agent.post(action, {"body": f"Réponse pour {NAME}", "new_state": "en_cours"})
        agent.get(f"/admin/requests_app/demande/{demande.pk}/change/")
        other = Demande.objects.filter(assure_last_name=NAME).exclude(pk=demande.pk).first()
        if other is not None:
            agent.post(
                f"/admin/requests_app/demande/{other.pk}/action/repondre/",
                {"body": "Note", "internal": "on", "new_state": "traitee"},
            )
    return Demande.objects.filter(assure_last_name=NAME)


@pytest.fixture
def world(db, private_media, health_lexicon, clamd_address):
    world = build_world()
    world.partenaire.notification_email = f"structure@{DOMAIN}"
    world.partenaire.save()
    return world


def log_leaks(records, **kwargs) -> list[str]:
    found = []
    for record in records:
        text = record_text(record)
        problems = leaks(text, **kwargs)
        if problems:
            found.append(f"{record.name} {record.levelname} {problems}: {_around(text)!r}")
    return found


def test_p4_no_nir_password_or_insured_name_in_any_log_record_or_the_journal(
    world, every_log, django_capture_on_commit_callbacks
):
    demandes = fill_every_form(world, django_capture_on_commit_callbacks)
    assert demandes.count() >= 5, "the five requests were not all filed: fewer forms were really exercised"
    assert len(every_log.records) > 50, "hardly anything was logged: the capture does not work"
    found = log_leaks(every_log.records, ignore={"account name"})
    assert not found, "\n".join(found)
    for entry in JournalEntry.objects.all():
        text = f"{entry.target_label} {entry.details} {entry.target_id}"
        assert not leaks(text), (entry.action, text)  # accounts too: the journal names them by number


def test_p4_no_account_holder_name_in_any_log_record(world, every_log, django_capture_on_commit_callbacks):
    """Every logger at DEBUG: Django's 'django.template' logger wrote, for each failed variable lookup, a
    traceback whose text is the whole template context (« 'account': <User: Prénom Nom (login)> »)."""
    fill_every_form(world, django_capture_on_commit_callbacks)
    found = log_leaks(every_log.records)
    assert not found, "\n".join(found)


def test_d7_emails_carry_a_reference_and_a_link_never_the_insured(world, every_log, django_capture_on_commit_callbacks):
    demandes = fill_every_form(world, django_capture_on_commit_callbacks)
    emails = all_emails()
    references = set(demandes.values_list("reference", flat=True))
    about_requests = [email for email in emails if any(ref in email["subject"] + email["body"] for ref in references)]
    assert about_requests, "the agent's answer sent no email to the partner: nothing to check"
    problems = []
    for email in emails:
        text = f"{email['subject']}\n{email['body']}"
        addressees = User.objects.filter(email__in=email["to"])
        own_name = any(ACCOUNT_NAME in user.get_full_name() for user in addressees)
        for problem in leaks(text, ignore={"account name"} if own_name and email not in about_requests else ()):
            problems.append(f"{problem} in the email to {email['to']}: {email['subject']!r}")
        if email in about_requests:
            reference = next(ref for ref in references if ref in text)
            if f"/demandes/{reference}/" not in email["body"]:
                problems.append(f"no link to {reference} in {email['subject']!r}")
            for detail in (BIRTH_DATE, "23/07/1961", "Merci de rappeler", "Réponse pour", "Précision"):
                if detail in text:
                    problems.append(f"{detail!r} (the request's content) in the email about {reference}")
    assert not problems, "\n".join(problems)


def test_p4_passwords_never_reach_the_sql_even_with_query_logging_on(
    world, every_log, django_capture_on_commit_callbacks
):
    """With the SQL log on (DEBUG-level query logging), the password typed in each form is never in a query:
    only its hash is stored or compared."""
    connection.force_debug_cursor = True
    try:
        fill_every_form(world, django_capture_on_commit_callbacks)
    finally:
        connection.force_debug_cursor = False
    queries = [record for record in every_log.records if record.name == "django.db.backends"]
    assert queries, "no query was logged: the check would prove nothing"
    assert not [record_text(q)[:300] for q in queries if "password" in leaks(record_text(q))]


def test_p4_the_sql_log_stays_off_in_the_configuration():
    """The queries (with their parameters: names, searches) are never logged by the configured logging."""
    assert settings.LOGGING["loggers"]["django.db.backends"]["level"] in {"WARNING", "ERROR", "CRITICAL"}


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("NIR 2 91 07 75 123 456 52.", "NIR"),
        ("291077512345652", "NIR"),
        ("2.91.07.75.123.456", "NIR"),
        ("2-91-07-75-123-456-52", "NIR"),
        ("MOT-DE-PASSE-TÉMOIN-42", "password"),
        ("Mot-De-Passe-T%C3%A9moin-42", "password"),
        ("recherche : temoinnom", "insured name"),
        ("q=T%C3%A9moinnom", "insured name"),
        ("TÉMOINPRÉNOM", "insured name"),
        ("<User: Camille Témoincompte (camille.temoincompte)>", "account name"),
    ],
)
def test_the_detector_finds_each_secret_in_any_spelling(text, secret):
    assert secret in leaks(text)
    assert not leaks("Demande EP-26-7K3M-9QXA : https://portail.example/demandes/EP-26-7K3M-9QXA/")


def test_p4_error_reports_to_admins_carry_neither_the_posted_data_nor_the_code_s_variables(rf, settings):
    """With ADMINS set, Django emails each 500 with the request's POST data and the frames' local variables."""
    settings.ADMINS = [("Exploitation", "exploitation@caisse.example")]
    query = f"?q={quote(NAME)}&prenom={quote(FIRST_NAME)}"
    request = rf.post(
        f"/demandes/nouvelle/{query}",
        {"assure_last_name": NAME, "message": f"NIR {NIR}", "code": PASSWORD},
        HTTP_REFERER=f"http://testserver/demandes/{query}",
    )
    request.user = UserFactory(last_name=ACCOUNT_NAME)

    def view(nir=NIR, name=NAME):  # what a failing view holds
        raise RuntimeError("panne")

    with pytest.raises(RuntimeError) as failure:
        view()
    logging.getLogger("django.request").error(
        "Internal Server Error: %s",
        request.path,
        exc_info=(failure.type, failure.value, failure.tb),
        extra={"status_code": 500, "request": request},
    )
    assert len(mail.outbox) == 1, "no error report was emailed: nothing checked"
    report = mail.outbox[0].body
    assert "assure_last_name" in report and "prenom" in report and "panne" in report  # names, not values
    assert not leaks(report), leaks(report)
    assert f"compte n° {request.user.pk}" in report
