"""D4, measured: the free-text guard over a corpus of sentences a social worker could write (guard_corpus.py).

The report (recall per label, false positives on ordinary sentences, and every sentence missed or wrongly
refused) is printed in pytest's terminal summary. The suite fails under 98 % recall on NIRs, under 95 % on any
lexicon category, or over 2 % of ordinary sentences refused.
"""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

from core.guard import CATEGORIES, check_free_text, find_nirs, find_sensitive_terms
from core.models.lexicon import HealthTermCategory
from tests.conftest import load_health_lexicon
from tests.requests_app.conftest import D4_REPORT
from tests.requests_app.guard_corpus import CORPUS, NIR, NONE

pytestmark = pytest.mark.django_db

MIN_NIR_RECALL = 0.98
MIN_CATEGORY_RECALL = 0.95
MAX_FALSE_POSITIVES = 0.02
LEXICON_LABELS = [value for value in HealthTermCategory.values if value != HealthTermCategory.EXCEPTION]


@pytest.fixture(autouse=True)
def initial_lexicon(db):
    load_health_lexicon()


def found_labels(text: str) -> set[str]:
    """What the guard finds: "nir" and the lexicon categories, each confirmed by the error check_free_text raises."""
    try:
        check_free_text(text)
    except ValidationError as error:
        codes = {item.code for item in error.error_list}
    else:
        return set()
    labels = {NIR} & codes if find_nirs(text) else set()
    labels |= {
        finding.category for finding in find_sensitive_terms(text) if CATEGORIES[finding.category][0].code in codes
    }
    return labels or {"?"}  # refused, for a reason this report does not know


def test_d4_corpus_is_large_varied_and_labelled():
    labels = Counter(label for label, _ in CORPUS)
    assert len(CORPUS) >= 300
    assert labels[NONE] >= 120 and labels[NIR] >= 60
    assert set(labels) == {NONE, NIR, *LEXICON_LABELS}, "every label is known and every category has sentences"
    assert all(labels[category] >= 5 for category in LEXICON_LABELS)
    sentences = [sentence for _, sentence in CORPUS]
    assert len(set(sentences)) == len(sentences), "no sentence twice"
    nirs = [find_nirs(sentence) for label, sentence in CORPUS if label == NIR]
    assert len({tuple(found) for found in nirs}) == len(nirs), "a different NIR in each NIR sentence"
    keyed = [value for found in nirs for value in found if len(value) == 15]
    assert len(keyed) >= 50 and all(stdnum_nir.is_valid(value) for value in keyed), "keys as python-stdnum computes"
    assert any("2A" in value for value in keyed) and any("2B" in value for value in keyed)
    assert sum(len(value) == 13 for found in nirs for value in found) >= 5, "NIRs written without their key"


def test_d4_guard_recall_and_false_positives_on_the_corpus(request):
    totals, hits, misses, false_positives = Counter(), Counter(), [], []
    for label, sentence in CORPUS:
        found = found_labels(sentence)
        totals[label] += 1
        if label == NONE:
            if found:
                false_positives.append((sorted(found), sentence))
        elif label in found:
            hits[label] += 1
        else:
            misses.append((label, sorted(found), sentence))

    def recall(label):
        return hits[label] / totals[label]

    fp_rate = len(false_positives) / totals[NONE]
    lexicon_total = sum(totals[label] for label in LEXICON_LABELS)
    lines = [
        f"{len(CORPUS)} phrases : {totals[NONE]} ordinaires, {totals[NIR]} avec un NIR, {lexicon_total} avec un terme"
    ]
    lines.append(f"{'étiquette':<12} {'phrases':>7} {'trouvées':>8} {'rappel':>8}")
    for label in [NIR, *LEXICON_LABELS]:
        lines.append(f"{label:<12} {totals[label]:>7} {hits[label]:>8} {recall(label):>8.1%}")
    lexicon_recall = sum(hits[label] for label in LEXICON_LABELS) / lexicon_total
    lines.append(
        f"{'lexique':<12} {lexicon_total:>7} {sum(hits[label] for label in LEXICON_LABELS):>8} {lexicon_recall:>8.1%}"
    )
    lines.append(f"faux positifs : {len(false_positives)} / {totals[NONE]} phrases ordinaires ({fp_rate:.1%})")
    lines += [f"  manquée [{label}, trouvé {found or '-'}] {sentence!r}" for label, found, sentence in misses]
    lines += [f"  refusée à tort [{found}] {sentence!r}" for found, sentence in false_positives]
    request.config.stash[D4_REPORT] = lines
    print("\n".join(lines))

    assert recall(NIR) >= MIN_NIR_RECALL
    assert all(recall(label) >= MIN_CATEGORY_RECALL for label in LEXICON_LABELS), lines
    assert fp_rate <= MAX_FALSE_POSITIVES, lines
