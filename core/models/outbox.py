"""The outbox of emails (sent by `core.tasks.send_email`, swept by the `emails_en_attente` job)."""

from django.db import models


class OutboxEmail(models.Model):
    """An email written in the same transaction as the change it reports, sent by a task afterwards:
    if the broker (Redis) is down, nothing is lost — the sweeper job sends it once it is back."""

    subject = models.CharField("objet", max_length=250)
    body = models.TextField("texte")
    recipients = models.TextField("destinataires", help_text="Une adresse par ligne.")
    created_at = models.DateTimeField("écrit le", auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.CharField("dernière erreur", max_length=200, blank=True)
    # Set after the last failed attempt (core.delivery.MAX_ATTEMPTS): never retried, deleted by retention (P6).
    given_up_at = models.DateTimeField("abandonné le", null=True, blank=True)

    class Meta:
        db_table = "portal_outboxemail"
        verbose_name = "email en attente d'envoi"
        verbose_name_plural = "emails en attente d'envoi"
        indexes = [
            models.Index(fields=["sent_at", "created_at"], name="outbox_unsent"),
            # Retention (P6) of the given-up emails; the sent ones are served by outbox_unsent.
            models.Index(fields=["given_up_at"], name="outbox_given_up", condition=models.Q(given_up_at__isnull=False)),
        ]

    def __str__(self):
        state = "envoyé" if self.sent_at else "abandonné" if self.given_up_at else "en attente"
        return f"{self.subject} ({state})"
