"""Who opened which request when (work queues): a request the other side changed since is "non lue"."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .demande import Demande

USER = settings.AUTH_USER_MODEL


class DemandeLecture(models.Model):
    """One row per user and request, moved forward each time that user opens the request."""

    # No index of its own: the unique constraint's index starts with it.
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+", db_index=False)
    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="lectures")
    read_at = models.DateTimeField("lue le", default=timezone.now)

    class Meta:
        verbose_name = "lecture de demande"
        verbose_name_plural = "lectures de demandes"
        constraints = [models.UniqueConstraint(fields=["user", "demande"], name="lecture_user_demande")]

    def __str__(self):
        return f"Lue le {timezone.localtime(self.read_at):%d/%m/%Y %H:%M}"


def changed_field(user) -> str:
    """The change a user waits for: the caisse's, for a partner; the partner's, for the caisse."""
    return "caisse_changed_at" if user.is_partner else "partner_changed_at"


def unread_q(user, now=None) -> Q:
    """Requests the other side changed since `user` last opened them (never opened: changed at all), within the
    last DEMANDE_UNREAD_DAYS: a change older than that is no longer news, and the queue never walks years of
    answered requests. One probe of the unique (user, demande) index per request."""
    field = changed_field(user)
    since = (now or timezone.now()) - timedelta(days=settings.DEMANDE_UNREAD_DAYS)
    seen = DemandeLecture.objects.filter(user=user, demande=OuterRef("pk"), read_at__gte=OuterRef(field))
    return Q(**{f"{field}__gte": since}) & ~Exists(seen)
