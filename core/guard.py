"""The free-text guard (D4): no free-text zone, on the portal or in the admin, accepts a NIR or health data.

Use `FreeTextField` in portal forms and `validators=[free_text_validator]` on model fields (the admin's forms
then carry it too); `check_free_text(text)` is the rule itself, for services that take text from elsewhere.

NIR. A candidate is a run of digits (and the Corsican 2A/2B) whose groups are cut, if at all, where a NIR is
usually cut (1 84 12 75 115 423 57, 184127511542357, 1.84.12.2A.115.423.57, 1841275115423 57…): separators are
spaces (also non-breaking), dots and dashes. Grouping at other places (phone numbers in pairs, SIRET in
threes, amounts) never forms a candidate, and a candidate never starts or ends inside a longer number.
- 15 characters: a NIR when its key is valid (python-stdnum, which computes 2A/2B as 19/18) and its first
  digit is one a NIR can start with (1/2, 3/4, 7/8 for temporary numbers). A wrong key is not reported: the
  key is what tells a NIR from any other 15-digit number, and a 15-digit number with a wrong key is not
  reported through its first 13 digits either.
- 13 characters, not followed by a 2-digit key group: the NIR without its key (as people copy it from forms
  that box the key apart). It is still the NIR, so it is reported, but only when its shape is strict: first
  digit 1, 2, 7 or 8, month 01–12 or 20, département 01–95, 2A, 2B, 97, 98 or 99, commune and serial not
  000. About 2 % of random 13-digit numbers have that shape; 13-digit numbers are rare in these texts
  (phones have 10 digits, SIRET 14, SIREN 9, dates 8).

Health data: the active `HealthTerm` rows, matched on whole words of the text once case, accents,
ligatures and punctuation are folded (l'insuline → l insuline), each word of a term also in its plural or
feminine form (cancers, sourde), the words of a multi-word term with or without the space or hyphen between
them (anti-dépresseur, antidépresseur). The lexicon is compiled into one regex per process and kept as long
as the table's fingerprint — (row count, latest `updated_at`) — is unchanged: one small aggregate query per
check, never a query per word, and an edit in the admin (any process) applies to the very next check.
"""

from __future__ import annotations

import re
import threading

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from stdnum.fr import nir as stdnum_nir

from core.models import HealthTerm
from core.text import normalize_text

NIR_RULE = (
    "La convention d'utilisation interdit d'indiquer le NIR (numéro de sécurité sociale) dans les zones de texte "
    "libre : retirez-le. Les pièces jointes peuvent, elles, le comporter."
)
HEALTH_RULE = (
    "La CNIL demande de ne mettre dans les zones de texte libre aucune donnée de santé ni rien d'excessif : "
    "décrivez la démarche sans indiquer l'état de santé de la personne."
)
FREE_TEXT_HELP_TEXT = "N'indiquez ni NIR ni information sur la santé de la personne (convention, CNIL)."

# --- NIR ----------------------------------------------------------------------------------------------------

_BLANK = "[ \t\u00a0\u202f\u2009]"
_SEPARATOR = rf"{_BLANK}*[.\-\u2010\u2011\u2012\u2013]{_BLANK}*|{_BLANK}+"
_GROUP = r"(?:\d|(?<=2)[ABab])+"  # digits, and the A/B of Corsica right after a 2
_RUN = re.compile(rf"(?<!\d)(?:{_GROUP})(?:(?:{_SEPARATOR})(?:{_GROUP}))*")
_GROUP_RE = re.compile(_GROUP)
# Where a NIR may be cut, counted from its first character: S|AA|MM|DD|(D)|CCC|NNN|KK.
_NIR_CUTS = frozenset({1, 3, 5, 7, 8, 10, 13})
_KEYED_FIRST_DIGITS = frozenset("123478")
_BODY_FIRST_DIGITS = frozenset("1278")
_BODY_MONTHS = frozenset({f"{month:02d}" for month in range(1, 13)} | {"20"})
_BODY_DEPARTEMENTS = frozenset({f"{d:02d}" for d in range(1, 96)} | {"2A", "2B", "97", "98", "99"})


def _is_keyed_nir(value: str) -> bool:
    return value[0] in _KEYED_FIRST_DIGITS and stdnum_nir.is_valid(value)


def _is_nir_body(value: str) -> bool:
    """A 13-character NIR without its key, with a strict shape (see the module's docstring)."""
    return (
        value[:5].isdigit()
        and value[7:].isdigit()
        and value[0] in _BODY_FIRST_DIGITS
        and value[3:5] in _BODY_MONTHS
        and value[5:7] in _BODY_DEPARTEMENTS
        and value[7:10] != "000"
        and value[10:13] != "000"
    )


def _nirs_in_run(groups: list[str]) -> list[str]:
    found = []
    i = 0
    while i < len(groups):
        length, cuts, hit = 0, [], None
        for j in range(i, len(groups)):
            if j > i:
                cuts.append(length)
            length += len(groups[j])
            if length > 15 or not _NIR_CUTS.issuperset(cuts):
                break
            value = "".join(groups[i : j + 1]).upper()
            if length == 15:
                hit = (value, j) if _is_keyed_nir(value) else None
                break
            if length == 13:
                followed_by_key = j + 1 < len(groups) and len(groups[j + 1]) == 2
                if not followed_by_key:
                    hit = (value, j) if _is_nir_body(value) else None
                    break
        if hit:
            found.append(hit[0])
            i = hit[1] + 1
        else:
            i += 1
    return found


