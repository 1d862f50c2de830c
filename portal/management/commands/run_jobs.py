"""Run scheduled jobs now, in the nightly order: the ones named, or all. --dry-run says what they would change,
--list shows the jobs and their schedule."""

from django.core.management.base import BaseCommand, CommandError

from portal.jobs import BY_NAME, JOBS


class Command(BaseCommand):
    help = (
        "Exécute les tâches planifiées nommées (toutes sans nom), dans l'ordre de la nuit ; "
        "--dry-run n'écrit rien, --list affiche les tâches."
    )

    def add_arguments(self, parser):
        parser.add_argument("jobs", nargs="*", metavar="TÂCHE", help=f"parmi : {', '.join(BY_NAME)}")
        parser.add_argument("--dry-run", action="store_true", help="affiche ce qui serait modifié, sans rien écrire")
        parser.add_argument("--list", action="store_true", dest="list_jobs", help="affiche les tâches et leur horaire")

    def handle(self, *args, jobs, dry_run=False, list_jobs=False, **options):
        unknown = [name for name in jobs if name not in BY_NAME]
        if unknown:
            raise CommandError(
                f"Tâche inconnue : {', '.join(unknown)}. Tâches connues : {', '.join(BY_NAME)}.", returncode=2
            )
        chosen = [job for job in JOBS if job.name in jobs] if jobs else list(JOBS)
        if list_jobs:
            for job in chosen:
                self.stdout.write(f"{job.name:<26} {job.label} — {_schedule(job.schedule)}")
            return
        verb = "à modifier" if dry_run else "modifiée(s)"
        for job in chosen:
            changed = job.run(dry_run=dry_run)
            self.stdout.write(f"{job.label} ({job.name}) : {changed} ligne(s) {verb}")


def _schedule(schedule) -> str:
    hours, minutes = schedule._orig_hour, schedule._orig_minute
    if hours == "*" and minutes == "*":
        return "chaque minute"
    if hours == "*":
        return f"chaque heure à la minute {minutes}"
    return f"chaque nuit à {int(hours):02d} h {int(minutes):02d} (heure de Paris)"
