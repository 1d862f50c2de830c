"""What partners ask the caisse about accounts, and what the caisse asks back (A5, A10, A11, A13, A16)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from conventions.models import Partenaire
from core.dates import validate_plausible_date
from core.guard import no_nir_validator

from .user import Civilite

USER = settings.AUTH_USER_MODEL


class RequestStatus(models.TextChoices):
    PENDING = "pending", "À traiter"
    SCHEDULED = "scheduled", "Programmée"
    DONE = "done", "Traitée"
    REFUSED = "refused", "Refusée"


class PartnerScopedQuerySet(models.QuerySet):
    """Requests about a partner's accounts: staff see those of the partners visible to them."""

    def pending(self):
        return self.filter(status=RequestStatus.PENDING)

    def visible_to(self, user):
        return self.filter(partenaire__in=Partenaire.objects.visible_to(user))


class HabilitationRequest(models.Model):
    """A gestionnaire to habilitate; the caisse has 5 working days to process it (A5, art. 2.2.1)."""

    partenaire = models.ForeignKey("conventions.Partenaire", on_delete=models.PROTECT, related_name="+")
    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices)
    last_name = models.CharField("nom", max_length=150, validators=[no_nir_validator])
    first_name = models.CharField("prénom", max_length=150, validators=[no_nir_validator])
    job_title = models.CharField("fonction", max_length=150, validators=[no_nir_validator])
    phone = models.CharField("téléphone", max_length=20)
    email = models.EmailField("email professionnel")
    received_on = models.DateField("reçue le", validators=[validate_plausible_date])
    due_on = models.DateField("à traiter avant le", editable=False)
    requested_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="demandée par",
    )
    status = models.CharField("état", max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    processed_at = models.DateTimeField("traitée le", null=True, blank=True, editable=False)
    processed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="traitée par",
    )
    account = models.OneToOneField(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="habilitation_request",
        editable=False,
        verbose_name="compte créé",
    )
    refusal_reason = models.CharField("motif du refus", max_length=300, blank=True)
    reminded_on = models.DateField("rappel envoyé le", null=True, blank=True, editable=False)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "demande d'habilitation d'un gestionnaire"
        verbose_name_plural = "demandes d'habilitation de gestionnaires"
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="habilitation_pending_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.DONE) | Q(account__isnull=False),
                name="habilitation_done_has_account",
            ),
        ]

    def __str__(self):
        return f"Habilitation de {self.first_name} {self.last_name} ({self.partenaire})"


class GestionnaireRequestKind(models.TextChoices):
    MODIFICATION = "modification", "Modification du compte"
    INACTIVATION = "inactivation", "Inactivation du compte"


class GestionnaireRequest(models.Model):
    """A partner's request to modify or inactivate a gestionnaire; only the caisse applies it (A10, A11)."""

    MIN_NOTICE_DAYS = 15

    partenaire = models.ForeignKey("conventions.Partenaire", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("objet", max_length=12, choices=GestionnaireRequestKind.choices)
    target = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="gestionnaire concerné")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="demandée par")
    requested_at = models.DateTimeField("demandée le", auto_now_add=True)
    # Modification (A10): the new values, blank when unchanged.
    new_last_name = models.CharField("nouveau nom", max_length=150, blank=True, validators=[no_nir_validator])
    new_job_title = models.CharField("nouvelle fonction", max_length=150, blank=True, validators=[no_nir_validator])
    new_phone = models.CharField("nouveau téléphone", max_length=20, blank=True)
    new_email = models.EmailField("nouvel email", blank=True)
    # Inactivation (A11): the wanted date, at least 15 days after the request.
    wanted_on = models.DateField(
        "date d'inactivation souhaitée", null=True, blank=True, validators=[validate_plausible_date]
    )
    status = models.CharField("état", max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    processed_at = models.DateTimeField("traitée le", null=True, blank=True)
    processed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="traitée par"
    )
    refusal_reason = models.CharField("motif du refus", max_length=300, blank=True)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "demande sur un compte gestionnaire"
        verbose_name_plural = "demandes sur les comptes gestionnaires"
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=GestionnaireRequestKind.INACTIVATION) | Q(wanted_on__isnull=False),
                name="gestionnaire_request_inactivation_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.target}"

    @property
    def changes(self) -> dict[str, str]:
        fields = {
            "last_name": self.new_last_name,
            "job_title": self.new_job_title,
            "phone": self.new_phone,
            "email": self.new_email,
        }
        return {name: value for name, value in fields.items() if value}


class IncidentKind(models.TextChoices):
    FRAUD = "fraud", "Utilisation frauduleuse"
    LOSS = "loss", "Perte des identifiants"
    THEFT = "theft", "Vol des identifiants"
    MISUSE = "misuse", "Utilisation non conforme à la convention ou aux CGU"


class IncidentSource(models.TextChoices):
    PARTNER = "partner", "Signalé par le partenaire"
    CAISSE = "caisse", "Détecté par la caisse"


class AccountIncidentQuerySet(PartnerScopedQuerySet):
    def pending(self):
        return self.filter(processed_at__isnull=True)


class AccountIncident(models.Model):
    """Fraud, loss, theft or misuse of an account (A13): reported by the partner or detected by the caisse."""

    partenaire = models.ForeignKey("conventions.Partenaire", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="incidents", verbose_name="compte")
    kind = models.CharField("nature", max_length=10, choices=IncidentKind.choices)
    source = models.CharField("origine", max_length=10, choices=IncidentSource.choices)
    description = models.TextField("circonstances")
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="signalé par")
    reported_at = models.DateTimeField("signalé le", auto_now_add=True)
    processed_at = models.DateTimeField("traité le", null=True, blank=True)
    processed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="traité par"
    )
    # Proof of the notice sent to the partner when the caisse detected it (art. 4.1).
    notified_at = models.DateTimeField("partenaire informé le", null=True, blank=True)
    notified_to = models.TextField("destinataires de l'information", blank=True)
    notification_text = models.TextField("texte de l'information envoyée", blank=True)

    objects = AccountIncidentQuerySet.as_manager()

    class Meta:
        verbose_name = "signalement de compte (fraude, perte, vol)"
        verbose_name_plural = "signalements de comptes (fraude, perte, vol)"
        ordering = ["-reported_at"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.account}"


class HabilitationReviewQuerySet(PartnerScopedQuerySet):
    def late(self, today):
        return self.filter(attested_at__isnull=True, due_on__lt=today)


class HabilitationReview(models.Model):
    """The caisse asks for a review of the structure's accounts by a date; a gestionnaire attests it (A16)."""

    partenaire = models.ForeignKey("conventions.Partenaire", on_delete=models.PROTECT, related_name="reviews")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="demandée par")
    requested_at = models.DateTimeField("demandée le", auto_now_add=True)
    due_on = models.DateField("à attester avant le", validators=[validate_plausible_date])
    attested_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="attestée par"
    )
    attested_at = models.DateTimeField("attestée le", null=True, blank=True)
    reminded_on = models.DateField("rappel envoyé le", null=True, blank=True, editable=False)

    objects = HabilitationReviewQuerySet.as_manager()

    class Meta:
        verbose_name = "revue des habilitations"
        verbose_name_plural = "revues des habilitations"
        ordering = ["-requested_at"]

    def __str__(self):
        return f"Revue des habilitations de {self.partenaire} (avant le {self.due_on:%d/%m/%Y})"
