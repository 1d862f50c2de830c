"""Portal pages of the caisses' content: the documentation and its downloads (P2)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render

from core.uploads import open_stored

from . import content
from .models import DocumentPartenaire


@login_required
def documentation(request):
    groups = content.documentation_for(request.user)
    return render(request, "portal/documentation.html", {"title": "Documentation", "groups": groups})


@login_required
def download(request, document_id):
    """Only through here: a document the user may not see, or unpublished, is a 404; each download is journaled."""
    document = get_object_or_404(DocumentPartenaire.objects.available_to(request.user), pk=document_id)
    stream = open_stored(document.file.name)
    content.record_download(document)
    response = FileResponse(stream, as_attachment=True, filename=document.original_name, content_type=document.mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
