"""The free-text guard (D4): no free-text zone, on the portal or in the admin, accepts a NIR or sensitive data.

Use `FreeTextField` in portal forms and `validators=[free_text_validator]` on model fields (the admin's forms
then carry it too); `check_free_text(text)` is the rule itself, for services that take text from elsewhere.

NIR. A candidate is a run of digits (and the Corsican 2A/2B) whose groups are cut, if at all, where a NIR is
usually cut (1 84 12 75 115 423 57, 184127511542357, 1.84.12.2A.115.423.57, 1841275115423 57…), or after every
digit (1 8 4 1 2 7…, as copied from the boxes of a form). Between two groups any run of separators counts:
spaces of every kind (non-breaking, thin, zero-width), tabs and line breaks, dots, dashes of every kind,
slashes, backslashes, underscores and vertical bars, alone or combined (1 / 84 - 12.75_115\\n423 57). Grouping
at other places (phone numbers in pairs, SIRET in threes, IBAN in fours, amounts, dates, the portal's
EP-26-7K3M-9QXA references) never forms a candidate, and a candidate never starts or ends inside a longer
number.
- 15 characters: a NIR when its key is valid (python-stdnum, which computes 2A/2B as 19/18) and its first
  digit is one a NIR can start with (1/2, 3/4, 7/8 for temporary numbers). A wrong key is not reported: the
  key is what tells a NIR from any other 15-digit number, and a 15-digit number with a wrong key is not
  reported through its first 13 digits either.
- 13 characters, not followed by a 2-digit key group: the NIR without its key (as people copy it from forms
  that box the key apart). It is still the NIR, so it is reported, but only when its shape is strict: first
  digit 1, 2, 7 or 8, month 01–12 or 20, département 01–95, 2A, 2B, 97, 98 or 99, commune and serial not
  000. About 2 % of random 13-digit numbers have that shape; 13-digit numbers are rare in these texts
  (phones have 10 digits, SIRET 14, SIREN 9, dates 8). The one that can come up is the numéro fiscal, when
  copied without its spaces (12 34 567 890 123 as printed never forms a candidate).

Sensitive data: the active rows of the lexicon (`HealthTerm`, maintained by the caisses' administrators), each
with a category: health (disease, treatment, disability, examination, other), the other data of RGPD art. 9
(origin, religious or philosophical beliefs, political opinions, trade-union membership, sex life or
orientation), offences and convictions (art. 10), subjective or insulting judgements (CNIL guidance on
free-text zones), and exceptions: ordinary phrases that contain a term (« Secours catholique », « dépistage
organisé du cancer ») and are never refused. Terms match whole words of the text once case, accents,
ligatures and punctuation are folded (l'insuline → l insuline), the words of a multi-word term with or without
the space or hyphen between them (anti-dépresseur, antidépresseur), each word in every form that
`core.inflection` generates for it: masculine, feminine, singular and plural, irregular ones included
(dépressif → dépressives, contagieux → contagieuse, mental → mentaux, consommateur → consommatrice). The error
names the category of each term found and, per family (health, art. 9, art. 10, judgement), why it is
refused.

Generated forms, not a stemmer: reducing both the text and the terms to Snowball stems matches every ordinary
word that shares a stem with a term (French stems are short), and misses the irregular feminines that the
stemmer does not bring back to the masculine. Measured on the corpus of tests/requests_app/guard_corpus.py with
the same lexicon, the Snowball French stemmer refused 16 of the 199 ordinary sentences (8 %: « sociale » read as
« socialiste », « délai » as « délit », « commune » as « communiste », « SEPA » as « SEP », « prépa » as « PrEP »)
and missed 7 of the 187 sensitive ones (menteuse, folle, juive, travailleuse, négresse…), against 0 and 0 with
the generated forms. Generated forms also keep what the admin shows true: each term lists the forms it
refuses. Verbs are not conjugated: a verb form that reveals data is a term of its own (avorter, avorté).

The lexicon is compiled into one regex per process and kept as long as the table's fingerprint — (row count,
latest `updated_at`) — is unchanged: one small aggregate query per check, never a query per word, and an edit
in the admin (any process) applies to the very next check. Alternatives are grouped by first letter so that
the regex tries only the terms that can start at each word (about 0.03 s for 14,000 characters against the
whole lexicon, instead of 0.7 s for one flat alternation).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from stdnum.fr import nir as stdnum_nir

from core.inflection import word_forms
from core.models import HealthTerm
from core.text import WORD, fold, normalize_text

NIR_RULE = (
    "La convention d'utilisation interdit d'indiquer le NIR (numéro de sécurité sociale) dans les zones de texte "
    "libre : retirez-le. Les pièces jointes peuvent, elles, le comporter."
)
HEALTH_RULE = (
    "La CNIL demande de ne mettre dans les zones de texte libre aucune donnée de santé ni rien d'excessif : "
    "décrivez la démarche sans indiquer l'état de santé de la personne."
)
SENSITIVE_RULE = (
    "L'origine, les convictions religieuses ou philosophiques, les opinions politiques, l'appartenance syndicale "
    "et la vie ou l'orientation sexuelles sont des données sensibles (RGPD, article 9) que la CNIL demande de ne "
    "jamais saisir dans une zone de texte libre : la demande n'en a pas besoin, retirez-les."
)
OFFENCE_RULE = (
    "Les données relatives aux infractions, aux condamnations et aux mesures de sûreté (RGPD, article 10) ne "
    "peuvent être traitées que sous le contrôle de l'autorité publique : la CNIL interdit de les saisir dans une "
    "zone de texte libre. Décrivez la démarche sans évoquer la situation pénale de la personne."
)
JUDGEMENT_RULE = (
    "La CNIL demande que les commentaires libres restent objectifs, pertinents et non excessifs : aucune "
    "appréciation subjective ni aucun propos insultant sur la personne. Décrivez seulement les faits utiles à la "
    "demande."
)
FREE_TEXT_HELP_TEXT = (
    "N'indiquez ni NIR, ni information sur la santé de la personne ou autre donnée sensible (origine, "
    "convictions, vie sexuelle, infractions), ni jugement sur elle (convention, CNIL)."
)

# --- NIR ----------------------------------------------------------------------------------------------------

# Any mix of these between two groups: every Unicode space and line break (\s), the zero-width ones that
# copy-paste leaves, dots, dashes of every kind, slashes, backslashes, underscores, vertical bars, middle dots.
# Possessive: a long run of separators is read once, never backtracked into.
_SEPARATOR = r"[\s\u200b\u200c\u200d\u2060\ufeff.\-\u2010-\u2015\u2212/\\_|\u00b7]++"
_GROUP = r"(?:\d|(?<=2)[ABab])+"  # digits, and the A/B of Corsica right after a 2
_RUN = re.compile(rf"(?<!\d)(?:{_GROUP})(?:{_SEPARATOR}(?:{_GROUP}))*")
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


def _followed_by_key(groups: list[str], j: int, digit_by_digit: bool) -> bool:
    after = groups[j + 1 : j + 3]
    if after and len(after[0]) == 2:
        return True
    return digit_by_digit and len(after) == 2 and len(after[0]) == len(after[1]) == 1


def _nirs_in_run(groups: list[str]) -> list[str]:
    found = []
    i = 0
    while i < len(groups):
        length, cuts, hit = 0, [], None
        digit_by_digit = True  # every group so far within the 13 first characters is one character long
        for j in range(i, len(groups)):
            if j > i:
                cuts.append(length)
            if length < 13 and len(groups[j]) != 1:
                digit_by_digit = False
            length += len(groups[j])
            if length > 15 or not (digit_by_digit or _NIR_CUTS.issuperset(cuts)):
                break
            value = "".join(groups[i : j + 1]).upper()
            if length == 15:
                hit = (value, j) if _is_keyed_nir(value) else None
                break
            if length == 13 and not _followed_by_key(groups, j, digit_by_digit):
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


# --- Sensitive data: categories -------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """The categories refused for the same reason: one error per family, with its code and its rule."""

    code: str
    rule: str


HEALTH = Family("health_data", HEALTH_RULE)
SENSITIVE = Family("sensitive_data", SENSITIVE_RULE)
OFFENCE = Family("offence_data", OFFENCE_RULE)
JUDGEMENT = Family("subjective_judgement", JUDGEMENT_RULE)

# The lexicon's categories (`HealthTermCategory` values): family, and what the error calls one term, several.
CATEGORIES = {
    "maladie": (HEALTH, "une donnée de santé (maladie ou diagnostic)", "des données de santé (maladie ou diagnostic)"),
    "traitement": (HEALTH, "une donnée de santé (traitement)", "des données de santé (traitement)"),
    "handicap": (HEALTH, "une donnée de santé (handicap)", "des données de santé (handicap)"),
    "examen": (HEALTH, "une donnée de santé (examen ou acte médical)", "des données de santé (examen ou acte médical)"),
    "autre": (HEALTH, "une donnée de santé", "des données de santé"),
    "origine": (
        SENSITIVE,
        "une donnée sensible (origine raciale ou ethnique)",
        "des données sensibles (origine raciale ou ethnique)",
    ),
    "religion": (
        SENSITIVE,
        "une donnée sensible (opinion religieuse ou philosophique)",
        "des données sensibles (opinions religieuses ou philosophiques)",
    ),
    "politique": (SENSITIVE, "une donnée sensible (opinion politique)", "des données sensibles (opinions politiques)"),
    "syndicat": (
        SENSITIVE,
        "une donnée sensible (appartenance syndicale)",
        "des données sensibles (appartenance syndicale)",
    ),
    "sexualite": (
        SENSITIVE,
        "une donnée sensible (vie sexuelle ou orientation sexuelle)",
        "des données sensibles (vie sexuelle ou orientation sexuelle)",
    ),
    "infraction": (
        OFFENCE,
        "une donnée relative aux infractions ou aux condamnations",
        "des données relatives aux infractions ou aux condamnations",
    ),
    "jugement": (JUDGEMENT, "un jugement subjectif ou insultant", "des jugements subjectifs ou insultants"),
}
EXCEPTION = "exception"  # an ordinary phrase that contains a term: matched first, never refused
_UNKNOWN_CATEGORY = (SENSITIVE, "une donnée sensible", "des données sensibles")
HEALTH_CATEGORIES = frozenset(value for value, (family, *_) in CATEGORIES.items() if family is HEALTH)


@dataclass(frozen=True)
class Finding:
    term: str  # as the lexicon writes it
    category: str


# --- Sensitive data: the compiled lexicon ---------------------------------------------------------------


def term_word_forms(term: str) -> list[frozenset[str]]:
    """The folded forms recognised for each word of a lexicon term, in order (shown in the admin too)."""
    words = []
    for raw in WORD.findall(term):
        parts = WORD.findall(fold(raw))
        words.extend([word_forms(raw)] if len(parts) == 1 else [frozenset({part}) for part in parts])
    return words


def _alternation(forms: frozenset[str]) -> str:
    """One word's forms as a regex, common prefix factored: cancer(?:es|e|s|)."""
    ordered = sorted(forms, key=lambda form: (-len(form), form))
    prefix = ordered[0]
    for form in ordered[1:]:
        while not form.startswith(prefix):
            prefix = prefix[:-1]
    suffixes = [form[len(prefix) :] for form in ordered]
    if len(suffixes) == 1:
        return re.escape(prefix)
    return re.escape(prefix) + "(?:" + "|".join(re.escape(suffix) for suffix in suffixes) + ")"


