"""Demande (D1–D9): one table for the five kinds, its thread, attachments and state history."""

import re
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils import timezone

from conventions.models import staff_caisse_ids
from core.dates import start_of_day, validate_plausible_date
from core.guard import free_text_validator, no_nir_validator
from core.text import fold
from core.working_days import subtract_working_days

from ..insured import DEPARTEMENT_CHOICES, validate_birth_date, validate_departement

USER = settings.AUTH_USER_MODEL
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
REFERENCE_PATTERN = re.compile(r"EP-[0-9]{2}-[0-9A-Z]{4}-[0-9A-Z]{4}")


class DemandeKind(models.TextChoices):
    """The five requests (D1); values are the service codes the caisse switches on (C5)."""

    CONTACT = "contact", "Contacter votre organisme d'assurance maladie"
    ETUDE_DOSSIER = "etude_dossier", "Soumettre une demande d'étude de dossier"
    SIGNALEMENT = "signalement", "Signaler une situation de difficultés d'accès aux droits et aux soins"
    RENDEZ_VOUS = "rendez_vous", "Demander un rendez-vous pour un assuré"
    DOCUMENT = "document", "Demander un document"


class DemandeState(models.TextChoices):
    ENVOYEE = "envoyee", "Envoyée"
    EN_COURS = "en_cours", "En cours"
    EN_ATTENTE = "en_attente", "En attente de complément"
    TRAITEE = "traitee", "Traitée"
    CLOTUREE = "cloturee", "Clôturée sans suite"


# D7: the only allowed state changes.
TRANSITIONS = {
    DemandeState.ENVOYEE: {DemandeState.EN_COURS, DemandeState.EN_ATTENTE, DemandeState.TRAITEE, DemandeState.CLOTUREE},
    DemandeState.EN_COURS: {DemandeState.EN_ATTENTE, DemandeState.TRAITEE, DemandeState.CLOTUREE},
    DemandeState.EN_ATTENTE: {DemandeState.EN_COURS, DemandeState.TRAITEE, DemandeState.CLOTUREE},
    DemandeState.TRAITEE: set(),
    DemandeState.CLOTUREE: set(),
}
FINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# In a fixed order: the dashboard's queries and the partial index must spell the same condition.
OPEN_STATES = tuple(state.value for state in DemandeState if state not in FINAL_STATES)
CLOSED_STATES = tuple(state.value for state in DemandeState if state in FINAL_STATES)


class DossierType(models.TextChoices):
    PUMA = "puma", "Protection universelle maladie (PUMa)"
    CSS = "css", "Complémentaire santé solidaire"
    AME = "ame", "Aide médicale de l'État"
    AUTRE = "autre", "Autre"


class SignalementNature(models.TextChoices):
    RUPTURE_DROITS = "rupture_droits", "Rupture ou absence de droits"
    RENONCEMENT = "renoncement", "Renoncement ou difficulté d'accès aux soins"
    DEMARCHES = "demarches", "Difficulté dans les démarches administratives"
    AUTRE = "autre", "Autre situation"


class Urgency(models.TextChoices):
    NORMALE = "normale", "Normale"
    URGENTE = "urgente", "Urgente"


class Modality(models.TextChoices):
    SUR_PLACE = "sur_place", "Sur place, à l'accueil de la caisse"
    TELEPHONE = "telephone", "Par téléphone"
    VISIO = "visio", "En visioconférence"


class DocumentType(models.TextChoices):
    ATTESTATION = "attestation_droits", "Attestation de droits"
    CEAM = "ceam_provisoire", "Certificat provisoire de remplacement de la CEAM"
    CARTE_VITALE = "formulaire_carte_vitale", "Formulaire de demande de carte Vitale"
    PREVENTION = "offres_prevention", "Offres de prévention"
    AUTRE = "autre", "Autre document"


class Delivery(models.TextChoices):
    ASSURE = "assure", "À l'adresse connue de l'assuré"
    PARTENAIRE = "partenaire", "À la structure (partenaire habilité)"


