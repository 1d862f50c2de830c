"""Password rules (A7): character classes, history, maximum age per profile."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from .models import STAFF_PROFILES, PasswordHistory

CLASSES = (
    ("minuscules", str.islower),
    ("majuscules", str.isupper),
    ("chiffres", str.isdigit),
    ("caractères spéciaux", lambda char: not char.isalnum()),
)


class CharacterClassesValidator:
    """At least `min_classes` of: lowercase, uppercase, digits, special characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = sum(1 for _, test in CLASSES if any(test(char) for char in password))
        if present < self.min_classes:
            raise ValidationError(
                f"Le mot de passe doit mélanger au moins {self.min_classes} types de caractères parmi : "
                "minuscules, majuscules, chiffres, caractères spéciaux.",
                code="password_too_simple",
            )

    def get_help_text(self):
        return (
            f"Au moins {self.min_classes} types de caractères parmi : minuscules, majuscules, chiffres, "
            "caractères spéciaux."
        )


class HistoryValidator:
    """Refuses the current password and the last `history_size` ones."""

    def __init__(self, history_size: int = 5):
        self.history_size = history_size

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        previous = [
            user.password,
            *PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.history_size],
        ]
        if any(encoded and check_password(password, encoded) for encoded in previous):
            raise ValidationError(
                f"Ce mot de passe fait partie de vos {self.history_size} derniers : choisissez-en un nouveau.",
                code="password_reused",
            )

    def get_help_text(self):
        return f"Différent de vos {self.history_size} derniers mots de passe."


def max_age(user) -> timedelta:
    days = (
        settings.PASSWORD_MAX_AGE_DAYS_STAFF
        if user.profile in STAFF_PROFILES
        else (settings.PASSWORD_MAX_AGE_DAYS_PARTNER)
    )
    return timedelta(days=days)


def expires_at(user) -> datetime | None:
    if user.password_changed_at is None:
        return None
    return user.password_changed_at + max_age(user)


def is_expired(user, now: datetime) -> bool:
    expiry = expires_at(user)
    return expiry is not None and expiry <= now