def _term_pattern(term: str) -> str:
    return " ?".join(_alternation(forms) for forms in term_word_forms(term))


class _Lexicon:
    def __init__(self, fingerprint, rows):
        self.fingerprint = fingerprint
        # Longest first (multi-word terms and exceptions win), then the spelling without spaces (antidépresseur
        # before anti-). Alternatives that start alike are grouped under their first letter.
        rows = sorted(rows, key=lambda row: (-len(row[1].replace(" ", "")), row[1].count(" "), row[1]))
        self.finding_of_group = {}
        by_letter = defaultdict(list)
        for index, (term, normalized, category) in enumerate(rows):
            if not normalized:
                continue
            self.finding_of_group[f"t{index}"] = Finding(term, category)
            by_letter[normalized[0]].append(f"(?P<t{index}>{_term_pattern(term)})")
        groups = [f"(?={re.escape(letter)})(?:{'|'.join(items)})" for letter, items in sorted(by_letter.items())]
        self.regex = re.compile(rf"(?<!\S)(?:{'|'.join(groups)})(?!\S)") if groups else None


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
        rows = list(HealthTerm.objects.filter(active=True).values_list("term", "normalized", "category"))
        lexicon = _lexicon = _Lexicon(fingerprint, rows)
    return lexicon


def clear_lexicon_cache() -> None:
    """Forget the compiled lexicon of this process (the next check rebuilds it)."""
    global _lexicon
    _lexicon = None


