"""Portal content: maintenance notices (P1) and documentation for the partners (P2)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from conventions.access import caisses_accessible
from conventions.models import Caisse
from core.dates import is_plausible, validate_plausible_date
from core.guard import check_fields

# P1: without a date of its own, a notice is announced this long before the maintenance starts.
ANNOUNCE_DAYS_BEFORE = 7
NOTICE_WINDOW_MESSAGE = "La fin de la maintenance doit être postérieure à son début."
NOTICE_ANNOUNCE_MESSAGE = "L'annonce doit commencer au plus tard au début de la maintenance."
NOTICE_INTERRUPTING_MESSAGE = (
    "Seul un avis national (administrateur national) interrompt le portail : il est commun à toutes les caisses."
)


def _portal_audience_q(user) -> models.Q:
    """Portal content a signed-in (or anonymous) user reads: national rows, plus those of its caisses.

    Partners: the caisses they have access to (C7); agents: their own caisse. One subquery, never a query here.
    """
    national = models.Q(caisse__isnull=True)
    if user is None or not user.is_authenticated:
        return national
    if user.is_partner:
        return national | models.Q(caisse__in=caisses_accessible(user.partenaire))
    if user.caisse_id:
        return national | models.Q(caisse_id=user.caisse_id)
    return national


def _staff_scope_q(user) -> models.Q | None:
    """Back-office scoping of portal content: None (everything) for the national administrator; for an agent,
    its caisses' rows and the national ones (read-only for it, see portal.admin)."""
    if user.is_superuser:
        return None
    if not getattr(user, "caisse_id", None):
        return models.Q(pk__in=[])
    return models.Q(caisse__isnull=True) | models.Q(caisse__in=Caisse.objects.visible_to(user))


class PortalContentQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = _staff_scope_q(user)
        return self if scope is None else self.filter(scope)


class MaintenanceNoticeQuerySet(PortalContentQuerySet):
    def current_for(self, user, now):
        """P1: the notices whose banner shows at `now`: from `announce_from` until the end of the window.

        National notices for everybody, signed in or not; a caisse's notices for the partners that have access
        to it and for its agents. The national administrator sees the national ones.
        """
        audience = _portal_audience_q(None if user is None or user.is_superuser else user)
        return self.filter(audience, announce_from__lte=now, ends_at__gt=now)


class MaintenanceNotice(models.Model):
    """A maintenance window announced in advance as a banner on every portal page (P1, convention art. 3.2)."""

    caisse = models.ForeignKey(
        "conventions.Caisse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="maintenance_notices",
        verbose_name="caisse",
        help_text="Vide : avis national, montré à tous (réservé à l'administrateur national).",
    )
    title = models.CharField("titre", max_length=150)
    message = models.TextField("message", max_length=1000, help_text="Texte simple, affiché dans le bandeau.")
    starts_at = models.DateTimeField("début de la maintenance", validators=[validate_plausible_date])
    ends_at = models.DateTimeField("fin de la maintenance", validators=[validate_plausible_date])
    announce_from = models.DateTimeField(
        "annoncée à partir du",
        blank=True,
        help_text=f"Laissez vide pour l'annoncer {ANNOUNCE_DAYS_BEFORE} jours avant le début de la maintenance.",
        validators=[validate_plausible_date],
    )
    interrupting = models.BooleanField(
        "interrompt le portail",
        default=False,
        help_text="P8 : du début à la fin, les partenaires voient la page de maintenance et les canaux de secours "
        "de leurs caisses ; le back-office reste ouvert aux agents.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="programmée par",
    )
    created_at = models.DateTimeField("programmée le", auto_now_add=True)

    objects = MaintenanceNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "avis de maintenance"
        verbose_name_plural = "avis de maintenance"
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_notice_ends_after_start",
                violation_error_message=NOTICE_WINDOW_MESSAGE,
            ),
            models.CheckConstraint(
                condition=models.Q(announce_from__lte=models.F("starts_at")),
                name="maintenance_notice_announced_before_start",
                violation_error_message=NOTICE_ANNOUNCE_MESSAGE,
            ),
            models.CheckConstraint(
                condition=models.Q(interrupting=False) | models.Q(caisse__isnull=True),
                name="maintenance_notice_interrupting_is_national",
                violation_error_message=NOTICE_INTERRUPTING_MESSAGE,
            ),
        ]
        indexes = [
            # The banner's query: notices not yet over (a few rows), then their announcement date.
            models.Index(fields=["ends_at", "announce_from"], name="maintenance_notice_current"),
            # The maintenance middleware's query, on every request: the interrupting windows not yet over.
            models.Index(
                fields=["ends_at", "starts_at"],
                condition=models.Q(interrupting=True),
                name="maintenance_interrupting",
            ),
        ]

    def __str__(self):
        return self.title

    def default_announce_from(self):
        return self.starts_at - timedelta(days=ANNOUNCE_DAYS_BEFORE)

    def clean(self):
        check_fields(title=self.title, message=self.message)  # D4 holds on the caisse's side too
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": NOTICE_WINDOW_MESSAGE})
        if self.announce_from is None and is_plausible(self.starts_at):  # else its validator has refused it
            self.announce_from = self.default_announce_from()
        if self.announce_from and self.starts_at and self.announce_from > self.starts_at:
            raise ValidationError({"announce_from": NOTICE_ANNOUNCE_MESSAGE})
        if self.interrupting and self.caisse_id:
            raise ValidationError({"interrupting": NOTICE_INTERRUPTING_MESSAGE})


