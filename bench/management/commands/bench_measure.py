"""Bench measures run inside Django (bench.run calls it): `bench_measure jobs` or `bench_measure upload`."""

import json

from django.core.management.base import BaseCommand, CommandError

from bench import data, inprocess


class Command(BaseCommand):
    help = "Banc de mesure : tâches de nuit contre leur SQL ensembliste, ou contrôle d'une pièce jointe contre clamd."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["jobs", "upload"])
        parser.add_argument("--repeats", type=int, default=1, help="répétitions (la meilleure est retenue)")
        parser.add_argument("--rounds", type=int, default=20, help="pièces jointes contrôlées")

    def handle(self, *args, what, repeats, rounds, **options):
        try:
            data.check_database()  # the jobs' preparation writes (then rolls back): a bench database only
        except data.NotABenchDatabase as exc:
            raise CommandError(str(exc)) from exc
        if what == "jobs":
            result = inprocess.bench_jobs(repeats, inprocess.job_scale())
        else:
            result = inprocess.bench_upload(rounds)
        self.stdout.write(json.dumps(result))
