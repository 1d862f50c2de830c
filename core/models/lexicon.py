"""The lexicon of sensitive data of the free-text guard (D4), maintained by caisse administrators in the admin.

Health terms came first, hence the model's name (and table, kept to avoid moving it): its categories now cover
every kind of data the CNIL keeps out of free-text zones, and the exceptions to them.
"""

from django.core.exceptions import ValidationError
from django.db import models

from core.text import normalize_text


class HealthTermCategory(models.TextChoices):
    """What a term reveals; `core.guard.CATEGORIES` says how the error names it and why it is refused."""

    MALADIE = "maladie", "Santé : maladie ou diagnostic"
    TRAITEMENT = "traitement", "Santé : traitement"
    HANDICAP = "handicap", "Santé : handicap"
    EXAMEN = "examen", "Santé : examen ou acte médical"
    AUTRE = "autre", "Santé : autre"
    ORIGINE = "origine", "Origine raciale ou ethnique"
    RELIGION = "religion", "Convictions religieuses ou philosophiques"
    POLITIQUE = "politique", "Opinions politiques"
    SYNDICAT = "syndicat", "Appartenance syndicale"
    SEXUALITE = "sexualite", "Vie sexuelle ou orientation sexuelle"
    INFRACTION = "infraction", "Infractions et condamnations"
    JUGEMENT = "jugement", "Jugement subjectif ou insultant"
    EXCEPTION = "exception", "Exception : expression ordinaire, jamais refusée"


class HealthTerm(models.Model):
    """A word or phrase that reveals sensitive data: refused in every free-text zone when active (or, of the
    category "exception", an ordinary phrase that contains such a term and is never refused).

    `normalized` (case and accents folded, punctuation and spaces collapsed to one space) is what the guard
    matches on and what makes two spellings of a term the same term. `updated_at` lets the guard notice any
    change made in another process (see `core.guard`).
    """

    term = models.CharField(
        "terme",
        max_length=120,
        help_text="Tel qu'il peut être saisi, par exemple « Diabète de type 2 ». Reconnu sans tenir compte des "
        "majuscules, des accents ni des tirets, au masculin comme au féminin, au singulier comme au pluriel ; "
        "un sigle (au moins deux majuscules, comme VIH) ne prend que le « s » du pluriel.",
    )
    normalized = models.CharField("forme normalisée", max_length=120, unique=True, editable=False)
    category = models.CharField(
        "catégorie",
        max_length=20,
        choices=HealthTermCategory.choices,
        default=HealthTermCategory.MALADIE,
        help_text="Ce que révèle le terme ; le message d'erreur la nomme et dit pourquoi le texte est refusé. "
        "« Exception » : une expression ordinaire qui contient un terme du lexique (« Secours catholique »).",
    )
    active = models.BooleanField(
        "actif", default=True, help_text="Décochez pour ne plus refuser ce terme sans le supprimer."
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True, db_index=True)

    class Meta:
        db_table = "requests_app_healthterm"
        ordering = ["normalized"]
        verbose_name = "terme sensible"
        verbose_name_plural = "lexique des données sensibles"

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