def new_reference() -> str:
    """Random, readable, unrelated to any other reference (D7): EP-26-7K3M-9QXA."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"EP-{timezone.now():%y}-{body[:4]}-{body[4:]}"


class DemandeQuerySet(models.QuerySet):
    def visible_to(self, user):
        """D8: a partner's users see all its requests; an agent its caisse's; the administrator all."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if user.is_partner:
            return self.filter(partenaire_id=user.partenaire_id)
        return self.filter(caisse_id__in=staff_caisse_ids(user))

    def search(self, term: str):
        """D8: a whole reference is matched exactly (its unique index); anything else is looked for, without
        accents or case, in "reference last first" (the trigram index on `search_text`)."""
        reference = term.strip().upper()
        if REFERENCE_PATTERN.fullmatch(reference):
            return self.filter(reference=reference)
        folded = fold(term)
        return self.filter(search_text__contains=folded) if folded else self

    def open(self):
        return self.filter(state__in=OPEN_STATES)


class Demande(models.Model):
    reference = models.CharField("référence", max_length=20, unique=True, default=new_reference, editable=False)
    kind = models.CharField("type de demande", max_length=16, choices=DemandeKind.choices)
    # No index of their own: the composite indexes below start with them.
    partenaire = models.ForeignKey(
        "conventions.Partenaire", on_delete=models.PROTECT, related_name="demandes", db_index=False
    )
    caisse = models.ForeignKey("conventions.Caisse", on_delete=models.PROTECT, related_name="demandes", db_index=False)
    filed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="demandes", verbose_name="déposée par")
    created_at = models.DateTimeField("déposée le", default=timezone.now)
    state = models.CharField("état", max_length=12, choices=DemandeState.choices, default=DemandeState.ENVOYEE)
    state_changed_at = models.DateTimeField("état modifié le", default=timezone.now)
    assigned_to = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="agent en charge"
    )
    # The last change the other side should notice (work queues): set by requests_app.services only. The caisse's
    # answers, moves and appointments for the partner; the partner's filing and messages for the caisse.
    caisse_changed_at = models.DateTimeField("modifiée par la caisse le", null=True, blank=True, editable=False)
    partner_changed_at = models.DateTimeField("modifiée par le partenaire le", null=True, blank=True, editable=False)
    # One form, one request: a reload or a double click posts the same token (D7).
    form_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)

    # The insured (D3): never the NIR.
    assure_civilite = models.CharField("civilité", max_length=3, choices=[("mme", "Madame"), ("m", "Monsieur")])
    assure_last_name = models.CharField("nom", max_length=150, validators=[no_nir_validator])
    assure_first_name = models.CharField("prénom", max_length=150, validators=[no_nir_validator])
    # Null once erased by retention (P6) only: the form requires it.
    assure_birth_date = models.DateField("date de naissance", null=True, validators=[validate_birth_date])
    assure_departement = models.CharField(
        "département de résidence", max_length=3, choices=DEPARTEMENT_CHOICES, validators=[validate_departement]
    )
    # Accent- and case-free "reference last first", for the history's search (D8).
    search_text = models.CharField(max_length=400, editable=False, db_index=False)

    # Étude de dossier
    dossier_type = models.CharField("dossier", max_length=8, choices=DossierType.choices, blank=True)
    dossier_other = models.CharField("autre dossier", max_length=200, blank=True, validators=[free_text_validator])
    # Signalement
    nature = models.CharField("nature de la difficulté", max_length=16, choices=SignalementNature.choices, blank=True)
    urgency = models.CharField("urgence", max_length=8, choices=Urgency.choices, blank=True)
    # Rendez-vous
    reason = models.CharField("motif du rendez-vous", max_length=300, blank=True, validators=[free_text_validator])
    modality = models.CharField("modalité", max_length=10, choices=Modality.choices, blank=True)
    slot_1 = models.DateTimeField("créneau souhaité 1", null=True, blank=True, validators=[validate_plausible_date])
    slot_2 = models.DateTimeField("créneau souhaité 2", null=True, blank=True, validators=[validate_plausible_date])
    slot_3 = models.DateTimeField("créneau souhaité 3", null=True, blank=True, validators=[validate_plausible_date])
    worker_attends = models.BooleanField("le travailleur social sera présent", null=True, blank=True)
    appointment_at = models.DateTimeField(
        "rendez-vous fixé le", null=True, blank=True, validators=[validate_plausible_date]
    )
    appointment_place = models.CharField(
        "lieu du rendez-vous", max_length=300, blank=True, validators=[free_text_validator]
    )
    # Demande de document
    document_type = models.CharField("document", max_length=24, choices=DocumentType.choices, blank=True)
    document_other = models.CharField("autre document", max_length=200, blank=True, validators=[free_text_validator])
    delivery = models.CharField("envoi", max_length=10, choices=Delivery.choices, blank=True)

    # P6: the insured's identity and every free text erased this long after closure; the rest stays as a statistic.
    erased_at = models.DateTimeField("identité et textes effacés le", null=True, blank=True, editable=False)

    objects = DemandeQuerySet.as_manager()

    class Meta:
        verbose_name = "demande"
        ordering = ["-created_at", "-id"]
        # Each list's filter and order has its index, so a page costs the page, not the table (see
        # tests/requests_app/test_query_plans.py): the partner's history newest first (D8), the caisse's
        # queue oldest first, the national list, the dashboard's open requests. The search's trigram index
        # (demande_search_trgm, PostgreSQL only) is made by migration 0004, outside the models' state.
        indexes = [
            models.Index(fields=["partenaire", "-created_at", "-id"], name="demande_partner_newest"),
            models.Index(fields=["partenaire", "state", "-created_at", "-id"], name="demande_partner_state"),
            models.Index(fields=["partenaire", "kind", "-created_at", "-id"], name="demande_partner_kind"),
            models.Index(fields=["caisse", "created_at", "id"], name="demande_caisse_queue"),
            models.Index(fields=["caisse", "state", "created_at", "id"], name="demande_caisse_state_age"),
            models.Index(fields=["created_at", "id"], name="demande_queue"),
            # The dashboard's counts of a caisse's open requests, read from the index alone (no heap).
            models.Index(
                fields=["caisse", "created_at"],
                name="demande_caisse_open_counts",
                condition=Q(state__in=OPEN_STATES),
                include=["state", "kind", "assigned_to", "id"],
            ),
            # Retention (P6): the closed requests not yet erased, by their closure.
            models.Index(
                fields=["state_changed_at"],
                name="demande_to_erase",
                condition=Q(state__in=CLOSED_STATES, erased_at__isnull=True),
            ),
            # The partner's work queue (portal home): its late requests oldest first, its unread answers newest.
            models.Index(
                fields=["partenaire", "created_at", "id"],
                name="demande_partner_open",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                fields=["partenaire", "-caisse_changed_at", "-id"],
                name="demande_partner_answered",
                condition=Q(caisse_changed_at__isnull=False),
            ),
            # The agent's side: the partners' news on his own requests (dashboard card, "lecture" filter), read in
            # his recent changes, not in his caisse's whole index.
            models.Index(
                fields=["assigned_to", "-partner_changed_at", "-id"],
                name="demande_agent_answered",
                condition=Q(partner_changed_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=DemandeKind.ETUDE_DOSSIER) | ~Q(dossier_type=""), name="demande_etude_has_dossier"
            ),
            models.CheckConstraint(
                condition=~Q(kind=DemandeKind.SIGNALEMENT) | (~Q(nature="") & ~Q(urgency="")),
                name="demande_signalement_has_nature",
            ),
            models.CheckConstraint(
                condition=~Q(kind=DemandeKind.RENDEZ_VOUS) | (~Q(modality="") & Q(slot_1__isnull=False)),
                name="demande_rdv_has_modality_and_slot",
            ),
            models.CheckConstraint(
                condition=~Q(kind=DemandeKind.DOCUMENT) | (~Q(document_type="") & ~Q(delivery="")),
                name="demande_document_has_type",
            ),
            models.CheckConstraint(condition=Q(state__in=[s.value for s in DemandeState]), name="demande_state_valid"),
        ]

    def __str__(self):
        return f"{self.reference} — {self.get_kind_display()}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def slots(self):
        return [slot for slot in (self.slot_1, self.slot_2, self.slot_3) if slot]


