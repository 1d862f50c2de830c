"""Attachment checks and private storage (D5).

`check_upload()` decides everything in memory, in this order: not empty, not over the size limit, type from the
content (python-magic on the whole file: PDF, JPEG or PNG only), an extension that agrees, for images the
dimensions read from the header (a decompression bomb is refused before anything decodes it), the antivirus scan
(clamd), then readability (Pillow for images, pypdf for PDFs). Every refusal is a `ValidationError` whose French
message names the file and says what to do. Nothing is written to disk before `store()`, which saves the checked
bytes in the private default storage under a random name (the user's file name is never used on disk).
"""

import hashlib
import io
import logging
import os
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass, field

import magic
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadWarning

from core import antivirus
from core.object_storage import STORAGE_ERRORS

logger = logging.getLogger(__name__)

DISPLAY_NAME_MAX_CHARS = 120
# Largest image we decode (width × height). 50 Mpx covers an A4 page scanned at 600 dpi (35 Mpx) and a 50 Mpx
# photo (8160 × 6120) while bounding the decoded size (≈ 150 MB in RGB); a "decompression bomb" (huge
# dimensions, tiny file) is refused from its header, before any decoding. Below Pillow's own threshold.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    name: str  # "pdf" | "jpeg" | "png"
    mime: str
    extensions: tuple[str, ...]  # accepted extensions, lower case; the first one is used on disk
    label: str  # for messages: "un PDF", "une image JPEG"…


KINDS = {
    kind.mime: kind
    for kind in (
        FileKind("pdf", "application/pdf", (".pdf",), "un document PDF"),
        FileKind("jpeg", "image/jpeg", (".jpg", ".jpeg"), "une image JPEG"),
        FileKind("png", "image/png", (".png",), "une image PNG"),
    )
}
KINDS_BY_NAME = {kind.name: kind for kind in KINDS.values()}
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG"}
_FOLDER = re.compile(r"[a-z0-9_-]+(?:/[a-z0-9_-]+)*")
_STORED_NAME = re.compile(r"(?:[a-z0-9_-]+/)+\d{4}/\d{2}/[0-9a-f]{32}\.(?P<ext>pdf|jpg|png)")


@dataclass(frozen=True)
class CheckedFile:
    """An attachment that passed every check, held in memory until `store()`."""

    content: bytes = field(repr=False)
    kind: str  # "pdf" | "jpeg" | "png"
    mime: str
    size: int
    original_name: str  # sanitised, for display only
    sha256: str


