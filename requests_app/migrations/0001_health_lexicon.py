# The health-data lexicon of the free-text guard (D4) and its initial terms (now core/data/health_terms.txt,
# since requests_app 0006 the lexicon of every kind of sensitive data).

from pathlib import Path

from django.db import migrations, models

from core.text import normalize_text

LEXICON_FILE = Path(__file__).resolve().parent.parent.parent / "core" / "data" / "health_terms.txt"
# Every category of the data file, the ones 0006_sensitive_lexicon added included: a new database loads the whole
# file here (0006 then finds nothing missing), an existing one gets the new lines from 0006.
CATEGORIES = {
    "maladie", "traitement", "handicap", "examen", "autre",
    "origine", "religion", "politique", "syndicat", "sexualite", "infraction", "jugement", "exception",
}


def read_lexicon_file(path=LEXICON_FILE):
    """(category, term) pairs of the file: one `category|term` a line, `#` comments and blank lines skipped."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        category, _, term = (part.strip() for part in line.partition("|"))
        if category not in CATEGORIES or not term:
            raise ValueError(f"{path.name}, ligne {number} : « catégorie|terme » attendu, lu {line!r}")
        yield category, " ".join(term.split())


def load_health_lexicon(apps, schema_editor):
    """Add the file's terms that are missing (by normalized form): running it twice changes nothing."""
    HealthTerm = apps.get_model("requests_app", "HealthTerm")
    db = schema_editor.connection.alias
    known = set(HealthTerm.objects.using(db).values_list("normalized", flat=True))
    missing = []
    for category, term in read_lexicon_file():
        normalized = normalize_text(term)
        if normalized and normalized not in known:
            known.add(normalized)
            missing.append(HealthTerm(term=term, normalized=normalized, category=category))
    HealthTerm.objects.using(db).bulk_create(missing)


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="HealthTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "term",
                    models.CharField(
                        help_text="Tel qu'il peut être saisi, par exemple « Diabète de type 2 ». Reconnu sans tenir compte des majuscules, des accents ni des tirets, au singulier comme au pluriel.",
                        max_length=120,
                        verbose_name="terme",
                    ),
                ),
                (
                    "normalized",
                    models.CharField(editable=False, max_length=120, unique=True, verbose_name="forme normalisée"),
                ),
                (
                    "category",
                    models.CharField(
                        choices=[
                            ("maladie", "Maladie ou diagnostic"),
                            ("traitement", "Traitement"),
                            ("handicap", "Handicap"),
                            ("examen", "Examen ou acte médical"),
                            ("autre", "Autre"),
                        ],
                        default="maladie",
                        max_length=20,
                        verbose_name="catégorie",
                    ),
                ),
                (
                    "active",
                    models.BooleanField(
                        default=True,
                        help_text="Décochez pour ne plus refuser ce terme sans le supprimer.",
                        verbose_name="actif",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                ("updated_at", models.DateTimeField(auto_now=True, db_index=True, verbose_name="modifié le")),
            ],
            options={
                "verbose_name": "terme de santé",
                "verbose_name_plural": "lexique des données de santé",
                "ordering": ["normalized"],
            },
        ),
        migrations.RunPython(load_health_lexicon, migrations.RunPython.noop),
    ]
