"""Two-factor authentication (A17): a TOTP application, with single-use backup codes.

django-otp brings the devices (TOTPDevice, StaticDevice), the token checks with their throttling, and the
session state (`django_otp.login`, `request.user.is_verified()`). It has no enrolment, no "who must use it"
rule and no reset: they live here, and every page, admin action or middleware calls these functions.
"""

import math
import re
from base64 import b32encode

import django_otp
import qrcode
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathFillImage

from conventions.models import Partenaire
from core import audit
from core.models import Action

from . import invitations
from .models import Profile, TokenPurpose, User

DEVICE_NAME = "Application d'authentification"
BACKUP_DEVICE_NAME = "Codes de secours"
BACKUP_CODE_COUNT = 10
TOTP_PATTERN = re.compile(r"[0-9]{6}")
# StaticToken.random_token(): 5 random bytes in lowercase base32.
BACKUP_CODE_PATTERN = re.compile(r"[a-z2-7]{8}")
QR_CODE_LABEL = (
    "QR code à scanner avec votre application d'authentification. "
    "Si vous ne pouvez pas le scanner, saisissez la clé écrite sous l'image."
)

ALWAYS_REQUIRED = (Profile.GESTIONNAIRE, Profile.AGENT, Profile.ADMINISTRATEUR)


# --- Who --------------------------------------------------------------------------------------------------


