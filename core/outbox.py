"""Emails through an outbox: written with the change, sent after commit by a Celery task
(`core.tasks.send_email`, which calls `core.delivery.send_one`).

Redis down: the change and its email are saved all the same, the enqueue fails quietly and the
`emails_en_attente` job sends what is left once the broker is back. No lost email, no lost request.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .delivery import MAX_ATTEMPTS, send_one
from .models import OutboxEmail
from .tasks import send_email

logger = logging.getLogger(__name__)


def queue(subject: str, body: str, recipients: list[str]) -> OutboxEmail:
    email = OutboxEmail.objects.create(subject=subject, body=body, recipients="\n".join(recipients))
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_id: int) -> None:
    try:
        send_email.apply_async(args=(email_id,), retry=False)
    except Exception as exc:  # broker unreachable: the sweeper job will send it
        logger.warning("email %s gardé en attente (file indisponible : %s)", email_id, type(exc).__name__)


def send_pending(*, now=None, dry_run: bool = False, older_than=timedelta(minutes=1)) -> int:
    """The sweeper: emails still unsent a minute after they were written."""
    now = now or timezone.now()
    pending = OutboxEmail.objects.filter(
        sent_at__isnull=True, given_up_at__isnull=True, created_at__lte=now - older_than, attempts__lt=MAX_ATTEMPTS
    )
    if dry_run:
        return pending.count()
    return sum(send_one(email_id) for email_id in pending.values_list("pk", flat=True).iterator())
