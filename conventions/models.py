"""Parties (Caisse, Partenaire) and their conventions (métier, d'utilisation), rules C1–C7."""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from core.dates import validate_plausible_date
from core.guard import no_nir_validator

from .validators import validate_email_domain, validate_siret


def _random_pdf_name(folder: str) -> str:
    """Random file names: the uploader's file name never reaches the disk."""
    return f"{folder}/{uuid.uuid4().hex}.pdf"


def signed_convention_upload_to(instance, filename):
    return _random_pdf_name("conventions")


def avenant_upload_to(instance, filename):
    return _random_pdf_name("avenants")


class Service(models.TextChoices):
    """The services a caisse activates per convention d'utilisation (C5, convention art. 1.2)."""

    CONTACT = "contact", "Contacter votre organisme d'assurance maladie"
    ETUDE_DOSSIER = "etude_dossier", "Soumettre une demande d'étude de dossier"
    SIGNALEMENT = "signalement", "Signaler une situation de difficultés d'accès aux droits et aux soins"
    RENDEZ_VOUS = "rendez_vous", "Demander un rendez-vous pour un assuré"
    DOCUMENT = "document", "Demander un document"
    HISTORIQUE = "historique", "Consulter l'historique des demandes"


class CaisseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff scoping: an agent sees its caisses, the national administrator every caisse."""
        caisse_ids = staff_caisse_ids(user)
        return self if caisse_ids is None else self.filter(pk__in=caisse_ids)


def staff_caisse_ids(user) -> frozenset[int] | None:
    """The caisses a staff member works on (None: all, for the national administrator).

    An agent's own caisse, plus those granted by object permission (django-guardian, direct FK).
    Computed once per request (kept on the user object).
    """
    if user.is_superuser:
        return None
    cached = getattr(user, "_staff_caisse_ids", None)
    if cached is None:
        ids = {user.caisse_id} if getattr(user, "caisse_id", None) else set()
        if ids:
            ids |= set(
                CaisseUserObjectPermission.objects.filter(
                    user_id=user.pk, permission__codename=WORK_ON_CAISSE
                ).values_list("content_object_id", flat=True)
            )
        cached = user._staff_caisse_ids = frozenset(ids)
    return cached


WORK_ON_CAISSE = "work_on_caisse"


class Caisse(models.Model):
    name = models.CharField("nom", max_length=200)
    code = models.CharField(
        "code organisme", max_length=9, unique=True, help_text="Code de la caisse, par exemple 597."
    )
    address_line = models.CharField("adresse", max_length=250)
    postal_code = models.CharField("code postal", max_length=5)
    city = models.CharField("commune", max_length=120)
    history = HistoricalRecords()

    objects = CaisseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "caisse"
        permissions = [(WORK_ON_CAISSE, "Traiter les dossiers de cette caisse")]

    def __str__(self):
        return self.name


class CaisseUserObjectPermission(UserObjectPermissionBase):
    """An agent granted another caisse (django-guardian, direct foreign key: no generic relation)."""

    content_object = models.ForeignKey(Caisse, on_delete=models.CASCADE)


class CaisseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Caisse, on_delete=models.CASCADE)


class Referent(models.Model):
    """A local contact of the caisse, shown to its partners in this order (C1, P3)."""

    caisse = models.ForeignKey(Caisse, on_delete=models.CASCADE, related_name="referents")
    position = models.PositiveSmallIntegerField("ordre", default=1)
    full_name = models.CharField("nom et prénom", max_length=200, validators=[no_nir_validator])
    role = models.CharField("fonction", max_length=200, validators=[no_nir_validator])
    phone = models.CharField("téléphone fixe", max_length=20, blank=True)
    mobile_phone = models.CharField("téléphone mobile", max_length=20, blank=True)
    email = models.EmailField("email", blank=True)
    # P7: the référent Espace Partenaires has an agent's account: it receives the problems partners report.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referent_roles",
        verbose_name="compte agent (référent Espace Partenaires)",
        help_text="Un agent de cette caisse : il reçoit les problèmes signalés par les partenaires.",
    )

    class Meta:
        ordering = ["caisse", "position", "id"]
        verbose_name = "référent local"
        verbose_name_plural = "référents locaux"
        constraints = [
            models.UniqueConstraint(
                fields=["caisse", "position"],
                name="referent_unique_position",
                violation_error_message="Deux référents de cette caisse ne peuvent pas avoir le même ordre.",
            ),
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(mobile_phone="") | ~Q(email=""),
                name="referent_has_a_contact",
                violation_error_message="Indiquez au moins un téléphone ou un email pour ce référent.",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.role})"

    def clean(self):
        if self.agent_id and self.agent.caisse_id != self.caisse_id:
            raise ValidationError({"agent": "Le référent doit être un agent de cette caisse."})


class PartenaireQuerySet(models.QuerySet):
    def not_suspended(self):
        return self.filter(suspended_at__isnull=True)

    def visible_to(self, user):
        """An agent sees the partners bound to its caisse by a convention, and those its caisse created."""
        caisse_ids = staff_caisse_ids(user)
        if caisse_ids is None:
            return self
        bound = ConventionMetier.objects.filter(partenaire=models.OuterRef("pk"), caisse_id__in=caisse_ids)
        return self.filter(models.Exists(bound) | Q(created_by_caisse_id__in=caisse_ids))


class Partenaire(models.Model):
    class Kind(models.TextChoices):
        CCAS = "ccas", "Centre communal ou intercommunal d'action sociale (CCAS, CIAS)"
        ASE = "ase", "Aide sociale à l'enfance (ASE)"
        MANDATAIRE = "mandataire", "Mandataire judiciaire à la protection des majeurs"
        ASSOCIATION = "association", "Association"
        PASS = "pass", "Permanence d'accès aux soins de santé (PASS)"
        MISSION_LOCALE = "mission_locale", "Mission locale"
        AUTRE = "autre", "Autre structure"

    # Kinds habilitated by default to receive documents (convention art. 1.2: ASE, mandataires).
    KINDS_RECEIVING_DOCUMENTS = frozenset({Kind.ASE, Kind.MANDATAIRE})

    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type de structure", max_length=20, choices=Kind.choices)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    address_line = models.CharField("adresse", max_length=250)
    postal_code = models.CharField("code postal", max_length=5)
    city = models.CharField("commune", max_length=120)
    legal_representative = models.CharField("représentant légal", max_length=200, validators=[no_nir_validator])
    legal_representative_title = models.CharField(
        "qualité du représentant",
        max_length=120,
        blank=True,
        help_text="Par exemple : Président.",
        validators=[no_nir_validator],
    )
    member_count = models.PositiveIntegerField(
        "nombre de membres",
        validators=[MinValueValidator(1, "La structure compte au moins un membre.")],
        help_text="Détermine le nombre de comptes gestionnaires et techniciens autorisés.",
    )
    can_receive_documents = models.BooleanField(
        "habilité à recevoir des documents",
        default=False,
        help_text="Vrai pour l'ASE et les mandataires judiciaires : ils peuvent recevoir les documents "
        "demandés et les pièces jointes sortantes de la caisse.",
    )
    notification_email = models.EmailField(
        "boîte email de la structure",
        blank=True,
        help_text="Reçoit, en plus de l'auteur, les avis de réponse et de changement d'état des demandes.",
    )
    created_by_caisse = models.ForeignKey(
        Caisse,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="créé par la caisse",
    )
    suspended_at = models.DateTimeField("suspendu le", null=True, blank=True)
    suspension_reason = models.TextField("motif de la suspension", blank=True)
    history = HistoricalRecords()

    objects = PartenaireQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "partenaire"
        constraints = [
            models.CheckConstraint(
                condition=Q(member_count__gte=1),
                name="partenaire_member_count_positive",
                violation_error_message="La structure compte au moins un membre.",
            ),
            models.CheckConstraint(
                condition=Q(suspended_at__isnull=True) | ~Q(suspension_reason=""),
                name="partenaire_suspension_has_reason",
                violation_error_message="Une suspension doit être motivée.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class DomaineEmail(models.Model):
    """A professional email domain the partner's accounts may use (A9)."""

    partenaire = models.ForeignKey(Partenaire, on_delete=models.CASCADE, related_name="email_domains")
    domain = models.CharField("domaine", max_length=253, validators=[validate_email_domain])

    class Meta:
        verbose_name = "domaine email professionnel"
        verbose_name_plural = "domaines email professionnels"
        constraints = [
            models.UniqueConstraint(
                "partenaire",
                Lower("domain"),
                name="domaine_email_unique_per_partenaire",
                violation_error_message="Ce domaine est déjà déclaré pour cette structure.",
            ),
        ]

    def __str__(self):
        return self.domain

    def clean_fields(self, exclude=None):
        # Typed "@Structure.fr " is stored as "structure.fr" before the validators run.
        self.domain = (self.domain or "").strip().lower().lstrip("@")
        super().clean_fields(exclude)


