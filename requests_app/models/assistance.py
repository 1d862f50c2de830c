"""Assistance (P7, convention art. 3.3 and 7): a problem a partner user reports to one of its caisses, handled by
the caisse's referents or transmitted to national support; and the information a caisse gives its partners."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from conventions.models import staff_caisse_ids
from core.guard import free_text_validator

from .demande import REFERENCE_ALPHABET

USER = settings.AUTH_USER_MODEL


class TicketCategory(models.TextChoices):
    USAGE = "usage", "Question d'utilisation"
    DYSFONCTIONNEMENT = "dysfonctionnement", "Dysfonctionnement du portail"
    COMPTE = "compte", "Problème de compte"


class TicketState(models.TextChoices):
    NOUVEAU = "nouveau", "Nouveau"
    PRIS_EN_CHARGE = "pris_en_charge", "Pris en charge"
    ATTENTE_PARTENAIRE = "attente_partenaire", "En attente du partenaire"
    TRANSMIS = "transmis", "Transmis au support national"
    RESOLU = "resolu", "Résolu"


# P7: the only allowed moves. National support's answer brings a transmitted ticket back to the referent
# (pris en charge), who passes it on to the partner.
TICKET_TRANSITIONS = {
    TicketState.NOUVEAU: {
        TicketState.PRIS_EN_CHARGE,
        TicketState.ATTENTE_PARTENAIRE,
        TicketState.TRANSMIS,
        TicketState.RESOLU,
    },
    TicketState.PRIS_EN_CHARGE: {TicketState.ATTENTE_PARTENAIRE, TicketState.TRANSMIS, TicketState.RESOLU},
    TicketState.ATTENTE_PARTENAIRE: {TicketState.PRIS_EN_CHARGE, TicketState.TRANSMIS, TicketState.RESOLU},
    TicketState.TRANSMIS: {TicketState.PRIS_EN_CHARGE, TicketState.RESOLU},
    TicketState.RESOLU: set(),
}
TICKET_OPEN_STATES = tuple(state.value for state in TicketState if TICKET_TRANSITIONS[state])


def new_ticket_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"AS-{timezone.now():%y}-{body[:4]}-{body[4:]}"


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A partner's users see their structure's tickets; an agent its caisses'; the administrator all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if user.is_partner:
            return self.filter(partenaire_id=user.partenaire_id)
        return self.filter(caisse_id__in=staff_caisse_ids(user))

    def open(self):
        return self.filter(state__in=TICKET_OPEN_STATES)


class Ticket(models.Model):
    """A problem reported to a caisse from the portal (P7)."""

    reference = models.CharField("référence", max_length=20, unique=True, default=new_ticket_reference, editable=False)
    partenaire = models.ForeignKey(
        "conventions.Partenaire", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    caisse = models.ForeignKey("conventions.Caisse", on_delete=models.PROTECT, related_name="tickets", db_index=False)
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="tickets", verbose_name="signalé par")
    category = models.CharField("catégorie", max_length=20, choices=TicketCategory.choices)
    page = models.CharField("page ou service concerné", max_length=300, blank=True)
    description = models.TextField("description", max_length=4000, validators=[free_text_validator])
    user_agent = models.CharField("navigateur", max_length=300, blank=True)
    created_at = models.DateTimeField("signalé le", default=timezone.now)
    state = models.CharField("état", max_length=20, choices=TicketState.choices, default=TicketState.NOUVEAU)
    state_changed_at = models.DateTimeField("état modifié le", default=timezone.now)
    escalated_at = models.DateTimeField("transmis au support national le", null=True, blank=True)
    # One form, one ticket: a reload or a double click posts the same token.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = "problème signalé"
        verbose_name_plural = "problèmes signalés (assistance)"
        ordering = ["created_at", "id"]
        indexes = [
            # The partner's list, newest first; the caisse's queue and the national queue, oldest first.
            models.Index(fields=["partenaire", "-created_at", "-id"], name="ticket_partner_newest"),
            models.Index(fields=["caisse", "created_at", "id"], name="ticket_caisse_queue"),
            models.Index(
                fields=["caisse", "created_at"], name="ticket_caisse_open", condition=Q(state__in=TICKET_OPEN_STATES)
            ),
            models.Index(
                fields=["created_at", "id"], name="ticket_national_queue", condition=Q(state=TicketState.TRANSMIS)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=[c.value for c in TicketCategory]), name="ticket_category_valid"
            ),
            models.CheckConstraint(condition=Q(state__in=[s.value for s in TicketState]), name="ticket_state_valid"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_final(self) -> bool:
        return not TICKET_TRANSITIONS[TicketState(self.state)]


class TicketSide(models.TextChoices):
    PARTENAIRE = "partenaire", "Partenaire"
    CAISSE = "caisse", "Référent de la caisse"
    NATIONAL = "national", "Support national"


class TicketMessage(models.Model):
    """The thread. National support's messages and the escalation note stay between the caisse and national
    support (`internal`): the answer reaches the partner through the referent."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="auteur")
    side = models.CharField("de", max_length=12, choices=TicketSide.choices)
    body = models.TextField("message", max_length=4000, validators=[free_text_validator])
    internal = models.BooleanField("entre la caisse et le support national", default=False)
    created_at = models.DateTimeField("envoyé le", default=timezone.now)

    class Meta:
        verbose_name = "message"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="ticket_message_thread")]

    def __str__(self):
        return f"{self.get_side_display()} — {timezone.localtime(self.created_at):%d/%m/%Y %H:%M}"


