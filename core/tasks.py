"""Celery tasks of the base: a `shared_task` each, so that the base never imports the Celery application."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .delivery import send_one


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=10, max_retries=8, acks_late=True)
def send_email(email_id: int) -> bool:
    return send_one(email_id)
