"""A15: the catalogue of personal data (core.personal_data) covers every stored column that may hold an account
holder's personal data; a new model or column that looks personal and is not in it makes this test fail."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, models, transaction
from django.test import Client
from django.utils import timezone

from accounts import lifecycle, services
from accounts.models import InactivationReason
from core.models import Action, JournalEntry
from core.personal_data import Person, Treatment, catalogue, is_covered, markdown_table
from tests.accounts.factories import UserFactory

# A column's name that suggests identity or free text; email and IP address columns and JSON are always looked at.
LOOKS_PERSONAL = re.compile(
    r"name|mail|phone|login|user|(^|_)ip($|_)|agent|address|title|label|body|text|message|description|comment|"
    r"reason|repr|recipient|notified|signator|representative|grounds|value|data|term|role|place|other|"
    r"signature|city|domain|code|reference|pk|_id$"
)
ALWAYS = (models.EmailField, models.GenericIPAddressField, models.JSONField, models.FileField)


def personal_looking_columns():
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            if field.is_relation:
                if field.related_model is user_model:
                    yield model, field.name
            elif isinstance(field, ALWAYS) or (
                isinstance(field, models.CharField | models.TextField) and LOOKS_PERSONAL.search(field.name)
            ):
                yield model, field.name


def test_a15_every_column_that_may_hold_personal_data_is_in_the_catalogue():
    missing = [
        f"{model._meta.label}.{column}" for model, column in personal_looking_columns() if not is_covered(model, column)
    ]
    assert not missing, f"Absentes du catalogue (core.personal_data), dire ce que la purge en fait : {missing}"


def test_a15_the_catalogue_names_only_existing_models_and_columns():
    labels = {model._meta.label: model for model in apps.get_models(include_auto_created=True)}
    for entry in catalogue():
        assert entry.model in labels, entry.model
        names = {field.name for field in labels[entry.model]._meta.concrete_fields}
        assert entry.columns == ("*",) or set(entry.columns) <= names, (entry.model, entry.columns)


@pytest.mark.parametrize(
    "field",
    [
        models.CharField(max_length=10),
        models.EmailField(),
        models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE),
    ],
)
def test_a15_a_new_model_with_a_personal_column_not_listed_fails_the_walk(field):
    name = (
        "email"
        if isinstance(field, models.EmailField)
        else "nickname"
        if isinstance(field, models.CharField)
        else "owner"
    )
    attrs = {"__module__": "tests.accounts.models", name: field, "Meta": type("Meta", (), {"app_label": "accounts"})}
    model = type(f"Probe{name.title()}", (models.Model,), attrs)
    try:
        found = [(m, column) for m, column in personal_looking_columns() if m is model]
        assert found == [(model, name)]
        assert not is_covered(model, name)
    finally:
        del apps.all_models["accounts"][model._meta.model_name]
        apps.clear_cache()


def test_a15_every_kept_column_says_why():
    for entry in catalogue():
        if entry.treatment in (Treatment.NOT_PERSONAL, Treatment.KEEP_REFERENCE):
            assert entry.reason.strip(), entry
        else:
            assert entry.apply is not None, entry


def test_a15_security_md_shows_the_catalogue_of_the_code():
    text = (Path(settings.BASE_DIR) / "SECURITY.md").read_text(encoding="utf-8")
    shown = text.split("<!-- catalogue A15 : généré par core.personal_data.markdown_table() -->\n")[1]
    shown = shown.split("\n<!-- /catalogue A15 -->")[0]
    assert shown == markdown_table(), "Recopier core.personal_data.markdown_table() dans SECURITY.md"


@pytest.mark.django_db
def test_a15_the_journal_accepts_the_erasure_of_a_label_and_an_address_and_nothing_else():
    entry = JournalEntry.objects.create(action=Action.LOGIN, target_label="Compte n° 7", target_id="7", ip="192.0.2.1")
    for sql in (
        "UPDATE portal_journalentry SET target_label = 'autre' WHERE id = %s",
        "UPDATE portal_journalentry SET ip = '192.0.2.2' WHERE id = %s",
        "UPDATE portal_journalentry SET target_label = '', target_id = '8' WHERE id = %s",
        "DELETE FROM portal_journalentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert JournalEntry.objects.filter(pk=entry.pk).erase_personal(label=True) == 1
    entry.refresh_from_db()
    assert (entry.target_label, entry.ip, entry.target_id, entry.action) == ("", None, "7", Action.LOGIN)


# --- How the purge finds a person in a text -----------------------------------------------------------------


PERSON = Person(
    ids=(1,),
    emails=frozenset({"zoe.quenelle@structure.example"}),
    usernames=frozenset({"zoe.quenelle"}),
    names=frozenset({"Zoé", "Quenelle"}),
    phones=frozenset({"06 12 34 56 78"}),
    full_names=frozenset({"Zoé Quenelle", "Quenelle Zoé"}),
)


@pytest.mark.parametrize(
    ("text", "strong", "expected"),
    [
        ("Bonjour Madame QUENELLE,", False, "Bonjour Madame [compte supprimé],"),
        ("Signé : zoe quenelle.", True, "Signé : [compte supprimé]."),
        ("Écrire à Zoe.Quenelle@structure.example", True, "Écrire à [compte supprimé]"),
        ("courrier-Quenelle.pdf", False, "courrier-[compte supprimé].pdf"),
        ("Tél. +33 6 12 34 56 78 ou 06.12.34.56.78", True, "Tél. [compte supprimé] ou [compte supprimé]"),
        ("Madame Quenelle a appelé", True, "Madame Quenelle a appelé"),  # a name alone: only in the person's rows
        ("Les quenelles de Zoéline", False, "Les quenelles de Zoéline"),  # whole words only
    ],
)
def test_a15_the_purge_finds_the_person_in_a_text_as_a_whole_word_in_any_case(text, strong, expected):
    assert PERSON.matcher(strong=strong).scrub(text) == expected


@pytest.mark.django_db
def test_a15_the_purge_ends_the_sessions_the_account_still_holds(settings):
    settings.SESSION_COOKIE_AGE = 400 * 24 * 3600  # longer than the 6 months: the live sessions are decoded
    account, other = UserFactory(), UserFactory()
    Client().force_login(account)
    Client().force_login(other)
    services.inactivate_account(account, reason=InactivationReason.LEFT_STRUCTURE)
    with time_machine.travel(timezone.now() + timedelta(days=200), tick=False):
        assert lifecycle.purge_inactivated_accounts() == 1
    left = [session.get_decoded().get("_auth_user_id") for session in Session.objects.all()]
    assert left == [str(other.pk)]
