"""The scheduled jobs, in the order a nightly run applies them; each is one service function.

The Celery beat schedule (portal.celery), the `run_jobs` command and `make run` all read this list.
"""

from dataclasses import dataclass

from celery.schedules import crontab
from django.utils.module_loading import import_string

from core import audit_context


@dataclass(frozen=True)
class Job:
    """A scheduled job: its service function named by its dotted path, as Django names middlewares, so that
    this list loads with the Celery application, before Django's app registry is ready."""

    name: str
    label: str
    target: str  # dotted path of the service function: target(dry_run=...) -> rows changed (or that would change)
    schedule: crontab

    def run(self, *, run_id: str | None = None, **kwargs) -> int:
        """Run the job's service function in an audit context of its own: no actor, and a run id (given by the
        Celery task, else a new one) that every journal entry of this run carries."""
        with audit_context.job_run(self.name, run_id):
            return import_string(self.target)(**kwargs)


JOBS = (
    Job("emails_en_attente", "Emails restés en attente d'envoi", "core.outbox.send_pending", crontab()),
    Job(
        "fin_conventions",
        "Conventions arrivées à échéance",
        "accounts.lifecycle.end_expired_conventions",
        crontab(hour=1, minute=0),
    ),
    Job(
        "comptes_sans_convention",
        "Comptes des structures sans convention en vigueur",
        "accounts.lifecycle.inactivate_accounts_without_convention",
        crontab(hour=1, minute=15),
    ),
    Job(
        "inactivations_programmees",
        "Inactivations de gestionnaires arrivées à leur date",
        "accounts.habilitations.run_scheduled_inactivations",
        crontab(hour=1, minute=30),
    ),
    Job(
        "suppression_comptes",
        "Comptes inactivés depuis 6 mois",
        "accounts.lifecycle.purge_inactivated_accounts",
        crontab(hour=2, minute=0),
    ),
    Job("liens_expires", "Liens d'activation expirés", "accounts.lifecycle.expire_invitations", crontab(minute=5)),
    Job(
        "pieces_abandonnees",
        "Pièces jointes de formulaires abandonnés",
        "requests_app.services.purge_staged_pieces",
        crontab(hour=3, minute=0),
    ),
    Job(
        "conservation_emails",
        "Conservation : emails envoyés ou abandonnés",
        "core.retention.delete_old_emails",
        crontab(hour=3, minute=10),
    ),
    Job(
        "conservation_pieces",
        "Conservation : pièces jointes des demandes clôturées",
        "requests_app.retention.delete_attachments_of_closed",
        crontab(hour=3, minute=20),
    ),
    Job(
        "conservation_demandes",
        "Conservation : identité et textes des demandes clôturées",
        "requests_app.retention.erase_closed_requests",
        crontab(hour=3, minute=30),
    ),
    Job(
        "conservation_journal",
        "Conservation : entrées du journal d'audit",
        "core.retention.delete_old_journal_rows",
        crontab(hour=3, minute=40),
    ),
    # P8: the copy of the fallback channels the database-down page reads (also written on every change, and
    # by `run_jobs canaux_secours` when a server starts).
    Job(
        "canaux_secours",
        "Copie des canaux de secours pour la page de panne",
        "conventions.continuity.write_fallback_snapshot",
        crontab(minute=20),
    ),
    Job("coherence", "Contrôles de cohérence entre les données", "portal.consistency.run", crontab(hour=4, minute=0)),
    Job(
        "rappels_mots_de_passe",
        "Rappels d'expiration des mots de passe",
        "accounts.lifecycle.remind_password_expiry",
        crontab(hour=7, minute=0),
    ),
    Job(
        "rappels_revues",
        "Rappels des revues d'habilitation",
        "accounts.lifecycle.remind_reviews",
        crontab(hour=7, minute=15),
    ),
    Job(
        "rappels_habilitations",
        "Rappels des demandes d'habilitation à traiter",
        "accounts.lifecycle.remind_habilitation_deadlines",
        crontab(hour=7, minute=30),
    ),
)
BY_NAME = {job.name: job for job in JOBS}
