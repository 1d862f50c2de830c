"""Sending one email of the outbox, once, whatever the number of workers or retries."""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from .models import OutboxEmail

logger = logging.getLogger(__name__)

# After this many failed attempts the email is given up: no longer retried, deleted by retention (P6).
MAX_ATTEMPTS = 20


def send_one(email_id: int) -> bool:
    """Send one email once, whatever the number of workers or retries (row lock, sent_at)."""
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, sent_at__isnull=True, given_up_at__isnull=True)
            .first()
        )
        if email is None:
            return False
        try:
            send_mail(email.subject, email.body, None, email.recipients.split("\n"))
        except Exception as exc:  # SMTP down: counted, retried by the sweeper
            email.attempts += 1
            email.last_error = type(exc).__name__
            if email.attempts >= MAX_ATTEMPTS:
                email.given_up_at = timezone.now()
            email.save(update_fields=["attempts", "last_error", "given_up_at"])
            logger.warning("email %s non envoyé (%s)", email_id, type(exc).__name__)
            return False
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["sent_at", "attempts"])
        return True