class ConventionStatus(models.TextChoices):
    EN_VIGUEUR = "en_vigueur", "En vigueur"
    TERMINEE = "terminee", "Terminée"
    RESILIEE = "resiliee", "Résiliée"


def in_force_q(prefix: str = "", on: date | None = None) -> Q:
    """Condition for a convention métier in force on a date (end date included)."""
    on = on or timezone.localdate()
    return Q(**{f"{prefix}status": ConventionStatus.EN_VIGUEUR, f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


class ConventionMetierQuerySet(models.QuerySet):
    def in_force(self, on: date | None = None):
        return self.filter(in_force_q(on=on))

    def past_their_end_date(self, on: date | None = None):
        """Still in force but their end date has passed: the nightly job ends them (C4)."""
        return self.filter(status=ConventionStatus.EN_VIGUEUR, end_date__lt=on or timezone.localdate())

    def visible_to(self, user):
        caisse_ids = staff_caisse_ids(user)
        return self if caisse_ids is None else self.filter(caisse_id__in=caisse_ids)


def _label_sql(kind: str, partenaire: str, caisse: str, day: str):
    """A convention's `str()` ("<kind> <partenaire> — <caisse> (dd/mm/yyyy)") as an SQL expression."""
    text = models.CharField()
    on = Func(F(day), Value("DD/MM/YYYY"), function="to_char", output_field=text)
    parts = (Value(f"{kind} "), F(partenaire), Value(" — "), F(caisse), Value(" ("), on, Value(")"))
    return Concat(*parts, output_field=text)


class ConventionMetier(models.Model):
    """Convention « accès aux droits et aux soins » between one partner and one caisse (C3)."""

    caisse = models.ForeignKey(Caisse, on_delete=models.PROTECT, related_name="conventions_metier")
    partenaire = models.ForeignKey(Partenaire, on_delete=models.PROTECT, related_name="conventions_metier")
    reference = models.CharField("référence", max_length=60, blank=True)
    start_date = models.DateField("date de début", validators=[validate_plausible_date])
    end_date = models.DateField(
        "date de fin",
        null=True,
        blank=True,
        help_text="Vide : durée indéterminée.",
        validators=[validate_plausible_date],
    )
    status = models.CharField(
        "état", max_length=12, choices=ConventionStatus.choices, default=ConventionStatus.EN_VIGUEUR
    )
    ended_on = models.DateField("terminée le", null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = ConventionMetierQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        verbose_name = "convention métier"
        verbose_name_plural = "conventions métier"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="convention_metier_end_after_start",
                violation_error_message="La date de fin ne peut pas précéder la date de début.",
            ),
            models.CheckConstraint(
                condition=Q(status=ConventionStatus.EN_VIGUEUR, ended_on__isnull=True)
                | (~Q(status=ConventionStatus.EN_VIGUEUR) & Q(ended_on__isnull=False)),
                name="convention_metier_ended_on_iff_ended",
                violation_error_message="Une convention terminée ou résiliée a une date de fin effective.",
            ),
            models.UniqueConstraint(
                fields=["caisse", "partenaire"],
                condition=Q(status=ConventionStatus.EN_VIGUEUR),
                name="convention_metier_one_in_force_per_pair",
                violation_error_message="Ce partenaire a déjà une convention métier en vigueur avec cette caisse.",
            ),
        ]

    def __str__(self):
        return f"Convention métier {self.partenaire} — {self.caisse} ({self.start_date:%d/%m/%Y})"

    @staticmethod
    def audit_label_expression():
        """`str()` in SQL, for the journal entries the database writes itself (core.audit)."""
        return _label_sql("Convention métier", "partenaire__name", "caisse__name", "start_date")

    def is_in_force(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.status == ConventionStatus.EN_VIGUEUR
            and self.start_date <= on
            and (self.end_date is None or self.end_date >= on)
        )


class ConventionUtilisationQuerySet(models.QuerySet):
    def in_force(self, on: date | None = None):
        """In force: signed, itself not ended, and its convention métier in force (C4)."""
        on = on or timezone.localdate()
        return self.filter(in_force_q("convention_metier__", on), status=ConventionStatus.EN_VIGUEUR, signed_on__lte=on)

    def visible_to(self, user):
        caisse_ids = staff_caisse_ids(user)
        return self if caisse_ids is None else self.filter(convention_metier__caisse_id__in=caisse_ids)


class ConventionUtilisation(models.Model):
    """Convention d'utilisation of the Espace Partenaires, attached to one convention métier (C4, C5)."""

    convention_metier = models.OneToOneField(
        ConventionMetier,
        on_delete=models.PROTECT,
        related_name="convention_utilisation",
        error_messages={"unique": "Cette convention métier a déjà une convention d'utilisation."},
    )
    signed_on = models.DateField(
        "date de signature", help_text="La convention prend effet à cette date.", validators=[validate_plausible_date]
    )
    partner_signatory = models.CharField("signataire pour le partenaire", max_length=200, validators=[no_nir_validator])
    caisse_signatory = models.CharField("signataire pour la caisse", max_length=200, validators=[no_nir_validator])
    deliberation_reference = models.CharField("référence de la délibération", max_length=120, blank=True)
    signed_document = models.FileField("convention signée (PDF)", upload_to=signed_convention_upload_to, blank=True)
    status = models.CharField(
        "état", max_length=12, choices=ConventionStatus.choices, default=ConventionStatus.EN_VIGUEUR
    )
    ended_on = models.DateField("terminée le", null=True, blank=True, editable=False)
    termination_notice = models.OneToOneField(
        "MiseEnDemeure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="mise en demeure à l'origine de la résiliation",
    )
    # Services the caisse activates (C5): off = neither shown nor accepted.
    service_contact = models.BooleanField(Service.CONTACT.label, default=True)
    service_etude_dossier = models.BooleanField(Service.ETUDE_DOSSIER.label, default=True)
    service_signalement = models.BooleanField(Service.SIGNALEMENT.label, default=True)
    service_rendez_vous = models.BooleanField(Service.RENDEZ_VOUS.label, default=True)
    service_document = models.BooleanField(Service.DOCUMENT.label, default=True)
    service_historique = models.BooleanField(Service.HISTORIQUE.label, default=True)
    history = HistoricalRecords()

    objects = ConventionUtilisationQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on"]
        verbose_name = "convention d'utilisation"
        verbose_name_plural = "conventions d'utilisation"
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ConventionStatus.EN_VIGUEUR, ended_on__isnull=True)
                | (~Q(status=ConventionStatus.EN_VIGUEUR) & Q(ended_on__isnull=False)),
                name="convention_utilisation_ended_on_iff_ended",
                violation_error_message="Une convention terminée ou résiliée a une date de fin effective.",
            ),
            models.CheckConstraint(
                condition=Q(termination_notice__isnull=True) | Q(status=ConventionStatus.RESILIEE),
                name="convention_utilisation_notice_only_if_terminated",
                violation_error_message="Seule une convention résiliée renvoie à une mise en demeure.",
            ),
        ]

    def __str__(self):
        metier = self.convention_metier
        return f"Convention d'utilisation {metier.partenaire} — {metier.caisse} ({self.signed_on:%d/%m/%Y})"

    @staticmethod
    def audit_label_expression():
        """`str()` in SQL, for the journal entries the database writes itself (core.audit)."""
        metier = "convention_metier__"
        return _label_sql("Convention d'utilisation", f"{metier}partenaire__name", f"{metier}caisse__name", "signed_on")

    @staticmethod
    def service_field(service: str) -> str:
        return f"service_{Service(service).value}"

    def has_service(self, service: str) -> bool:
        return getattr(self, self.service_field(service))

    @property
    def enabled_services(self) -> list[Service]:
        return [service for service in Service if self.has_service(service)]


