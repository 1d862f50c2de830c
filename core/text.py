"""Text folding for search and for the free-text guard: accents removed, case folded, spaces collapsed."""

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Case, accents and ligatures folded, spaces collapsed: " Œdème  DIABÈTE" → "oedeme diabete"."""
    text = text or ""
    if text.isascii():  # most identifiers and emails: nothing to decompose (the purge folds thousands a batch)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"\s+", " ", without_accents.casefold().translate(_LIGATURES)).strip()


WORD = re.compile(r"[^\W_]+")  # a word: letters and digits, no underscore


def normalize_text(text: str) -> str:
    """Folded words separated by one space, punctuation dropped: "L'anti-Dépresseur !" → "l anti depresseur"."""
    return " ".join(WORD.findall(fold(text)))