def display_name(name) -> str:
    """The user's file name made safe to show: basename only, no control characters, at most 120 characters.

    Used only in messages and lists: files are stored under random names.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    # Drop control and format characters (NUL, newlines, bidi overrides that disguise an extension…).
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = re.split(r"[/\\]", name)[-1]  # basename, whatever the sender's path separator
    name = " ".join(name.split())  # no leading, trailing or repeated blanks
    if name in {"", ".", ".."}:
        return "fichier sans nom"
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        stem, ext = os.path.splitext(name)
        if not ext or len(ext) > 16:
            stem, ext = name, ""
        name = stem[: DISPLAY_NAME_MAX_CHARS - len(ext) - 1].rstrip() + "…" + ext
    return name


def max_image_pixels() -> int:
    configured = getattr(settings, "ATTACHMENT_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)
    return min(configured, Image.MAX_IMAGE_PIXELS) if Image.MAX_IMAGE_PIXELS else configured


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text} Mo"


def _refuse(message: str, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params)


def _read_at_most(uploaded_file, limit: int) -> bytes:
    """Read up to `limit` bytes from the start of the file (never trusting its announced size)."""
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = uploaded_file.read(min(_READ_CHUNK, limit - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    return bytes(buffer)


def check_upload(uploaded_file) -> CheckedFile:
    """Check one uploaded file (a Django `UploadedFile`) and return it in memory, or raise `ValidationError`."""
    name = display_name(getattr(uploaded_file, "name", ""))
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    too_large = _refuse(
        "Le fichier « %(name)s » dépasse la taille maximale de %(limit)s par fichier : réduisez-le (par exemple "
        "en le numérisant en noir et blanc ou en résolution plus basse) ou scindez-le en plusieurs fichiers.",
        "too_large",
        name=name,
        limit=_megabytes(max_bytes),
    )
    empty = _refuse(
        "Le fichier « %(name)s » est vide : choisissez le bon fichier sur votre poste et joignez-le à nouveau.",
        "empty",
        name=name,
    )
    announced = getattr(uploaded_file, "size", None)
    if announced == 0:
        raise empty
    if announced is not None and announced > max_bytes:
        raise too_large
    content = _read_at_most(uploaded_file, max_bytes + 1)
    if not content:
        raise empty
    if len(content) > max_bytes:
        raise too_large

    mime = magic.from_buffer(content, mime=True)
    kind = KINDS.get(mime)
    if kind is None:
        raise _refuse(
            "Le fichier « %(name)s » n'est pas accepté (type détecté : %(mime)s) : seuls les documents PDF et les "
            "images JPEG ou PNG le sont. Enregistrez ou numérisez votre document dans l'un de ces formats, puis "
            "joignez-le à nouveau.",
            "type",
            name=name,
            mime=mime,
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in kind.extensions:
        raise _refuse(
            "Le fichier « %(name)s » est %(label)s mais son extension ne correspond pas : elle doit être "
            "%(expected)s. Renommez le fichier sur votre poste, puis joignez-le à nouveau.",
            "extension",
            name=name,
            label=kind.label,
            expected=" ou ".join(kind.extensions),
        )

    # Images: dimensions from the header first, so that a decompression bomb never reaches clamd or a decoder.
    image_size = None if kind.name == "pdf" else _image_size(content, kind, name)

    try:
        antivirus.scan(content)
    except antivirus.Infected as exc:
        raise _refuse(
            "Pièce jointe « %(name)s » refusée : le fichier contient un virus (%(signature)s) : il n'a pas été "
            "enregistré. Prévenez votre service informatique et joignez une copie saine du document.",
            "infected",
            name=name,
            signature=exc.signature,
        ) from exc
    except antivirus.ScannerUnavailable as exc:
        raise _refuse(
            "Le fichier « %(name)s » n'a pas pu être vérifié. L'analyse antivirus est momentanément indisponible : "
            "réessayez dans quelques minutes. Le reste de votre saisie est conservé.",
            "antivirus_unavailable",
            name=name,
        ) from exc

    if kind.name == "pdf":
        _check_pdf(content, name)
    else:
        _check_image(content, kind, name, image_size)
    return CheckedFile(
        content=content,
        kind=kind.name,
        mime=kind.mime,
        size=len(content),
        original_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _open_image(content: bytes, kind: FileKind):
    """Open an image lazily (header only), with Pillow restricted to the format python-magic found."""
    return Image.open(io.BytesIO(content), formats=[_PILLOW_FORMATS[kind.name]])


def _image_size(content: bytes, kind: FileKind, name: str) -> tuple[int, int]:
    """Width and height from the header, refusing a decompression bomb before anything decodes it.

    Runs before the antivirus scan: clamd itself inflates PNG data, and a 50 KB bomb keeps it busy for seconds.
    """
    limit = max_image_pixels()
    bomb = _refuse(
        "L'image « %(name)s » a des dimensions démesurées (au-delà de %(limit)s millions de pixels) : elle n'a pas "
        "été acceptée. Enregistrez-la à une taille normale (par exemple en la numérisant à 300 dpi), puis "
        "joignez-la à nouveau.",
        "image_too_large",
        name=name,
        limit=limit // 1_000_000,
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own threshold and twice it: make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open_image(content, kind) as image:
                width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise bomb from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error… on bad data
        raise _image_unreadable(name) from exc
    if width * height > limit:
        raise bomb
    return width, height


def _image_unreadable(name: str) -> ValidationError:
    return _refuse(
        "L'image « %(name)s » est illisible ou endommagée : ouvrez-la sur votre poste pour la vérifier, "
        "enregistrez-la à nouveau, puis joignez-la.",
        "image_unreadable",
        name=name,
    )


def _check_image(content: bytes, kind: FileKind, name: str, size: tuple[int, int]) -> None:
    min_side = settings.ATTACHMENT_MIN_IMAGE_SIDE
    if max(size) < min_side:
        raise _refuse(
            "Le fichier « %(name)s » : image trop petite pour être lisible : au moins %(min_side)s pixels sur son "
            "plus grand côté (celle-ci en a %(side)s). Numérisez ou photographiez le document en meilleure "
            "résolution, puis joignez-le à nouveau.",
            "image_too_small",
            name=name,
            min_side=min_side,
            side=max(size),
        )
    try:
        with _open_image(content, kind) as image:
            image.verify()  # structure and checksums
        with _open_image(content, kind) as image:
            image.load()  # the whole picture decodes: a truncated or corrupt file fails here
    except Exception as exc:  # already bounded by _image_size(): no bomb can get here
        raise _image_unreadable(name) from exc


def _check_pdf(content: bytes, name: str) -> None:
    unreadable = _refuse(
        "Le document PDF « %(name)s » est illisible ou endommagé : ouvrez-le sur votre poste pour le vérifier, "
        "enregistrez-le à nouveau (par exemple avec « Imprimer » puis « Enregistrer au format PDF »), puis "
        "joignez-le.",
        "pdf_unreadable",
        name=name,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PdfReadWarning)  # lenient reading, as a PDF viewer would
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                raise _refuse(
                    "Le document PDF « %(name)s » est protégé par un mot de passe (ou chiffré) : enregistrez-en une "
                    "copie sans protection (par exemple avec « Imprimer » puis « Enregistrer au format PDF »), puis "
                    "joignez-la.",
                    "pdf_encrypted",
                    name=name,
                )
            pages = 0
            for page in reader.pages:  # the real page tree, not only its /Count
                box = page.mediabox
                if not (box.width > 0 and box.height > 0):
                    raise unreadable
                pages += 1
    except ValidationError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, but also KeyError, ValueError, RecursionError…
        raise unreadable from exc
    if pages == 0:
        raise _refuse(
            "Le document PDF « %(name)s » ne contient aucune page : vérifiez que vous avez choisi le bon fichier, "
            "puis joignez-le à nouveau.",
            "pdf_no_page",
            name=name,
        )


def check_count(already: int, adding: int, *, name: str = "") -> None:
    """Refuse more than ATTACHMENT_MAX_COUNT attachments on one request. Given the `name` of the one file being
    added, the refusal names it and says the others stay attached."""
    limit = settings.ATTACHMENT_MAX_COUNT
    if already + adding <= limit:
        return
    room = max(limit - already, 0)
    if name and adding == 1:
        raise _refuse(
            "« %(name)s » n'a pas été joint : une demande comporte au plus %(limit)s pièces jointes. Les %(already)s "
            "déjà jointes sont conservées ; pour joindre celui-ci, retirez d'abord l'une d'elles.",
            "too_many",
            name=display_name(name),
            limit=limit,
            already=already,
        )
    if room == 0:
        raise _refuse(
            "Une demande peut comporter au plus %(limit)s pièces jointes et celle-ci en a déjà %(already)s : "
            "retirez les fichiers que vous venez d'ajouter.",
            "too_many",
            limit=limit,
            already=already,
            adding=adding,
        )
    raise _refuse(
        "Une demande peut comporter au plus %(limit)s pièces jointes : il y en a déjà %(already)s et vous en "
        "ajoutez %(adding)s. Retirez-en %(excess)s (vous pouvez encore en joindre %(room)s).",
        "too_many",
        limit=limit,
        already=already,
        adding=adding,
        excess=already + adding - limit,
        room=room,
    )


def store(checked: CheckedFile, folder: str = "pieces-jointes") -> str:
    """Save the checked bytes in the private default storage under a random name; return the storage name."""
    if not _FOLDER.fullmatch(folder):
        raise ValueError(f"Dossier de stockage invalide : {folder!r}")
    kind = KINDS_BY_NAME[checked.kind]
    today = timezone.localdate()
    name = f"{folder}/{today:%Y}/{today:%m}/{uuid.uuid4().hex}{kind.extensions[0]}"
    try:
        return default_storage.save(name, ContentFile(checked.content))
    except STORAGE_ERRORS as exc:
        # The store is down or refuses our credentials: the file is not kept, the form is (like clamd down).
        logger.error("Stockage des fichiers indisponible (%s) : pièce refusée", type(exc).__name__)
        raise _refuse(
            "Le fichier « %(name)s » n'a pas pu être enregistré : le stockage des documents est momentanément "
            "indisponible. Réessayez dans quelques minutes. Le reste de votre saisie est conservé.",
            "storage_unavailable",
            name=checked.original_name,
        ) from exc


def _stored_extension(name: str) -> str:
    match = _STORED_NAME.fullmatch(name or "")
    if not match:
        raise SuspiciousFileOperation(f"Nom de pièce jointe inattendu : {name!r}")
    return match["ext"]


def open_stored(name: str) -> File:
    """Open a stored attachment for reading (binary); only names made by `store()` are accepted."""
    _stored_extension(name)
    return default_storage.open(name, "rb")


def content_type_for(name: str) -> str:
    """The MIME type of a stored attachment, from the name `store()` gave it."""
    extension = "." + _stored_extension(name)
    return next(kind.mime for kind in KINDS.values() if kind.extensions[0] == extension)


def delete_stored(name: str) -> None:
    """Remove a stored attachment (e.g. when the request that should hold it could not be saved)."""
    _stored_extension(name)
    default_storage.delete(name)
