"""Portal accounts: one model for every profile (A1), a state instead of Django's is_active."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from simple_history.models import HistoricalRecords

from conventions.models import Partenaire, staff_caisse_ids
from core.guard import no_nir_validator


class Civilite(models.TextChoices):
    MADAME = "mme", "Madame"
    MONSIEUR = "m", "Monsieur"


class Profile(models.TextChoices):
    GESTIONNAIRE = "gestionnaire", "Gestionnaire"
    TECHNICIEN = "technicien", "Technicien"
    AGENT = "agent", "Agent de caisse"
    ADMINISTRATEUR = "administrateur", "Administrateur national"


PARTNER_PROFILES = (Profile.GESTIONNAIRE, Profile.TECHNICIEN)
STAFF_PROFILES = (Profile.AGENT, Profile.ADMINISTRATEUR)


class AccountState(models.TextChoices):
    INVITE = "invite", "Invité"
    ACTIF = "actif", "Actif"
    INACTIVE = "inactive", "Inactivé"
    SUPPRIME = "supprime", "Supprimé"


class UserQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=AccountState.ACTIF)

    def of_partenaire(self, partenaire):
        return self.filter(partenaire=partenaire)

    def visible_to(self, user):
        """Staff scoping: an agent sees its caisse's colleagues and the accounts of its partners."""
        caisse_ids = staff_caisse_ids(user)
        if caisse_ids is None:
            return self
        return self.filter(Q(partenaire__in=Partenaire.objects.visible_to(user)) | Q(caisse_id__in=caisse_ids))


# A4: invited and active accounts hold a place in the quotas; inactivated ones do not.
OCCUPYING_STATES = (AccountState.INVITE, AccountState.ACTIF)


class InactivationReason(models.TextChoices):
    LEFT_STRUCTURE = "left_structure", "A quitté la structure"
    OTHER_FIELD = "other_field", "Intervient sur un autre domaine, sans lien avec l'Assurance Maladie"
    OTHER = "other", "Autre motif"
    PARTNER_REQUEST = "partner_request", "Demande d'inactivation transmise par le partenaire"
    FRAUD = "fraud", "Utilisation frauduleuse, perte ou vol des identifiants"
    CONVENTION_ENDED = "convention_ended", "Fin de la convention"


# Reasons a gestionnaire may give when inactivating a technicien (A12).
GESTIONNAIRE_REASONS = (InactivationReason.LEFT_STRUCTURE, InactivationReason.OTHER_FIELD, InactivationReason.OTHER)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def create_user(self, username, password=None, **fields):
        user = self.model(username=self.model.normalize_username(username), **fields)
        user.email = self.normalize_email(user.email)
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **fields):
        fields.update(profile=Profile.ADMINISTRATEUR, state=AccountState.ACTIF, is_superuser=True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(
        "identifiant",
        max_length=150,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        error_messages={"unique": "Cet identifiant est déjà utilisé."},
    )
    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True, validators=[no_nir_validator])
    first_name = models.CharField("prénom", max_length=150, blank=True, validators=[no_nir_validator])
    job_title = models.CharField("fonction", max_length=150, blank=True, validators=[no_nir_validator])
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("email", blank=True)
    profile = models.CharField("profil", max_length=16, choices=Profile.choices)
    partenaire = models.ForeignKey(
        "conventions.Partenaire", on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    caisse = models.ForeignKey(
        "conventions.Caisse", on_delete=models.PROTECT, null=True, blank=True, related_name="agents"
    )
    state = models.CharField("état", max_length=10, choices=AccountState.choices, default=AccountState.INVITE)
    state_changed_at = models.DateTimeField("état modifié le", default=timezone.now)
    date_joined = models.DateTimeField("créé le", default=timezone.now)
    created_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="créé par"
    )
    # The gestionnaire a technicien is attached to (A11: reattached when that gestionnaire leaves).
    attached_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="techniciens",
        verbose_name="gestionnaire de rattachement",
    )
    password_changed_at = models.DateTimeField("mot de passe changé le", null=True, blank=True)
    password_reminder_sent_at = models.DateTimeField(
        "rappel d'expiration envoyé le", null=True, blank=True, editable=False
    )
    inactivated_at = models.DateTimeField("inactivé le", null=True, blank=True)
    inactivation_reason = models.CharField(
        "motif d'inactivation", max_length=20, choices=InactivationReason.choices, blank=True
    )
    inactivation_comment = models.CharField("précision sur le motif", max_length=300, blank=True)
    # A17: after a reset of the second factor, a new device only through the emailed link (accounts.two_factor).
    two_factor_link_required = models.BooleanField(
        "nouvel appareil seulement par le lien envoyé", default=False, editable=False
    )
    # Demo logins are refused when DEBUG is off (see accounts.backends).
    is_demo = models.BooleanField("compte de démonstration", default=False, editable=False)
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = "compte"
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(profile__in=PARTNER_PROFILES, partenaire__isnull=False, caisse__isnull=True)
                    | Q(profile=Profile.AGENT, partenaire__isnull=True, caisse__isnull=False)
                    | Q(profile=Profile.ADMINISTRATEUR, partenaire__isnull=True, caisse__isnull=True)
                ),
                name="user_profile_belongs_to_partner_or_caisse",
                violation_error_message=(
                    "Un gestionnaire ou un technicien appartient à une structure partenaire, un agent à une "
                    "caisse ; un administrateur national à aucune des deux."
                ),
            ),
            models.CheckConstraint(
                condition=Q(is_superuser=False) | Q(profile=Profile.ADMINISTRATEUR),
                name="user_superuser_is_administrateur",
                violation_error_message="Seul un administrateur national a tous les droits.",
            ),
            models.CheckConstraint(
                condition=Q(profile__in=[p.value for p in Profile]),
                name="user_profile_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in AccountState]),
                name="user_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state=AccountState.INACTIVE) | Q(inactivated_at__isnull=False, inactivation_reason__gt=""),
                name="user_inactivated_has_date_and_reason",
                violation_error_message="Un compte inactivé a une date et un motif d'inactivation.",
            ),
        ]
        indexes = [models.Index(fields=["partenaire", "profile", "state"], name="user_partner_profile_state")]

    def __str__(self):
        name = self.get_full_name()
        return f"{name} ({self.username})" if name else self.username

    @property
    def audit_label(self) -> str:
        return f"Compte n° {self.pk}"

    @staticmethod
    def audit_label_expression():
        """`audit_label` in SQL, for the journal entries the database writes itself (core.audit)."""
        return Concat(Value("Compte n° "), Cast("pk", output_field=models.CharField()))

    def get_full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def get_short_name(self) -> str:
        return self.first_name or self.username

    # Django reads these two; they follow the profile and the state, never stored twice.
    @property
    def is_active(self) -> bool:
        return self.state == AccountState.ACTIF

    @property
    def is_staff(self) -> bool:
        return self.profile in STAFF_PROFILES

    @property
    def is_partner(self) -> bool:
        return self.profile in PARTNER_PROFILES

    @property
    def is_gestionnaire(self) -> bool:
        return self.profile == Profile.GESTIONNAIRE

    @property
    def is_technicien(self) -> bool:
        return self.profile == Profile.TECHNICIEN