class Side(models.TextChoices):
    PARTENAIRE = "partenaire", "Partenaire"
    CAISSE = "caisse", "Caisse"


class Message(models.Model):
    """The thread between partner and caisse (D7); internal notes are never shown to the partner."""

    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="auteur")
    side = models.CharField("côté", max_length=10, choices=Side.choices)
    body = models.TextField("message", validators=[free_text_validator])
    internal = models.BooleanField("note interne à la caisse", default=False)
    created_at = models.DateTimeField("envoyé le", default=timezone.now)

    class Meta:
        verbose_name = "message"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(internal=False) | Q(side=Side.CAISSE), name="message_internal_is_caisse")
        ]

    def __str__(self):
        return f"Message du {self.created_at:%d/%m/%Y %H:%M}"


class Direction(models.TextChoices):
    ENTRANTE = "entrante", "Du partenaire vers la caisse"
    SORTANTE = "sortante", "De la caisse vers le partenaire"


class PieceJointe(models.Model):
    """An attachment, scanned and checked before it was stored (D5); kept on a staged form until filed."""

    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, null=True, blank=True, related_name="pieces")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="pieces")
    direction = models.CharField("sens", max_length=10, choices=Direction.choices, default=Direction.ENTRANTE)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="déposée par")
    uploaded_at = models.DateTimeField("déposée le", default=timezone.now)
    # Accepted on a form that was not yet valid: kept for that form (its token) until it is filed.
    staged_token = models.UUIDField(null=True, blank=True, db_index=True)
    # Stored by core.uploads.store() under a random name; never served directly.
    file = models.FileField("fichier", max_length=200)
    original_name = models.CharField("nom du fichier", max_length=120)
    mime = models.CharField("type", max_length=40)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField(max_length=64)
    # P6: the file deleted (and its name, its fingerprint) this long after the request was closed.
    deleted_at = models.DateTimeField("supprimée le", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["uploaded_at", "id"]
        # Retention (P6): the files still stored, by request.
        indexes = [
            models.Index(
                fields=["demande"],
                name="piece_stored",
                condition=Q(deleted_at__isnull=True, demande__isnull=False),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(demande__isnull=False) | Q(staged_token__isnull=False), name="piece_filed_or_staged"
            )
        ]

    def __str__(self):
        return self.original_name


class ChangedField(models.TextChoices):
    """What the history of a request records (D7): its states, and every field the caisse sets on it."""

    STATE = "state", "état"
    ASSIGNED_TO = "assigned_to", "agent en charge"
    APPOINTMENT_AT = "appointment_at", "rendez-vous fixé le"
    APPOINTMENT_PLACE = "appointment_place", "lieu du rendez-vous"


class DemandeChangeQuerySet(models.QuerySet):
    def states(self):
        """The state history, the part the partner sees (D7)."""
        return self.filter(field=ChangedField.STATE)


class DemandeChange(models.Model):
    """Who changed what on the request, from which value to which, when (D7). Values are stored as codes (a
    state, an account's number, an ISO date): labels and names are read when shown, so a purged account's
    name is never kept here (A15)."""

    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField("champ", max_length=20, choices=ChangedField.choices, default=ChangedField.STATE)
    old_value = models.CharField("ancienne valeur", max_length=300, blank=True)
    new_value = models.CharField("nouvelle valeur", max_length=300, blank=True)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name="par")
    at = models.DateTimeField("le", default=timezone.now)

    objects = DemandeChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "modification de la demande"
        verbose_name_plural = "historique de la demande"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_field_display()} : {self.old_display or '—'} → {self.new_display or '—'}"

    def _display(self, value: str) -> str:
        if not value:
            return ""
        if self.field == ChangedField.STATE:
            return DemandeState(value).label
        if self.field == ChangedField.APPOINTMENT_AT:
            return timezone.localtime(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")
        if self.field == ChangedField.ASSIGNED_TO:
            return _account_name(int(value))
        return value

    @property
    def old_display(self) -> str:
        return self._display(self.old_value)

    @property
    def new_display(self) -> str:
        return self._display(self.new_value)


def _account_name(pk: int) -> str:
    user = get_user_model().objects.filter(pk=pk).first()
    return (user.get_full_name() if user else "") or "Compte supprimé"


def overdue_q(today) -> Q:
    """Requests still open past their processing delay (working days per kind, settings)."""
    condition = Q(pk__in=[])
    for kind, days in settings.DEMANDE_PROCESSING_DAYS.items():
        condition |= Q(kind=kind, created_at__lt=start_of_day(subtract_working_days(today, days)))
    return condition & Q(state__in=OPEN_STATES)
