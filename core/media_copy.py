"""Moving an installation's private files from its directory into the configured storage (the object store):
`manage.py copy_media_to_storage`.

Idempotent and resumable: a file already in the destination with the same size and SHA-256 is left alone, any
other is copied (again), and each copy is read back and checked (size and SHA-256) before it counts. The names
do not change, so the database rows keep pointing at their files.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.core.files import File

from core.object_storage import STORAGE_ERRORS

_CHUNK = 1024 * 1024


class Outcome(StrEnum):
    COPIED = "copié"
    PRESENT = "déjà présent"
    TO_COPY = "à copier"
    FAILED = "en échec"


@dataclass(frozen=True)
class Result:
    name: str
    outcome: Outcome
    detail: str = ""


def source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file under `root`, as (storage name, path), in a stable order (a second run resumes the same way)."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(root).as_posix(), path


def _digest(stream) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return size, sha.hexdigest()


def _stored_digest(storage, name: str) -> tuple[int, str] | None:
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as stream:
        return _digest(stream)


def copy_one(storage, name: str, path: Path, *, dry_run: bool = False) -> Result:
    with path.open("rb") as source:
        expected = _digest(source)
    try:
        if _stored_digest(storage, name) == expected:
            return Result(name, Outcome.PRESENT)
        if dry_run:
            return Result(name, Outcome.TO_COPY)
        if storage.exists(name):  # a different or truncated copy (an interrupted run): replaced
            storage.delete(name)
        with path.open("rb") as source:
            saved = storage.save(name, File(source, name=name))
        if saved != name:
            return Result(name, Outcome.FAILED, f"enregistré sous un autre nom ({saved})")
        got = _stored_digest(storage, name)
    except STORAGE_ERRORS as exc:
        return Result(name, Outcome.FAILED, f"stockage injoignable ou refusé ({type(exc).__name__})")
    if got != expected:
        return Result(name, Outcome.FAILED, f"copie vérifiée différente : {got} au lieu de {expected}")
    return Result(name, Outcome.COPIED)
