"""The catalogue of personal data (A15): every column of every stored model that can hold an account holder's
personal data, with what the purge does to it, and the columns that look personal but are not, with why.

Each app declares the entries of its own models (its `personal_data` module, registered by its AppConfig) and
of the third-party models it brings, so that this base imports no app. The purge (`accounts.lifecycle`) walks
the catalogue: each entry applies itself to a batch of accounts in one or two set-based statements; a test walks
`apps.get_models()` and fails on a column that looks personal and is in no entry (tests/accounts/
test_a15_personal_data.py). SECURITY.md shows the catalogue as a table.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL

from .text import fold

NEUTRAL_TEXT = "[compte supprimé]"


class Treatment(Enum):
    DELETE_ROWS = "ligne supprimée"
    ERASE = "effacé (vide)"
    NEUTRAL = "remplacé par une valeur neutre"
    SCRUB = "nom, email, identifiant et téléphone retirés du texte"
    KEEP_REFERENCE = "conservé : renvoie au compte anonymisé"
    NOT_PERSONAL = "non personnel"


@dataclass(frozen=True)
class Person:
    """What identifies the accounts of a batch, gathered before anything is erased: their numbers and every value
    they held (current, past in the history, typed in the requests about them)."""

    ids: tuple[int, ...]
    emails: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # first and last names, each alone
    phones: frozenset[str] = frozenset()
    full_names: frozenset[str] = frozenset()

    def strong(self) -> list[str]:
        """The values that name one person only: emails, identifiers, phones, full names."""
        return self._strong

    def all(self) -> list[str]:
        return self._all

    @cached_property
    def _strong(self) -> list[str]:
        return _variants([*self.emails, *self.usernames, *self.phones, *self.full_names])

    @cached_property
    def _all(self) -> list[str]:
        return _longest_first({*self._strong, *_variants(self.names)})

    def matcher(self, *, strong: bool = False) -> "Matcher":
        return self._strong_matcher if strong else self._matcher

    # Built once per batch (thousands of values), not once per entry of the catalogue.
    @cached_property
    def _matcher(self) -> "Matcher":
        return Matcher(self.all(), self.phones)

    @cached_property
    def _strong_matcher(self) -> "Matcher":
        return Matcher(self.strong(), self.phones)


def _variants(values: Iterable[str]) -> list[str]:
    """Each value as typed, lowercased and folded, longest first (a full name before its parts), blanks and
    one-letter values left out."""
    found = set()
    for value in values:
        value = " ".join((value or "").split())
        if len(value) < 2:
            continue
        found.update({value, value.lower(), fold(value)})
    return _longest_first(found)


def _longest_first(values) -> list[str]:
    return sorted(values, key=lambda value: (-len(value), value))


# Texts are cut into words at spaces and punctuation, also inside emails, identifiers and file names.
SEPARATORS = r"""[\s,;:!?()<>{}\[\]"'«»/\\|=*&#~%$’.@_+-]+"""
_SEPARATORS = re.compile(SEPARATORS)


# A phone as people type it: digits, maybe grouped by spaces, dots or dashes, maybe after a "+".
PHONE_RUN = r"\+?[0-9][0-9 .-]{6,}[0-9]"
_PHONE_RUN = re.compile(PHONE_RUN)


# Between the values sent as one text: a control character no typed value holds (the words are cut at spaces).
LIST_SEPARATOR = "\x1f"


def _digits(phone: str) -> set[str]:
    """A phone's digits, in its national and international forms (06… and 336…)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return set()
    if digits.startswith("0"):
        return {digits, "33" + digits[1:]}
    if digits.startswith("33"):
        return {digits, "0" + digits[2:]}
    return {digits}


def _words(text: str) -> set[str]:
    return {word for word in _SEPARATORS.split((text or "").lower()) if len(word) >= 3}


class Matcher:
    """Finds the person's values in texts, as whole words, whatever the case.

    One regular expression of the thousands of values of a batch costs tens of milliseconds a row in PostgreSQL.
    So the database only picks the candidate rows, those holding a word of a value (each text cut into words
    compared to the list: a hashed `= ANY`) or the digits of a phone; the exact match and the replacement are made
    here, on those few rows, with an expression of the values that share a word with the row."""

    def __init__(self, values: Iterable[str], phones: Iterable[str]):
        typed = {" ".join(phone.split()).lower() for phone in phones}
        self.phones = sorted({digits for phone in phones for digits in _digits(phone)})
        self.by_word: dict[str, set[str]] = {}
        for value in values:
            if value.lower() in typed:
                continue
            # An email by the words of its local part: its domain is the structure's, shared by all its accounts.
            for word in _words(value.split("@")[0]) or {value.lower()}:
                self.by_word.setdefault(word, set()).add(value)

    def __bool__(self) -> bool:
        return bool(self.by_word or self.phones)

    def condition(self, model: type[models.Model], columns: Iterable[str]) -> Q:
        """The candidate rows, in SQL."""
        keys = sorted(self.by_word)
        condition = Q(pk__in=[])
        for column in columns:
            name = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(column)}"
            # The lists go as one text each, cut by string_to_array once per statement (constant): thousands of
            # values dumped as an array for every statement cost more than the statement.
            sql = (
                f"(EXISTS (SELECT 1 FROM regexp_split_to_table(lower({name}), %s) AS w(word) "  # noqa: S608
                f"WHERE w.word = ANY(string_to_array(%s, %s))) OR EXISTS (SELECT 1 FROM regexp_matches({name}, %s, "
                f"'g') AS m(run) WHERE regexp_replace(m.run[1], '[^0-9]', '', 'g') = ANY(string_to_array(%s, %s))))"
            )
            params = (SEPARATORS, LIST_SEPARATOR.join(keys), LIST_SEPARATOR, PHONE_RUN, ",".join(self.phones), ",")
            # Names from the models' metadata; every value goes as a parameter.
            condition |= Q(RawSQL(sql, params, output_field=models.BooleanField()))  # noqa: S611
        return condition

    def scrub(self, text: str | None) -> str | None:
        """The text with each of the values it holds replaced by NEUTRAL_TEXT."""
        if not text:
            return text
        if self.phones:
            phones = set(self.phones)
            text = _PHONE_RUN.sub(
                lambda run: NEUTRAL_TEXT if re.sub(r"\D", "", run.group(0)) in phones else run.group(0), text
            )
        values = {value for word in _words(text) for value in self.by_word.get(word, ())}
        if not values:
            return text
        alternatives = "|".join(re.escape(value) for value in sorted(values, key=lambda value: (-len(value), value)))
        return re.sub(rf"(?<!\w)({alternatives})(?!\w)", NEUTRAL_TEXT, text, flags=re.IGNORECASE)

    def holds(self, text: str | None) -> bool:
        return self.scrub(text) != text


@dataclass(frozen=True)
class Entry:
    """Columns of one model and what the purge does to them. `rows` says which rows, in words (SECURITY.md);
    `apply(person)` does it in one or two set-based statements and returns the rows changed. Columns "*": all
    the model's columns (rows deleted, or a third-party model wholly unrelated to persons)."""

    model: str  # "app_label.ModelName"
    columns: tuple[str, ...]
    treatment: Treatment
    rows: str
    reason: str = ""
    apply: Callable[[Person], int] | None = field(default=None, compare=False)

    def covers(self, column: str) -> bool:
        return "*" in self.columns or column in self.columns


_ENTRIES: list[Entry] = []


def register(*entries: Entry) -> None:
    for entry in entries:
        if entry.treatment in (Treatment.NOT_PERSONAL, Treatment.KEEP_REFERENCE):
            if not entry.reason:
                raise ValueError(f"{entry.model}: une colonne déclarée non effacée dit pourquoi.")
        elif entry.apply is None:
            raise ValueError(f"{entry.model}: une entrée qui efface dit comment (apply).")
        if entry not in _ENTRIES:
            _ENTRIES.append(entry)


def catalogue() -> tuple[Entry, ...]:
    return tuple(_ENTRIES)


def entries_for(label: str) -> list[Entry]:
    return [entry for entry in _ENTRIES if entry.model == label]


def is_covered(model: type[models.Model], column: str) -> bool:
    """Whether the catalogue says what happens to `model.column`. A simple-history table's copy of a column its
    model declares "not personal" is not personal either; a personal column needs an entry of its own (the
    purge must reach the history rows too)."""
    if any(entry.covers(column) for entry in entries_for(model._meta.label)):
        return True
    tracked = getattr(model, "instance_type", None)
    return tracked is not None and any(
        entry.covers(column) and entry.treatment == Treatment.NOT_PERSONAL for entry in entries_for(tracked._meta.label)
    )


def apply_all(person: Person) -> dict[str, int]:
    """Every erasing entry, in the order the apps registered them: rows changed per model."""
    done: dict[str, int] = {}
    for entry in _ENTRIES:
        if entry.apply is not None:
            done[entry.model] = done.get(entry.model, 0) + (entry.apply(person) or 0)
    return done


def markdown_table() -> str:
    """The catalogue as SECURITY.md shows it (a test keeps the two the same)."""
    lines = ["| Modèle | Colonnes | Lignes | Traitement | Précision |", "| --- | --- | --- | --- | --- |"]
    for entry in sorted(_ENTRIES, key=lambda entry: (entry.model, list(Treatment).index(entry.treatment))):
        columns = "toutes" if entry.columns == ("*",) else ", ".join(f"`{column}`" for column in entry.columns)
        cells = (f"`{entry.model}`", columns, entry.rows, entry.treatment.value, entry.reason)
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


# --- Helpers for the apps' entries ------------------------------------------------------------------------


def delete_rows(queryset_of: Callable[[Person], models.QuerySet]) -> Callable[[Person], int]:
    """Delete in one statement, without the deletion collector (the rows have no dependents, no signal)."""

    def apply(person: Person) -> int:
        queryset = queryset_of(person)
        return queryset._raw_delete(queryset.db)

    return apply


def set_values(queryset_of: Callable[[Person], models.QuerySet], **values) -> Callable[[Person], int]:
    def apply(person: Person) -> int:
        return queryset_of(person).update(**values)

    return apply


def scrub(
    model: type[models.Model],
    columns: tuple[str, ...],
    scope: Callable[[Person], Q | tuple[Q, ...]] | None = None,
):
    """Replace the person's names, emails, identifiers and phones inside free texts, in the rows of `scope` (else
    every row). Without a scope, first and last names alone are left: only what names one person (email,
    identifier, phone, full name) is looked for in the whole table. A scope may be a tuple of conditions, read
    one query each: an OR across two indexes (the author's messages, or those of his requests, a join) would be
    planned as a scan of the whole table. One query per condition to find the rows, one to write."""

    def apply(person: Person) -> int:
        matcher = person.matcher(strong=scope is None)
        if not matcher:
            return 0
        candidates = model._default_manager.filter(matcher.condition(model, columns)).only("pk", *columns)
        parts = scope(person) if scope is not None else (Q(),)
        rows = {
            row.pk: row for part in (parts if isinstance(parts, tuple) else (parts,)) for row in candidates.filter(part)
        }
        lengths = {column: model._meta.get_field(column).max_length for column in columns}
        changed = []
        for row in rows.values():
            before = [getattr(row, column) for column in columns]
            for column in columns:
                text = matcher.scrub(getattr(row, column))
                setattr(row, column, text[: lengths[column]] if text and lengths[column] else text)
            if [getattr(row, column) for column in columns] != before:
                changed.append(row)
        return model._default_manager.bulk_update(changed, columns) if changed else 0

    return apply


def history_model_entries(model: type[models.Model]) -> list[Entry]:
    """What every django-simple-history table adds to its model's columns: the author of the change (the
    account, anonymized when purged) and the reason (a label of the portal's, core.history)."""
    label = model._meta.label
    return [
        Entry(label, ("history_user",), Treatment.KEEP_REFERENCE, "toutes", "l'auteur de la modification, anonymisé"),
        Entry(
            label,
            ("history_change_reason",),
            Treatment.NOT_PERSONAL,
            "toutes",
            "un libellé du portail (motif d'inactivation…), jamais un texte saisi",
        ),
    ]
