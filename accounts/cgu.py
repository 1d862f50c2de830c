"""CGU versions and their acceptance (A8): the current version must be accepted before anything else."""

from django.utils import timezone

from core import audit, audit_context
from core.models import Action

from .models import CGU, CGUAcceptance


def current_cgu():
    return CGU.objects.filter(published_at__lte=timezone.now()).order_by("-published_at").first()


def must_accept(user) -> CGU | None:
    """The version the user still has to accept, if any. CGU bind the partners' accounts."""
    if not user.is_partner:
        return None
    cgu = current_cgu()
    if cgu is None or CGUAcceptance.objects.filter(user=user, cgu=cgu).exists():
        return None
    return cgu


def accept(user, cgu: CGU) -> CGUAcceptance:
    acceptance, created = CGUAcceptance.objects.get_or_create(
        user=user, cgu=cgu, defaults={"ip": audit_context.current().ip}
    )
    if created:
        audit.record(Action.CGU_ACCEPTED, actor=user, target=user, details={"version": cgu.version})
    return acceptance
