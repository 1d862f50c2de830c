"""Canned replies (réponses types): a caisse's own, or national ones for every caisse; the agent inserts one
in an answer, which the free-text guard (D4) still checks when it is sent."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from conventions.models import staff_caisse_ids
from core.guard import free_text_validator


class ReponseTypeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The national replies and those of the staff member's caisses; partners see none."""
        if not user.is_authenticated or user.is_partner:
            return self.none()
        caisse_ids = staff_caisse_ids(user)
        return self if caisse_ids is None else self.filter(Q(caisse__isnull=True) | Q(caisse_id__in=caisse_ids))

    def for_caisse(self, caisse_id):
        """What an agent may insert in an answer on a request of this caisse."""
        return self.filter(Q(caisse__isnull=True) | Q(caisse_id=caisse_id)).order_by("title", "id")


class ReponseType(models.Model):
    caisse = models.ForeignKey(
        "conventions.Caisse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reponses_types",
        help_text="Vide : réponse nationale, proposée aux agents de toutes les caisses.",
    )
    title = models.CharField("titre", max_length=120, validators=[free_text_validator])
    body = models.TextField("texte", max_length=4000, validators=[free_text_validator])
    updated_at = models.DateTimeField("modifiée le", default=timezone.now, editable=False)

    objects = ReponseTypeQuerySet.as_manager()

    class Meta:
        verbose_name = "réponse type"
        verbose_name_plural = "réponses types"
        ordering = ["title", "id"]

    def __str__(self):
        return self.title