def is_required(user) -> bool:
    """Caisse staff and gestionnaires always; techniciens when TECHNICIEN_2FA_REQUIRED (on by default)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.profile == Profile.TECHNICIEN:
        return bool(getattr(settings, "TECHNICIEN_2FA_REQUIRED", True))
    return user.profile in ALWAYS_REQUIRED


def has_confirmed_device(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


# --- Enrolment --------------------------------------------------------------------------------------------


def start_enrolment(user) -> TOTPDevice:
    """The user's one unconfirmed TOTP device, created on the first call and reused after (the key shown on
    the page stays the same when it is reloaded)."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time per account
        if has_confirmed_device(user):
            raise ValidationError(
                "La double authentification est déjà activée sur ce compte. Pour changer de téléphone, "
                "demandez une réinitialisation à votre gestionnaire ou à votre caisse."
            )
        pending = list(TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk"))
        if pending:
            device, extra = pending[0], pending[1:]
            for other in extra:
                other.delete()
            return device
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def qr_code_svg(device: TOTPDevice) -> str:
    """Inline SVG markup of the device's otpauth:// URL, black on white (readable in dark mode too),
    announced as an image with a text alternative."""
    code = qrcode.QRCode(border=4, box_size=10, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(device.config_url)
    image = code.make_image(
        image_factory=SvgPathFillImage,
        **{"role": "img", "aria-label": QR_CODE_LABEL, "class": "portal-qr-code", "focusable": "false"},
    )
    return image.to_string(encoding="unicode")


def secret_for_manual_entry(device: TOTPDevice) -> str:
    """The key in base32, grouped by 4 characters, as the authenticator applications ask for it."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(request, device: TOTPDevice, token) -> list[str]:
    """Check the first code of the application; on success confirm the device, give 10 new backup codes
    (returned in clear this once) and mark the session as verified."""
    user = request.user
    if device.user_id != user.pk:
        raise PermissionDenied("Cet appareil n'appartient pas à votre compte.")
    if enrolment_needs_link(request):
        raise PermissionDenied("Ouvrez d'abord le lien reçu par email pour enregistrer un nouvel appareil.")
    token = normalize_token(token)
    if not TOTP_PATTERN.fullmatch(token):
        raise ValidationError(
            "Saisissez les 6 chiffres affichés en ce moment par votre application d'authentification, "
            "par exemple 123456."
        )
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
        if locked is None:
            raise ValidationError(
                "Cette activation n'est plus valable. Rechargez la page et scannez le nouveau QR code."
            )
        wait = _wait_seconds(locked)
        verified = wait == 0 and locked.verify_token(token)
        if verified:
            locked.confirmed = True
            locked.name = DEVICE_NAME
            locked.save(update_fields=["confirmed", "name"])
            codes = _replace_backup_codes(user)
            invitations.valid_two_factor_links(user).update(used_at=timezone.now())
            User.objects.filter(pk=user.pk).update(two_factor_link_required=False)
            user.two_factor_link_required = False
            audit.record(
                Action.TWO_FACTOR_ENABLED,
                actor=user,
                target=user,
                request=request,  # the page's own request (its session holds the device)
                details={"device": DEVICE_NAME, "backup_codes": len(codes)},
            )
    # Outside the transaction: the failed attempt and its throttling stay recorded.
    if not verified:
        _journal_failure(request, stage="enrolment", reason="throttled" if wait else "wrong_code")
        raise ValidationError(wait_message(wait) if wait else WRONG_ENROLMENT_CODE)
    device.refresh_from_db()
    _mark_verified(request, device)
    return codes


WRONG_ENROLMENT_CODE = (
    "Ce code n'est pas le bon. Vérifiez que votre téléphone est à l'heure (réglage « date et heure "
    "automatiques »), puis saisissez le code affiché en ce moment dans l'application : il change toutes "
    "les 30 secondes."
)


def _replace_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Verification -----------------------------------------------------------------------------------------


def normalize_token(token) -> str:
    """What the user typed, without spaces or dashes, in lowercase (backup codes are lowercase)."""
    if not isinstance(token, str):
        return ""
    return re.sub(r"[\s\-]", "", token).lower()


def _token_kind(token: str) -> str:
    if TOTP_PATTERN.fullmatch(token):
        return "totp"
    if BACKUP_CODE_PATTERN.fullmatch(token):
        return "backup_code"
    return "invalid"


def _devices_for_token(user, token: str):
    """Only the devices that can accept this shape of code: a wrong code throttles only those."""
    kind = _token_kind(token)
    if kind == "totp":
        return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    if kind == "backup_code":
        return list(StaticDevice.objects.devices_for_user(user, confirmed=True))
    return []


def retry_after(user, token) -> int:
    """Seconds to wait before `token` can be checked (django-otp's throttling after wrong codes: 1, 2, 4…
    seconds); 0 when it can be checked now."""
    devices = _devices_for_token(user, normalize_token(token))
    waits = [_wait_seconds(device) for device in devices]
    return min(waits) if waits else 0


def verify(request, token) -> bool:
    """Second step of a login: a code of the application or an unused backup code (then consumed).
    On success the session is verified; on failure the attempt is journaled (never the code)."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return False
    token = normalize_token(token)
    devices = _devices_for_token(user, token)
    kind = _token_kind(token)
    wait = min((_wait_seconds(device) for device in devices), default=0)
    for device in devices:
        matched = django_otp.verify_token(user, device.persistent_id, token)
        if matched is not None:
            _mark_verified(request, matched)
            return True
    reason = "throttled" if wait else "wrong_code" if kind != "invalid" else "bad_format"
    _journal_failure(request, stage="login", reason=reason, kind=kind)
    return False


def _wait_seconds(device) -> int:
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def wait_message(seconds: int) -> str:
    unit = "seconde" if seconds <= 1 else "secondes"
    return (
        f"Trop de codes erronés d'affilée : attendez {seconds} {unit}, puis saisissez le code affiché à ce "
        "moment-là par votre application."
    )


def _mark_verified(request, device) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session.cycle_key()  # a new session id when the session gains the second factor
    django_otp.login(request, device)


def _journal_failure(request, *, stage: str, reason: str, kind: str = "totp") -> None:
    user = request.user
    audit.record(
        Action.TWO_FACTOR_FAILED,
        actor=user,
        target=user,
        request=request,
        details={"stage": stage, "reason": reason, "kind": kind},
    )


# --- Reset ------------------------------------------------------------------------------------------------


def reset_refusal(actor, user) -> str | None:
    """Why `actor` may not reset `user`'s two-factor authentication, or None when it may."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return "Connectez-vous avec un compte actif pour réinitialiser une double authentification."
    if not user.email:
        return (
            "Ce compte n'a pas d'adresse email : indiquez-en une avant de réinitialiser sa double authentification "
            "(le lien qui permet d'enregistrer le nouvel appareil y est envoyé)."
        )
    if actor.pk == user.pk:
        return (
            "Vous ne pouvez pas réinitialiser votre propre double authentification : demandez-le à votre "
            "gestionnaire (technicien) ou à votre caisse (gestionnaire)."
        )
    if actor.profile == Profile.ADMINISTRATEUR:
        return None
    if actor.profile == Profile.GESTIONNAIRE:
        if user.profile == Profile.TECHNICIEN and user.partenaire_id == actor.partenaire_id:
            return None
        return "Un gestionnaire ne peut réinitialiser la double authentification que des techniciens de sa structure."
    if actor.profile == Profile.AGENT:
        if user.is_partner and Partenaire.objects.visible_to(actor).filter(pk=user.partenaire_id).exists():
            return None
        return (
            "Un agent de caisse ne peut réinitialiser la double authentification que des gestionnaires et "
            "techniciens des partenaires de sa caisse."
        )
    return (
        "Seuls un gestionnaire (pour les techniciens de sa structure), un agent de caisse ou un administrateur "
        "national peuvent réinitialiser une double authentification."
    )


def can_reset_two_factor(actor, user) -> bool:
    return reset_refusal(actor, user) is None


def reset_two_factor(user, *, actor) -> int:
    """Remove every device of `user` (application and backup codes) and email the account the link through
    which alone a new device can be enrolled: a password alone never enrols one. Returns the number of devices
    removed."""
    refusal = reset_refusal(actor, user)
    if refusal:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        removed = 0
        for model in django_otp.device_classes():
            devices = model.objects.filter(user=user)
            count = devices.count()
            if count:
                devices.delete()
                removed += count
        audit.record(
            Action.TWO_FACTOR_RESET,
            actor=actor,
            target=user,
            details={"devices_removed": removed},
        )
        User.objects.filter(pk=user.pk).update(two_factor_link_required=True)
        user.two_factor_link_required = True
        invitations.send_two_factor_link(user)
    return removed


def reset_done_message(user) -> str:
    return (
        f"La double authentification de {user.get_full_name()} est réinitialisée : un lien lui est envoyé par "
        "email pour enregistrer son nouvel appareil après s'être connecté(e)."
    )


# --- Enrolment after a reset: the emailed link -------------------------------------------------------------

LINK_SESSION_KEY = "two_factor_link"


def open_link(request, secret: str):
    """The emailed link, opened by the signed-in account it was sent to: enrolment may go on in this session.
    Raises invitations.TokenError (unknown, expired, used — another account's link counts as unknown)."""
    token = invitations.find_token(secret, TokenPurpose.TWO_FACTOR)
    if token.user_id != request.user.pk:
        raise invitations.TokenError(invitations.TokenProblem.UNKNOWN)
    request.session[LINK_SESSION_KEY] = token.pk


def enrolment_needs_link(request) -> bool:
    """After a reset, until the new device is confirmed: True while this session has not opened a valid link.
    Held by the account, not by the link: an expired, replaced or deleted link never lifts it."""
    if not request.user.two_factor_link_required:
        return False
    opened = request.session.get(LINK_SESSION_KEY)
    return not (isinstance(opened, int) and invitations.valid_two_factor_links(request.user).filter(pk=opened).exists())


def resend_link(user) -> bool:
    """A new link when none is valid any more (not before: no mailbox flooding). True when one was sent."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # two clicks at once: one email
        if not user.two_factor_link_required or invitations.valid_two_factor_links(user).exists():
            return False
        invitations.send_two_factor_link(user)
    return True
