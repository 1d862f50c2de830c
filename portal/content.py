"""Portal content written by the caisses: maintenance notices (P1) and documentation (P2).

Every write goes through here (the admin calls these services); who reads what is said by the querysets of
`portal.models` (`current_for`, `available_to`, `visible_to`).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from conventions.models import Caisse
from core import audit
from core.models import Action
from core.uploads import CheckedFile, delete_stored, store

from .models import DocumentCategory, DocumentPartenaire, MaintenanceNotice

# P1: the banner shows at most this many notices (the soonest first).
BANNER_MAX_NOTICES = 3
DOCUMENTATION_FOLDER = "documentation"


def current_notices(user, now=None) -> list[MaintenanceNotice]:
    """The notices of the banner: one indexed query, whatever the profile (or none signed in)."""
    now = now or timezone.now()
    notices = MaintenanceNotice.objects.current_for(user, now).order_by("starts_at", "id")
    return list(notices[:BANNER_MAX_NOTICES])


def _scope_caisse(obj, actor) -> None:
    """An agent writes only for its caisses: national content is the national administrator's."""
    if actor.is_superuser:
        return
    if not getattr(actor, "caisse_id", None):
        raise PermissionDenied("Seuls les agents de caisse et l'administrateur national publient ce contenu.")
    if obj.caisse_id is None:
        obj.caisse_id = actor.caisse_id  # the agent's caisse is forced: never a national notice
    elif not Caisse.objects.visible_to(actor).filter(pk=obj.caisse_id).exists():
        raise PermissionDenied("Cette caisse n'est pas la vôtre.")


def save_notice(notice: MaintenanceNotice, *, actor) -> MaintenanceNotice:
    """Schedule or change a maintenance notice (announced 7 days before it starts unless told otherwise)."""
    _scope_caisse(notice, actor)
    if notice.announce_from is None and notice.starts_at is not None:
        notice.announce_from = notice.default_announce_from()
    if notice._state.adding and notice.created_by_id is None:
        notice.created_by = actor
    notice.full_clean()
    notice.save()
    return notice


def save_document(document: DocumentPartenaire, *, actor, checked: CheckedFile | None = None) -> DocumentPartenaire:
    """Add or change a document; `checked` (from `check_upload`) is its new file, stored under a random name.

    The file is written only once every check passed; if the row cannot be saved it is removed again, and a
    replaced file is removed once the change is committed.
    """
    _scope_caisse(document, actor)
    if document._state.adding:
        if checked is None:
            raise ValueError("Un nouveau document a besoin d'un fichier vérifié.")
        document.created_by = document.created_by or actor
    previous = None if document._state.adding else document.file.name
    stored = None
    if checked is not None:
        stored = store(checked, folder=DOCUMENTATION_FOLDER)
        document.file.name = stored
        document.original_name = checked.original_name
        document.mime = checked.mime
        document.size = checked.size
        document.sha256 = checked.sha256
    try:
        with transaction.atomic():
            document.full_clean()
            document.save()
    except Exception:
        if stored:
            delete_stored(stored)
        raise
    if stored and previous and previous != stored:
        transaction.on_commit(lambda: delete_stored(previous))
    return document


def delete_document(document: DocumentPartenaire) -> None:
    name = document.file.name
    document.delete()
    if name:
        transaction.on_commit(lambda: delete_stored(name))


def documentation_for(user) -> list[tuple[str, list[DocumentPartenaire]]]:
    """P2: the documents the user may download, grouped by category (in the categories' order)."""
    documents = DocumentPartenaire.objects.available_to(user).select_related("caisse").order_by("title", "id")
    groups = {category: [] for category in DocumentCategory}
    for document in documents:
        groups[DocumentCategory(document.category)].append(document)
    return [(category.label, items) for category, items in groups.items() if items]


def record_download(document: DocumentPartenaire) -> None:
    audit.record(
        Action.DOCUMENT_DOWNLOADED,
        target=document,
        details={"document": document.pk, "caisse": document.caisse_id},
    )
