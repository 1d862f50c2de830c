"""Security records of an account: password history, emailed links, CGU versions and acceptances."""

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.dates import validate_plausible_date

from .user import User


class PasswordHistory(models.Model):
    """The last password hashes of an account, to refuse reusing one (A7)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Ancien mot de passe ({self.created_at:%d/%m/%Y})"


class TokenPurpose(models.TextChoices):
    ACTIVATION = "activation", "Activation du compte"
    RESET = "reset", "Réinitialisation du mot de passe"
    TWO_FACTOR = "two_factor", "Nouvel appareil de double authentification"


class AccountTokenQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class AccountToken(models.Model):
    """A single-use, time-limited link sent by email (A7). Only a hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=12, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccountTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "lien d'activation"
        verbose_name_plural = "liens d'activation"
        indexes = [models.Index(fields=["expires_at"], name="accounttoken_expires")]

    def __str__(self):
        return f"{self.get_purpose_display()} — {self.user}"


class CGU(models.Model):
    """A version of the Conditions générales d'utilisation, in force from its publication (A8)."""

    version = models.CharField("version", max_length=20, unique=True)
    title = models.CharField("titre", max_length=200, default="Conditions générales d'utilisation")
    body = models.TextField("texte")
    published_at = models.DateTimeField("en vigueur à partir du", validators=[validate_plausible_date])
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "version des CGU"
        verbose_name_plural = "versions des CGU"
        ordering = ["-published_at"]

    def __str__(self):
        return f"CGU {self.version}"


class CGUAcceptance(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cgu_acceptances")
    cgu = models.ForeignKey(CGU, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = "acceptation des CGU"
        verbose_name_plural = "acceptations des CGU"
        constraints = [models.UniqueConstraint(fields=["user", "cgu"], name="cgu_accepted_once")]

    def __str__(self):
        return f"{self.user} — {self.cgu} ({self.accepted_at:%d/%m/%Y})"