def find_sensitive_terms(text: str) -> list[Finding]:
    """The active lexicon terms found in the text (exceptions left out), in order, each term once."""
    normalized = normalize_text(text)
    if not normalized:
        return []
    lexicon = _current_lexicon()
    if lexicon.regex is None:
        return []
    found: list[Finding] = []
    for match in lexicon.regex.finditer(normalized):
        finding = lexicon.finding_of_group[match.lastgroup]
        if finding.category != EXCEPTION and finding not in found:
            found.append(finding)
    return found


def find_health_terms(text: str) -> list[str]:
    """The health terms of the lexicon (as written in the lexicon) found in the text, in order, each once."""
    return [finding.term for finding in find_sensitive_terms(text) if finding.category in HEALTH_CATEGORIES]


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


def _lexicon_errors(text: str) -> list[ValidationError]:
    """One error per family of the categories found, naming each category and its terms, then the rule."""
    terms_by_category: dict[str, list[str]] = {}
    for finding in find_sensitive_terms(text):
        terms_by_category.setdefault(finding.category, []).append(finding.term)
    parts_by_family: dict[Family, list[str]] = {}
    for category, terms in terms_by_category.items():
        family, one, several = CATEGORIES.get(category, _UNKNOWN_CATEGORY)
        quoted = ", ".join(f"« {term} »" for term in terms)
        parts_by_family.setdefault(family, []).append(f"{one if len(terms) == 1 else several} : {quoted}")
    return [
        ValidationError(
            "Ce texte contient %(found)s. %(rule)s",
            code=family.code,
            params={"found": " ; ".join(parts), "rule": family.rule},
        )
        for family, parts in parts_by_family.items()
    ]


def check_free_text(text: str) -> None:
    """Raise ValidationError if the text breaks rule D4: code "nir", "health_data", "sensitive_data",
    "offence_data" or "subjective_judgement", or a list of them when there are several."""
    if not text or not str(text).strip():
        return
    text = str(text)
    errors = [error] if (error := _nir_error(text)) else []
    errors.extend(_lexicon_errors(text))
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
