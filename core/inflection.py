"""The inflected forms of a French word, for the free-text guard's lexicon (D4).

From any form of a word (masculine or feminine, singular or plural) the rules below find the masculine singulars
it may come from, then generate their feminine and plural forms, regular and irregular: cancer → cancers;
dépressif → dépressive; contagieux → contagieuse; antirétroviral → antirétroviraux; consommateur → consommatrice,
consommateuse; chrétien → chrétienne; criminel → criminelle; étranger → étrangère; muet → muette; inquiet →
inquiète; turc → turque; fou → folle. The rules read the word with its accents, where they still tell a masculine
"syndiqué" from a feminine "voilée" (folded, both end in "e" and "syndique" would give "syndic"); the forms are
then folded like the text they are matched against (see `core.text.fold`).

Only endings are rewritten, so each word has a short, known list of forms (the admin shows it) instead of the open
set of words sharing a stem that a stemmer would accept (see `core.guard` for that choice and its measure).
Over-generation is harmless as long as a generated form is not an ordinary word; the lexicon's data file records
the terms left out for that reason.
"""

from __future__ import annotations

from core.text import fold

# Short words that never inflect in a lexicon phrase (sclérose en plaques, tentative de suicide); words of one
# or two letters never do either.
_INVARIABLE = frozenset({"aux", "avec", "dans", "des", "par", "pour", "sans", "ses", "son", "sous", "sur", "une"})

# Endings of a feminine or plural form, back to the masculine singular: dépressive → dépressif, mentaux → mental.
# Every rule that applies is used (menteuse → menteux, menteur): a stem that is no word is never typed.
_TO_MASCULINE = (
    ("aux", ("al", "ail")),
    ("trices", ("teur",)),
    ("trice", ("teur",)),
    ("euses", ("eux", "eur")),
    ("euse", ("eux", "eur")),
    ("ives", ("if",)),
    ("ive", ("if",)),
    ("ves", ("f",)),
    ("ve", ("f",)),
    ("ennes", ("en",)),
    ("enne", ("en",)),
    ("onnes", ("on",)),
    ("onne", ("on",)),
    ("elles", ("el", "eau")),
    ("elle", ("el", "eau")),
    ("olles", ("ou",)),
    ("olle", ("ou",)),
    ("eilles", ("eil",)),
    ("eille", ("eil",)),
    ("ettes", ("et",)),
    ("ette", ("et",)),
    ("ottes", ("ot",)),
    ("otte", ("ot",)),
    ("ères", ("er",)),
    ("ère", ("er",)),
    ("ètes", ("et",)),
    ("ète", ("et",)),
    ("ecques", ("ec",)),
    ("ecque", ("ec",)),
    ("ousses", ("oux",)),
    ("ousse", ("oux",)),
    ("ouses", ("oux",)),
    ("ouse", ("oux",)),
    ("sses", ("s",)),
    ("sse", ("s",)),
    ("ées", ("é",)),
    ("ée", ("é",)),
    ("és", ("é",)),
    ("es", ("", "e")),
    ("e", ("",)),
    ("s", ("",)),
    ("x", ("",)),
)

# Masculine singular endings to their irregular feminines (the regular "+e" is always added as well).
_TO_FEMININE = (
    ("teur", ("trice", "teuse")),
    ("eux", ("euse",)),
    ("eur", ("euse",)),
    ("if", ("ive",)),
    ("f", ("ve",)),
    ("en", ("enne",)),
    ("on", ("onne",)),
    ("el", ("elle",)),
    ("eil", ("eille",)),
    ("eau", ("elle",)),
    ("ou", ("olle",)),
    ("et", ("ette", "ète")),
    ("ot", ("otte",)),
    ("er", ("ère",)),
    ("ec", ("ecque",)),
    ("c", ("que", "che")),
    ("oux", ("ouse", "ousse")),
    ("s", ("sse",)),
)


def _plurals(word: str) -> set[str]:
    if word.endswith(("s", "x", "z")):
        return {word}
    if word.endswith("al"):
        return {word[:-2] + "aux", word + "s"}
    if word.endswith("ail"):
        return {word[:-3] + "aux", word + "s"}
    if word.endswith(("au", "eu", "ou")):
        return {word + "x", word + "s"}
    return {word + "s"}


def _masculine_singulars(word: str) -> set[str]:
    found = {word}
    for ending, replacements in _TO_MASCULINE:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 2:
            found.update(stem + replacement for replacement in replacements)
    return found


def _forms_of_masculine(word: str) -> set[str]:
    # Regular "+e"; a word already in -e may take -esse (nègre → négresse, ivrogne → ivrognesse).
    feminines = {word + "sse"} if word.endswith("e") else {word + "e"}
    feminines.add(word if word.endswith("e") else word + "e")
    for ending, replacements in _TO_FEMININE:
        if word.endswith(ending) and len(word) > len(ending):
            feminines.update(word[: -len(ending)] + replacement for replacement in replacements)
    forms = {word, *_plurals(word)}
    for feminine in feminines:
        forms.update({feminine, feminine + "s"})
    return forms


def is_abbreviation(word: str) -> bool:
    """VIH, IVG, PrEP, CeGIDD: two capitals or more, as the lexicon writes it."""
    return sum(char.isupper() for char in word) >= 2


def word_forms(word: str) -> frozenset[str]:
    """Every folded form the guard recognises for one word of a lexicon term, as the lexicon writes it.

    An abbreviation (VIH, IVG, PrEP) takes only a plural "s"; numbers and the short words of a phrase never
    change. Any other word gives its masculine and feminine, singular and plural forms, from whichever form it
    was written in.
    """
    folded = fold(word)
    if not word.isalpha() or len(folded) <= 2 or word.lower() in _INVARIABLE:
        return frozenset({folded})
    if is_abbreviation(word):
        return frozenset({folded, folded + "s"})
    forms: set[str] = set()
    for masculine in _masculine_singulars(word.lower()):
        forms |= _forms_of_masculine(masculine)
    return frozenset(fold(form) for form in forms if len(form) >= 2)
