"""Run the scheduled jobs now, in order (all by default). With --dry-run, say what they would change."""

from django.core.management.base import BaseCommand, CommandError

from portal.jobs import BY_NAME, JOBS


class Command(BaseCommand):
    help = "Exécute les tâches planifiées (fin des conventions, suppressions, rappels…) ; --dry-run n'écrit rien."

    def add_arguments(self, parser):
        parser.add_argument("jobs", nargs="*", help=f"parmi : {', '.join(BY_NAME)}")
        parser.add_argument("--dry-run", action="store_true", help="affiche ce qui serait modifié, sans rien écrire")

    def handle(self, *names, dry_run=False, **options):
        unknown = [name for name in names if name not in BY_NAME]
        if unknown:
            raise CommandError(f"Tâche inconnue : {', '.join(unknown)}. Tâches : {', '.join(BY_NAME)}.")
        verb = "à modifier" if dry_run else "modifiée(s)"
        for job in [BY_NAME[name] for name in names] or JOBS:
            changed = job.run(dry_run=dry_run)
            self.stdout.write(f"{job.label} ({job.name}) : {changed} ligne(s) {verb}")
