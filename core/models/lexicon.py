"""The health-data lexicon of the free-text guard (D4), maintained by caisse administrators in the admin."""

from django.core.exceptions import ValidationError
from django.db import models

from core.text import normalize_text


class HealthTermCategory(models.TextChoices):
    MALADIE = "maladie", "Maladie ou diagnostic"
    TRAITEMENT = "traitement", "Traitement"
    HANDICAP = "handicap", "Handicap"
    EXAMEN = "examen", "Examen ou acte médical"
    AUTRE = "autre", "Autre"


class HealthTerm(models.Model):
    """A word or phrase that reveals health data: refused in every free-text zone when active.

    `normalized` (case and accents folded, punctuation and spaces collapsed to one space) is what the guard
    matches on and what makes two spellings of a term the same term. `updated_at` lets the guard notice any
    change made in another process (see `core.guard`).
    """

    term = models.CharField(
        "terme",
        max_length=120,
        help_text="Tel qu'il peut être saisi, par exemple « Diabète de type 2 ». "
        "Reconnu sans tenir compte des majuscules, des accents ni des tirets, au singulier comme au pluriel.",
    )
    normalized = models.CharField("forme normalisée", max_length=120, unique=True, editable=False)
    category = models.CharField(
        "catégorie", max_length=20, choices=HealthTermCategory.choices, default=HealthTermCategory.MALADIE
    )
    active = models.BooleanField(
        "actif", default=True, help_text="Décochez pour ne plus refuser ce terme sans le supprimer."
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True, db_index=True)

    class Meta:
        db_table = "requests_app_healthterm"
        ordering = ["normalized"]
        verbose_name = "terme de santé"
        verbose_name_plural = "lexique des données de santé"

    def __str__(self):
        return self.term

    def save(self, *args, **kwargs):
        self.term = " ".join((self.term or "").split())
        self.normalized = normalize_text(self.term)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:  # auto_now is written only when listed: the guard relies on it
            extra = {"updated_at", "normalized"} if "term" in update_fields else {"updated_at"}
            kwargs["update_fields"] = {*update_fields, *extra}
        super().save(*args, **kwargs)

    def clean(self):
        self.term = " ".join((self.term or "").split())
        self.normalized = normalize_text(self.term)
        if not self.normalized:
            raise ValidationError({"term": "Saisissez un terme contenant au moins une lettre ou un chiffre."})
        if len(self.normalized) > self._meta.get_field("normalized").max_length:
            raise ValidationError({"term": "Ce terme est trop long : raccourcissez-le."})
        duplicate = HealthTerm.objects.filter(normalized=self.normalized).exclude(pk=self.pk).first()
        if duplicate is not None:
            raise ValidationError({"term": f"Ce terme figure déjà dans le lexique sous la forme « {duplicate} »."})