class IncidentMode(models.Model):
    """P8: the national administrator's switch for an unplanned outage: while on, partners get the maintenance
    page, as in an interrupting window without a planned end. One row (pk 1); each switch is journaled."""

    active = models.BooleanField("mode incident actif", default=False)
    message = models.TextField("message aux partenaires", max_length=1000, blank=True)
    changed_at = models.DateTimeField("modifié le", null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifié par",
    )

    class Meta:
        verbose_name = "mode incident"
        verbose_name_plural = "mode incident"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="incident_mode_single_row")]

    def __str__(self):
        return "Mode incident actif" if self.active else "Mode incident inactif"


class DocumentCategory(models.TextChoices):
    GUIDE = "guide", "Guide d'utilisation"
    REGLEMENTAIRE = "reglementaire", "Information réglementaire"
    FORMULAIRE = "formulaire", "Formulaire"
    AUTRE = "autre", "Autre"


class DocumentPartenaireQuerySet(PortalContentQuerySet):
    def available_to(self, user):
        """P2: the published documents a portal user may download (national ones and those of its caisses);
        the national administrator reads every published document."""
        published = self.filter(published=True)
        return published if user.is_superuser else published.filter(_portal_audience_q(user))


class DocumentPartenaire(models.Model):
    """Documentation or regulatory information put online by a caisse or nationally (P2, convention art. 3.2).

    The file was checked by `core.uploads.check_upload` (type, antivirus, readability) and stored by
    `store()` under a random name; it is served only by `portal.views_content.download`.
    """

    caisse = models.ForeignKey(
        "conventions.Caisse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name="caisse",
        help_text="Vide : document national, proposé à tous les partenaires (réservé à l'administrateur national).",
    )
    title = models.CharField("titre", max_length=200)
    description = models.TextField("description", max_length=1000, blank=True)
    category = models.CharField("catégorie", max_length=20, choices=DocumentCategory.choices)
    file = models.FileField("fichier", max_length=200)
    original_name = models.CharField("nom du fichier", max_length=120)
    mime = models.CharField("type", max_length=40)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField(max_length=64)
    published = models.BooleanField(
        "publié", default=True, help_text="Décochez pour retirer le document du portail sans le supprimer."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="déposé par",
    )
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    updated_at = models.DateTimeField("mis à jour le", auto_now=True)

    objects = DocumentPartenaireQuerySet.as_manager()

    class Meta:
        verbose_name = "document pour les partenaires"
        verbose_name_plural = "documentation des partenaires"
        ordering = ["category", "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=[c.value for c in DocumentCategory]),
                name="document_partenaire_category_valid",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def file_format(self) -> str:
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(self.mime, "Fichier")

    def clean(self):
        check_fields(title=self.title, description=self.description)