class Avenant(models.Model):
    """An amendment of a convention d'utilisation: its date and what it changes (art. 8.3)."""

    convention = models.ForeignKey(ConventionUtilisation, on_delete=models.PROTECT, related_name="avenants")
    signed_on = models.DateField("date de l'avenant", validators=[validate_plausible_date])
    description = models.TextField("éléments modifiés")
    document = models.FileField("avenant signé (PDF)", upload_to=avenant_upload_to, blank=True)
    created_at = models.DateTimeField("enregistré le", auto_now_add=True)

    class Meta:
        ordering = ["signed_on", "id"]
        verbose_name = "avenant"

    def __str__(self):
        return f"Avenant du {self.signed_on:%d/%m/%Y}"


class MiseEnDemeure(models.Model):
    """Formal notice of a breach; termination allowed 30 calendar days after its receipt (C6)."""

    class Issuer(models.TextChoices):
        CAISSE = "caisse", "La caisse"
        PARTENAIRE = "partenaire", "Le partenaire"

    NOTICE_PERIOD_DAYS = 30

    convention = models.ForeignKey(ConventionUtilisation, on_delete=models.PROTECT, related_name="mises_en_demeure")
    issued_by = models.CharField("émise par", max_length=12, choices=Issuer.choices)
    sent_on = models.DateField("envoyée le", validators=[validate_plausible_date])
    received_on = models.DateField(
        "reçue le",
        help_text="Date de l'avis de réception de la lettre recommandée.",
        validators=[validate_plausible_date],
    )
    grounds = models.TextField("manquements constatés")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    recorded_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    class Meta:
        ordering = ["-received_on"]
        verbose_name = "mise en demeure"
        verbose_name_plural = "mises en demeure"
        constraints = [
            models.CheckConstraint(
                condition=Q(received_on__gte=models.F("sent_on")),
                name="mise_en_demeure_received_after_sent",
                violation_error_message="La date de réception ne peut pas précéder la date d'envoi.",
            ),
        ]

    def __str__(self):
        return f"Mise en demeure reçue le {self.received_on:%d/%m/%Y}"

    @property
    def termination_possible_from(self) -> date:
        return self.received_on + timedelta(days=self.NOTICE_PERIOD_DAYS)


