"""Generate the bench data in a bench database: `manage.py bench_data --size 100k`."""

from django.core.management.base import BaseCommand, CommandError

from bench import data, invariants


class Command(BaseCommand):
    help = (
        "Génère les données du banc de mesure (PostgreSQL, base dont le nom contient « bench ») : caisses, "
        "partenaires, conventions, comptes et demandes ; --check vérifie ensuite toutes les règles."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(data.PRESETS), help="taille prédéfinie (défaut : 1m)")
        parser.add_argument("--requests", type=int, help="nombre de demandes (défaut : 1 000 000)")
        parser.add_argument("--partners", type=int, help="nombre de partenaires (défaut : 5 000)")
        parser.add_argument("--accounts", type=int, help="comptes des partenaires (défaut : 100 000)")
        parser.add_argument("--caisses", type=int, help="nombre de caisses (défaut : 100)")
        parser.add_argument("--seed", type=int, default=2026, help="graine du tirage (mêmes données à chaque fois)")
        parser.add_argument("--reset", action="store_true", help="efface d'abord les données d'un banc précédent")
        parser.add_argument("--check", action="store_true", help="vérifie les règles après la génération")
        parser.add_argument("--check-only", action="store_true", help="vérifie les règles, sans rien générer")

    def handle(self, *args, **options):
        try:
            data.check_database()
        except data.NotABenchDatabase as exc:
            raise CommandError(str(exc)) from exc
        if not options["check_only"]:
            preset = data.PRESETS[options["size"] or "1m"]
            fields = {
                name: options[name] if options[name] is not None else getattr(preset, name)
                for name in ("requests", "partners", "accounts", "caisses")
            }
            plan = data.Plan(**fields, seed=options["seed"])
            try:
                plan.validate()
            except ValueError as exc:
                raise CommandError(f"Paramètres refusés : {exc}.") from exc
            if options["reset"]:
                data.reset()
            try:
                data.generate(plan, log=self.stdout.write)
            except data.NotABenchDatabase as exc:
                raise CommandError(str(exc)) from exc
        if options["check"] or options["check_only"]:
            failures = invariants.report(log=self.stdout.write)
            if failures:
                raise CommandError(f"{len(failures)} règle(s) non respectée(s) : {', '.join(failures)}")