class TicketAttachment(models.Model):
    """A screenshot (or PDF) checked like a request's attachment (type from content, antivirus, size)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(max_length=200)
    original_name = models.CharField("nom du fichier", max_length=120)
    mime = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "capture d'écran"
        verbose_name_plural = "captures d'écran"
        ordering = ["id"]

    def __str__(self):
        return self.original_name


class InformationQuerySet(models.QuerySet):
    def visible_to(self, user):
        caisse_ids = staff_caisse_ids(user)
        return self if caisse_ids is None else self.filter(caisse_id__in=caisse_ids)


class InformationPartenaire(models.Model):
    """The other way (art. 7): a caisse tells one of its partners, or all of them, of a problem; shown on their
    home page until one of their users acknowledges it (who and when kept per structure)."""

    caisse = models.ForeignKey("conventions.Caisse", on_delete=models.PROTECT, related_name="informations")
    partenaire = models.ForeignKey(
        "conventions.Partenaire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="informations",
        verbose_name="structure",
        help_text="Vide : tous les partenaires de la caisse.",
    )
    title = models.CharField("titre", max_length=150, validators=[free_text_validator])
    body = models.TextField("message", max_length=2000, validators=[free_text_validator])
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="publiée par")
    created_at = models.DateTimeField("publiée le", default=timezone.now)

    objects = InformationQuerySet.as_manager()

    class Meta:
        verbose_name = "information aux partenaires"
        verbose_name_plural = "informations aux partenaires"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["caisse", "-created_at"], name="information_caisse_newest")]

    def __str__(self):
        return self.title


class InformationAcknowledgement(models.Model):
    information = models.ForeignKey(InformationPartenaire, on_delete=models.CASCADE, related_name="acknowledgements")
    partenaire = models.ForeignKey("conventions.Partenaire", on_delete=models.CASCADE, related_name="+")
    acknowledged_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="lue par")
    acknowledged_at = models.DateTimeField("lue le", default=timezone.now)

    class Meta:
        verbose_name = "prise de connaissance"
        constraints = [
            models.UniqueConstraint(fields=["information", "partenaire"], name="information_acknowledged_once")
        ]

    def __str__(self):
        return f"{self.information} — {self.acknowledged_at:%d/%m/%Y}"