class CanalSecours(models.Model):
    """The other channel a caisse guarantees for one activated service during a maintenance or a malfunction of
    the portal (P8, convention art. 3.2): shown in the banner, on the maintenance page, on the contacts page and
    on the page served when the database is down (from the snapshot of `conventions.continuity`)."""

    caisse = models.ForeignKey(Caisse, on_delete=models.CASCADE, related_name="canaux_secours")
    service = models.CharField("service", max_length=16, choices=Service.choices)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("email", blank=True)
    postal_address = models.CharField("adresse postale", max_length=250, blank=True, validators=[no_nir_validator])
    opening_hours = models.CharField(
        "horaires", max_length=200, blank=True, help_text="Par exemple : du lundi au vendredi, de 9 h à 17 h."
    )

    class Meta:
        ordering = ["caisse", "service"]
        verbose_name = "canal de secours"
        verbose_name_plural = "canaux de secours (maintenance ou panne du portail)"
        constraints = [
            models.UniqueConstraint(
                fields=["caisse", "service"],
                name="canal_secours_unique_service",
                violation_error_message="Ce service a déjà un canal de secours pour cette caisse.",
            ),
            models.CheckConstraint(
                condition=Q(service__in=[s.value for s in Service]),
                name="canal_secours_service_valid",
            ),
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(email="") | ~Q(postal_address=""),
                name="canal_secours_has_a_channel",
                violation_error_message="Indiquez au moins un téléphone, un email ou une adresse postale.",
            ),
        ]

    def __str__(self):
        return f"{self.caisse} — {self.get_service_display()}"
