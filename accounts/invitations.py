"""Emailed single-use links (A7): activation of a new account and password reset; password changes.

The secret travels only in the email; the database keeps its SHA-256.
"""

import hashlib
import secrets
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import audit
from core.models import Action

from . import emails
from .models import AccountState, AccountToken, PasswordHistory, TokenPurpose, User


class TokenProblem(Enum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


class TokenError(Exception):
    def __init__(self, problem: TokenProblem):
        super().__init__(problem.value)
        self.problem = problem


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Per purpose: the email template, the page the link opens, the setting of its validity in hours.
LINKS = {
    TokenPurpose.ACTIVATION: ("invitation", "activate", "ACCOUNT_TOKEN_TTL_HOURS"),
    TokenPurpose.RESET: ("password_reset", "password_reset_confirm", "PASSWORD_RESET_TOKEN_TTL_HOURS"),
    TokenPurpose.TWO_FACTOR: ("two_factor_reset", "two_factor_link", "TWO_FACTOR_LINK_TTL_HOURS"),
}


def _ttl_hours(purpose: TokenPurpose) -> int:
    return getattr(settings, LINKS[purpose][2])


def revoke_tokens(user: User, purpose: TokenPurpose | None = None) -> int:
    tokens = AccountToken.objects.valid().filter(user=user)
    if purpose:
        tokens = tokens.filter(purpose=purpose)
    return tokens.update(revoked_at=timezone.now())


def revoke_all_tokens(users) -> int:
    """Every link still valid of these accounts stops working, in one query (inactivation)."""
    return AccountToken.objects.valid().filter(user__in=users).update(revoked_at=timezone.now())


def _issue(user: User, purpose: TokenPurpose) -> str:
    revoke_tokens(user, purpose)
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    AccountToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=_hash(secret),
        created_at=now,
        expires_at=now + timedelta(hours=_ttl_hours(purpose)),
    )
    return secret


def _email_link(user: User, purpose: TokenPurpose) -> str:
    secret = _issue(user, purpose)
    template, url_name, _ = LINKS[purpose]
    link = emails.absolute_url(reverse(url_name, args=[secret]))
    emails.send(template, [user.email], {"user": user, "link": link, "ttl_hours": _ttl_hours(purpose)})
    return secret


def send_invitation(user: User, *, actor=None) -> str:
    secret = _email_link(user, TokenPurpose.ACTIVATION)
    audit.record(Action.INVITATION_SENT, actor=actor, target=user)
    return secret


def send_two_factor_link(user: User) -> str:
    """After a reset of the second factor: the link without which no new device can be enrolled (A17)."""
    return _email_link(user, TokenPurpose.TWO_FACTOR)


def valid_two_factor_links(user: User):
    """The reset's links that may still be opened (not used, replaced nor expired)."""
    return AccountToken.objects.valid().filter(user=user, purpose=TokenPurpose.TWO_FACTOR)


def find_token(secret: str, purpose: TokenPurpose) -> AccountToken:
    """The token behind a link, or TokenError saying whether it is unknown, expired or already used."""
    token = AccountToken.objects.select_related("user").filter(token_hash=_hash(secret), purpose=purpose).first()
    if token is None:
        raise TokenError(TokenProblem.UNKNOWN)
    if token.used_at or token.revoked_at:
        raise TokenError(TokenProblem.USED)
    if token.expires_at <= timezone.now():
        raise TokenError(TokenProblem.EXPIRED)
    usable_states = (AccountState.INVITE,) if purpose == TokenPurpose.ACTIVATION else (AccountState.ACTIF,)
    if token.user.state not in usable_states:
        raise TokenError(TokenProblem.USED)
    return token


@transaction.atomic
def set_password(user: User, raw_password: str, *, actor=None) -> None:
    """Validate against the rules (A7), keep the old hash in the history, stamp the change."""
    password_validation.validate_password(raw_password, user)
    if user.has_usable_password():
        PasswordHistory.objects.create(user=user, password=user.password)
    user.set_password(raw_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    audit.record(Action.PASSWORD_CHANGED, actor=actor or user, target=user)


def _use(secret: str, purpose: TokenPurpose) -> User:
    """Mark the link used before anything else: two uses at once, only one wins (the other gets USED).

    Called inside the caller's transaction: a refused password rolls the mark back and the link stays valid.
    """
    token = find_token(secret, purpose)
    if not AccountToken.objects.valid().filter(pk=token.pk).update(used_at=timezone.now()):
        raise TokenError(TokenProblem.USED)
    return User.objects.select_for_update().get(pk=token.user_id)


@transaction.atomic
def activate(secret: str, raw_password: str) -> User:
    user = _use(secret, TokenPurpose.ACTIVATION)
    set_password(user, raw_password)
    user.state = AccountState.ACTIF
    user.state_changed_at = timezone.now()
    user.save(update_fields=["state", "state_changed_at"])
    audit.record(Action.ACCOUNT_ACTIVATED, actor=user, target=user)
    return user


def request_password_reset(identifier: str) -> None:
    """Email a reset link when the identifier (login or email) matches one active account; say nothing
    either way, so the page never reveals whether an account exists."""
    identifier = (identifier or "").strip()
    if not identifier:
        return
    users = User.objects.filter(state=AccountState.ACTIF)
    matches = list(users.filter(username=identifier)[:2]) or list(users.filter(email__iexact=identifier)[:2])
    if len(matches) != 1:  # an email shared by two accounts (A1): the login is needed to know which
        return
    _email_link(matches[0], TokenPurpose.RESET)
    audit.record(Action.PASSWORD_RESET_REQUESTED, actor=None, target=matches[0])


@transaction.atomic
def reset_password(secret: str, raw_password: str) -> User:
    user = _use(secret, TokenPurpose.RESET)
    set_password(user, raw_password)
    notify_password_changed(user)
    return user


def change_password(user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "Le mot de passe actuel est incorrect."})
    try:
        set_password(user, new_password)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    notify_password_changed(user)


def notify_password_changed(user: User) -> None:
    emails.send("password_changed", [user.email], {"user": user, "link": emails.absolute_url(reverse("contacts"))})


def notify_email_changed(user: User, old_email: str) -> None:
    """To the previous address, so that a diverted account does not go unnoticed: the account's
    identifier and a link, never the new address."""
    if old_email and old_email.lower() != (user.email or "").lower():
        emails.send("email_changed", [old_email], {"user": user, "link": emails.absolute_url(reverse("contacts"))})


def renew_activation(secret: str) -> None:
    """From an expired or replaced activation link: send a fresh one to the account's own address."""
    token = (
        AccountToken.objects.select_related("user")
        .filter(token_hash=_hash(secret), purpose=TokenPurpose.ACTIVATION)
        .first()
    )
    if token is not None and token.user.state == AccountState.INVITE:
        send_invitation(token.user, actor=None)
