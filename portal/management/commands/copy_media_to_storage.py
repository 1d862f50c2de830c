"""Copy the private files of a directory (the former PRIVATE_MEDIA_ROOT) into the configured storage, usually the
S3 object store: idempotent, resumable, each copy read back and checked (core.media_copy)."""

import os
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.media_copy import Outcome, copy_one, source_files


class Command(BaseCommand):
    help = (
        "Copie les fichiers privés d'un dossier (l'ancien PRIVATE_MEDIA_ROOT) vers le stockage configuré "
        "(stockage objet) ; relançable sans risque, chaque copie est relue et vérifiée (taille, SHA-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            default=os.environ.get("PRIVATE_MEDIA_ROOT", str(settings.BASE_DIR / "private-media")),
            help="dossier des fichiers à copier (par défaut PRIVATE_MEDIA_ROOT)",
        )
        parser.add_argument("--dry-run", action="store_true", help="compte ce qui serait copié, sans rien écrire")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def handle(self, *args, source, dry_run=False, no_progress=False, **options):
        root = Path(source).resolve()
        if not root.is_dir():
            raise CommandError(f"Dossier source introuvable : {root}")
        storage = storages["default"]
        if isinstance(storage, FileSystemStorage) and Path(storage.location).resolve() == root:
            raise CommandError(
                "Le stockage configuré est ce même dossier : définissez OBJECT_STORAGE_BUCKET (README, « Stockage "
                "objet ») avant de copier."
            )
        files = list(source_files(root))
        counts = Counter()
        bar = tqdm(files, total=len(files), unit="fichier", disable=no_progress, file=self.stderr._out)
        for name, path in bar:
            result = copy_one(storage, name, path, dry_run=dry_run)
            counts[result.outcome] += 1
            if result.outcome is Outcome.FAILED:
                tqdm.write(f"ÉCHEC {name} : {result.detail}", file=self.stderr._out)
        summary = ", ".join(f"{counts[outcome]} {outcome}" for outcome in Outcome if counts[outcome])
        self.stdout.write(f"{len(files)} fichier(s) dans {root}{' (simulation)' if dry_run else ''} : {summary or '0'}")
        if counts[Outcome.FAILED]:
            raise CommandError(f"{counts[Outcome.FAILED]} fichier(s) non copié(s) : relancez la commande.")
