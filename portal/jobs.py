"""The scheduled jobs, in the order a nightly run applies them; each is one service function.

The Celery beat schedule (portal.celery), the `run_jobs` command and `make run` all read this list.
"""

from collections.abc import Callable
from dataclasses import dataclass

from celery.schedules import crontab


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    run: Callable[..., int]  # run(dry_run=...) -> rows changed (or that would change)
    schedule: crontab


def _lifecycle(name):
    def call(**kwargs):
        from accounts import lifecycle

        return getattr(lifecycle, name)(**kwargs)

    return call


def _scheduled_inactivations(**kwargs):
    from accounts.habilitations import run_scheduled_inactivations

    return run_scheduled_inactivations(**kwargs)


def _outbox(**kwargs):
    from .outbox import send_pending

    return send_pending(**kwargs)


def _staged_pieces(**kwargs):
    from requests_app.services import purge_staged_pieces

    return purge_staged_pieces(**kwargs)


def _consistency(**kwargs):
    from .consistency import run

    return run(**kwargs)


JOBS = (
    Job("emails_en_attente", "Emails restés en attente d'envoi", _outbox, crontab()),
    Job(
        "fin_conventions",
        "Conventions arrivées à échéance",
        _lifecycle("end_expired_conventions"),
        crontab(hour=1, minute=0),
    ),
    Job(
        "comptes_sans_convention",
        "Comptes des structures sans convention en vigueur",
        _lifecycle("inactivate_accounts_without_convention"),
        crontab(hour=1, minute=15),
    ),
    Job(
        "inactivations_programmees",
        "Inactivations de gestionnaires arrivées à leur date",
        _scheduled_inactivations,
        crontab(hour=1, minute=30),
    ),
    Job(
        "suppression_comptes",
        "Comptes inactivés depuis 6 mois",
        _lifecycle("purge_inactivated_accounts"),
        crontab(hour=2, minute=0),
    ),
    Job("liens_expires", "Liens d'activation expirés", _lifecycle("expire_invitations"), crontab(minute=5)),
    Job("pieces_abandonnees", "Pièces jointes de formulaires abandonnés", _staged_pieces, crontab(hour=3, minute=0)),
    Job("coherence", "Contrôles de cohérence entre les données", _consistency, crontab(hour=4, minute=0)),
    Job(
        "rappels_mots_de_passe",
        "Rappels d'expiration des mots de passe",
        _lifecycle("remind_password_expiry"),
        crontab(hour=7, minute=0),
    ),
    Job(
        "rappels_revues", "Rappels des revues d'habilitation", _lifecycle("remind_reviews"), crontab(hour=7, minute=15)
    ),
    Job(
        "rappels_habilitations",
        "Rappels des demandes d'habilitation à traiter",
        _lifecycle("remind_habilitation_deadlines"),
        crontab(hour=7, minute=30),
    ),
)
BY_NAME = {job.name: job for job in JOBS}