def find_nirs(text: str) -> list[str]:
    """The NIRs written in the text, compact and upper-case, in order, without duplicates.

    15 characters for a NIR with a valid key, 13 for a NIR written without its key (see the docstring).
    """
    found: list[str] = []
    for run in _RUN.finditer(text or ""):
        for value in _nirs_in_run(_GROUP_RE.findall(run.group())):
            if value not in found:
                found.append(value)
    return found


def mask_nir(value: str) -> str:
    """Only sex, year and month of birth stay readable: "184127511542357" → "1 84 12 ** *** *** **"."""
    masked = f"{value[0]} {value[1:3]} {value[3:5]} ** *** ***"
    return masked + " **" if len(value) == 15 else masked


# --- Health data ----------------------------------------------------------------------------------------

_WORD_ENDING = "(?:es|e|s|x)?"  # plural and feminine: cancers, sourde, malvoyantes


def _term_pattern(normalized: str) -> str:
    return " ?".join(re.escape(word) + _WORD_ENDING for word in normalized.split(" "))


class _Lexicon:
    def __init__(self, fingerprint, rows):
        self.fingerprint = fingerprint
        # Longest first (multi-word terms win), then the spelling without spaces (antidépresseur before anti-).
        rows = sorted(rows, key=lambda row: (-len(row[1].replace(" ", "")), row[1].count(" "), row[1]))
        self.term_of_group = {f"t{index}": term for index, (term, _) in enumerate(rows)}
        self.term_of_normalized = {normalized: term for term, normalized in rows}
        alternatives = "|".join(f"(?P<t{index}>{_term_pattern(norm)})" for index, (_, norm) in enumerate(rows))
        self.regex = re.compile(rf"(?<!\S)(?:{alternatives})(?!\S)") if rows else None


_lexicon: _Lexicon | None = None
_lexicon_lock = threading.Lock()


def _lexicon_fingerprint():
    state = HealthTerm.objects.aggregate(count=Count("pk"), last=Max("updated_at"))
    return state["count"], state["last"]


def _current_lexicon() -> _Lexicon:
    global _lexicon
    fingerprint = _lexicon_fingerprint()
    lexicon = _lexicon
    if lexicon is not None and lexicon.fingerprint == fingerprint:
        return lexicon
    with _lexicon_lock:
        rows = list(HealthTerm.objects.filter(active=True).values_list("term", "normalized"))
        lexicon = _lexicon = _Lexicon(fingerprint, rows)
    return lexicon


def clear_lexicon_cache() -> None:
    """Forget the compiled lexicon of this process (the next check rebuilds it)."""
    global _lexicon
    _lexicon = None


def find_health_terms(text: str) -> list[str]:
    """The active lexicon terms (as written in the lexicon) found in the text, in order, without duplicates."""
    normalized = normalize_text(text)
    if not normalized:
        return []
    lexicon = _current_lexicon()
    if lexicon.regex is None:
        return []
    found: list[str] = []
    for match in lexicon.regex.finditer(normalized):
        term = lexicon.term_of_normalized.get(match.group()) or lexicon.term_of_group[match.lastgroup]
        if term not in found:
            found.append(term)
    return found


# --- The rule ---------------------------------------------------------------------------------------------


def _nir_error(text: str) -> ValidationError | None:
    nirs = find_nirs(text)
    if not nirs:
        return None
    what = "un numéro de sécurité sociale (NIR)" if len(nirs) == 1 else "des numéros de sécurité sociale (NIR)"
    found = ", ".join(f"« {mask_nir(nir)} »" + (" (sans sa clé)" if len(nir) == 13 else "") for nir in nirs)
    return ValidationError(
        "Ce texte contient %(what)s : %(found)s. %(rule)s",
        code="nir",
        params={"what": what, "found": found, "rule": NIR_RULE},
    )


def check_free_text(text: str) -> None:
    """Raise ValidationError (code "nir", "health_data", or both in a list) if the text breaks rule D4."""
    if not text or not str(text).strip():
        return
    text = str(text)
    errors = [error] if (error := _nir_error(text)) else []
    terms = find_health_terms(text)
    if terms:
        what = "un terme qui relève" if len(terms) == 1 else "des termes qui relèvent"
        errors.append(
            ValidationError(
                "Ce texte contient %(what)s de la santé : %(found)s. %(rule)s",
                code="health_data",
                params={"what": what, "found": ", ".join(f"« {term} »" for term in terms), "rule": HEALTH_RULE},
            )
        )
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValidationError(errors)


def free_text_validator(value) -> None:
    """Validator for `validators=[...]` of form and model fields: rule D4 on a free-text value."""
    check_free_text(value)


NAME_NIR_RULE = "Un nom ou une fonction ne comporte jamais de numéro de sécurité sociale (NIR) : retirez-le."


def no_nir_validator(value) -> None:
    """Rule D4's NIR half, for the short typed fields that are not free text (names, job titles): a surname
    may well be a word of the health lexicon, never a NIR (D3: the insured is never identified by it)."""
    if value and find_nirs(str(value)):
        raise ValidationError(NAME_NIR_RULE, code="nir")


class FreeTextField(forms.CharField):
    """A free-text form field under rule D4, with a short reminder of the rule as its default help text."""

    default_validators = [free_text_validator]
    is_free_text = True

    def __init__(self, *, help_text=FREE_TEXT_HELP_TEXT, **kwargs):
        super().__init__(help_text=help_text, **kwargs)


def check_fields(**values: str) -> None:
    """The guard on several named texts at once, for services: errors keyed by field, as forms expect."""
    errors = {}
    for name, value in values.items():
        try:
            check_free_text(value or "")
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
