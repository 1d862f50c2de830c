"""Account emails: a subject, a short text and a link. Never any data about an insured person."""

from django.conf import settings
from django.template.loader import render_to_string

from core import outbox


def absolute_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def send(template: str, recipients: list[str], context: dict) -> str:
    """Send after the transaction commits (nothing is sent for a rolled-back change); returns the text."""
    context = {"site_title": settings.PORTAL_SITE_TITLE, **context}
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    body = render_to_string(f"emails/{template}.txt", context)
    recipients = [address for address in recipients if address]
    if recipients:
        outbox.queue(subject, body, recipients)
    return body
