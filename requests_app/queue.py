"""The partner's work queue on the home page: what waits for the structure, what the caisse answered since the
user last looked, what the caisse is late on. One bounded query per block, each served by an index."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from .models import Demande, DemandeState, overdue_q, unread_q

SHOWN = 5  # rows listed per block
COUNT_CAP = 50  # beyond, the block says "plus de 50": a count never reads more than this many rows

# The history's "suivi" filter, shared with the history's form and view.
SUIVI_NON_LUES = "non_lues"
SUIVI_EN_RETARD = "en_retard"
SUIVI_CHOICES = [("", "Toutes"), (SUIVI_NON_LUES, "Non lues"), (SUIVI_EN_RETARD, "En retard")]


@dataclass(frozen=True)
class Block:
    slug: str
    title: str
    empty: str
    rows: list  # the first SHOWN requests
    count: int  # at most COUNT_CAP
    capped: bool  # more than COUNT_CAP
    url: str  # the history, filtered the same way

    @property
    def count_label(self) -> str:
        return f"plus de {COUNT_CAP}" if self.capped else str(self.count)


def waiting(demandes):
    """En attente de complément: the caisse waits for the structure, the oldest first."""
    return demandes.filter(state=DemandeState.EN_ATTENTE).order_by("created_at", "id")


def unread(demandes, user, now=None):
    """Answered or changed by the caisse since this user last opened them, the most recent change first."""
    return demandes.filter(unread_q(user, now)).order_by("-caisse_changed_at", "-id")


def late(demandes, today):
    """Still open past the caisse's processing delay (working days per kind), the oldest first."""
    return demandes.filter(overdue_q(today)).order_by("created_at", "id")


def _block(slug, title, empty, queryset, url) -> Block:
    # One query: up to COUNT_CAP + 1 rows of a few columns, counted here, the first SHOWN listed.
    rows = list(
        queryset.select_related("caisse").only(
            "reference", "kind", "state", "created_at", "caisse_changed_at", "caisse__name",
            "assure_last_name", "assure_first_name",
        )[: COUNT_CAP + 1]
    )  # fmt: skip
    return Block(slug, title, empty, rows[:SHOWN], min(len(rows), COUNT_CAP), len(rows) > COUNT_CAP, url)


def partner_queue(user) -> list[Block]:
    demandes = Demande.objects.visible_to(user)
    history = reverse("demandes")
    return [
        _block(
            "en-attente",
            "En attente de votre complément",
            "Aucune demande n'attend de complément de votre structure.",
            waiting(demandes),
            f"{history}?state={DemandeState.EN_ATTENTE}",
        ),
        _block(
            "nouveau",
            "Nouvelles réponses de la caisse",
            "Aucune réponse ni changement depuis votre dernière visite.",
            unread(demandes, user),
            f"{history}?suivi={SUIVI_NON_LUES}",
        ),
        _block(
            "en-retard",
            "En retard à la caisse",
            "Aucune demande ne dépasse le délai de traitement de la caisse.",
            late(demandes, timezone.localdate()),
            f"{history}?suivi={SUIVI_EN_RETARD}",
        ),
    ]
