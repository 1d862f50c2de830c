"""The partner's pages for requests: file one of the five (D1–D6), the history (D8), a request's thread."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, ExpressionWrapper
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from conventions import access
from conventions.models import Caisse
from core.csv_export import csv_response, stream_rows
from core.dates import day_range
from core.form_flow import attach_errors
from core.pagination import CappedPaginator

from . import queue, services
from .forms import FORMS, HistoryFilterForm, ReplyForm
from .models import Demande, DemandeKind, DemandeState, Message, PieceJointe, overdue_q, unread_q

PAGE_SIZE = 25


def partner_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_partner:
            raise PermissionDenied("Page réservée aux structures partenaires.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@partner_required
def choose(request):
    """The services the technicien can use today, per caisse (C5, C7)."""
    conventions = access.conventions_granting_access(request.user.partenaire).order_by(
        "convention_metier__caisse__name"
    )
    offers = [
        (convention.convention_metier.caisse, [k for k in DemandeKind if convention.has_service(k)])
        for convention in conventions
    ]
    return render(
        request,
        "requests_app/choose.html",
        {"title": "Nouvelle demande", "offers": offers, "can_file": request.user.is_technicien},
    )


def _handle_files(request, form, token):
    """Stage the uploaded files (checked one by one); refusals go next to the files field."""
    removed = form.data.getlist("remove_pieces")
    if removed:
        # Only plain ASCII numbers a key can hold: "²" is a digit to isdigit() but not to int().
        services.unstage(request.user, token, [int(pk) for pk in removed if re.fullmatch(r"[0-9]{1,18}", pk)])
    _, refused = services.stage_files(request.user, token, request.FILES.getlist("files"))
    for error in refused:
        form.add_error("files", error)
    return not refused


@partner_required
def file_demande(request, caisse_id, kind):
    caisse = get_object_or_404(Caisse, pk=caisse_id)
    try:
        kind = DemandeKind(kind)
    except ValueError as exc:
        raise Http404 from exc
    services.check_can_file(request.user, caisse, kind)  # 403 when hidden, even if posted anyway
    form_class = FORMS[kind]
    extra = {"partenaire": request.user.partenaire} if kind == DemandeKind.DOCUMENT else {}
    form = form_class(request.POST or None, request.FILES or None, **extra)
    token = form.token()
    if request.method == "POST" and (already := services.filed_with_token(request.user, token)):
        return redirect("demande_detail", reference=already.reference)  # posted twice: nothing staged again
    if request.method == "POST" and token is not None:
        files_ok = _handle_files(request, form, token)
        if form.is_valid() and files_ok:
            try:
                demande = services.submit_demande(
                    user=request.user,
                    caisse=caisse,
                    kind=kind,
                    fields=form.demande_fields(),
                    message=form.cleaned_data["message"],
                    form_token=token,
                )
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, f"Votre demande {demande.reference} est envoyée à la caisse.")
                return redirect("demande_detail", reference=demande.reference)
    staged = services.staged_pieces(request.user, token) if token else PieceJointe.objects.none()
    return render(
        request,
        "requests_app/form.html",
        {
            "title": kind.label,
            "form": form,
            "caisse": caisse,
            "kind": kind,
            "staged": staged,
        },
    )


def _history(request):
    user = request.user
    caisses, hidden = access.history_caisses(user.partenaire)
    demandes = Demande.objects.visible_to(user)
    if hidden:  # only then: a filter on the caisse makes every count read the rows, not just the index
        demandes = demandes.exclude(caisse_id__in=hidden)
    form = HistoryFilterForm(request.GET or None, caisses=caisses)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            demandes = demandes.search(data["q"])
        for name in ("kind", "state"):
            if data[name]:
                demandes = demandes.filter(**{name: data[name]})
        if data["caisse"]:
            demandes = demandes.filter(caisse_id=data["caisse"])
        demandes = demandes.filter(**day_range(data["since"], data["until"]))
        if data["suivi"] == queue.SUIVI_NON_LUES:  # in the order of the home page's block, on its index
            demandes = queue.unread(demandes, user)
        elif data["suivi"] == queue.SUIVI_EN_RETARD:
            demandes = demandes.filter(overdue_q(timezone.localdate()))
    return form, demandes


@partner_required
def history(request):
    """D8: every request of the structure, filtered, searched, paginated."""
    form, demandes = _history(request)
    # "Nouveau" on the rows of the page: one probe of the read marks' index per row shown.
    unread = ExpressionWrapper(unread_q(request.user), output_field=BooleanField())
    demandes = demandes.select_related("caisse", "filed_by").annotate(is_unread=unread)
    searching = bool(form.is_bound and form.is_valid() and form.cleaned_data["q"])  # a search is not counted twice
    paginator = CappedPaginator(demandes, PAGE_SIZE, count_past_page=not searching)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "requests_app/history.html",
        {
            "title": "Historique des demandes",
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )


EXPORT_COLUMNS = (
    "reference",
    "kind",
    "caisse__name",
    "state",
    "created_at",
    "filed_by__first_name",
    "filed_by__last_name",
    "assure_last_name",
    "assure_first_name",
)


@partner_required
def history_export(request):
    """D8: the filtered list as CSV for a French spreadsheet; no free text, only what the list shows.

    Plain tuples streamed from a server-side cursor: memory stays flat whatever the history's length."""
    _, demandes = _history(request)
    kinds, states = dict(DemandeKind.choices), dict(DemandeState.choices)
    paris = timezone.get_current_timezone()
    header = ["Référence", "Type", "Caisse", "État", "Déposée le", "Déposée par", "Nom", "Prénom"]
    rows = (
        [
            reference,
            kinds[kind],
            caisse,
            states[state],
            created_at.astimezone(paris).strftime("%d/%m/%Y %H:%M"),
            f"{first_name} {last_name}".strip() or "Compte supprimé",
            last_name_assure,
            first_name_assure,
        ]
        for reference, kind, caisse, state, created_at, first_name, last_name, last_name_assure, first_name_assure in (
            stream_rows(demandes.values_list(*EXPORT_COLUMNS))
        )
    )
    return csv_response(f"demandes-{timezone.localdate().isoformat()}.csv", header, rows)


def _visible_demande(request, reference):
    return get_object_or_404(
        Demande.objects.visible_to(request.user).select_related("caisse", "partenaire", "filed_by"), reference=reference
    )


@partner_required
def detail(request, reference):
    demande = _visible_demande(request, reference)
    services.record_read(demande, request.user)
    thread = Message.objects.filter(demande=demande, internal=False).select_related("author").prefetch_related("pieces")
    form = ReplyForm()
    return render(
        request,
        "requests_app/detail.html",
        {
            "title": f"Demande {demande.reference}",
            "demande": demande,
            "thread": thread,
            "form": form,
            "can_reply": services.can_reply(request.user, demande),
            "state_changes": demande.changes.states().select_related("by"),
        },
    )


@partner_required
@require_POST
def reply(request, reference):
    demande = _visible_demande(request, reference)
    if not services.can_reply(request.user, demande):  # A1, D9: before the posted files are checked and kept
        raise PermissionDenied("Vous ne pouvez pas écrire sur cette demande.")
    form = ReplyForm(request.POST, request.FILES)
    token = form.token()
    if token is None:
        raise PermissionDenied("Formulaire incomplet : rechargez la page.")
    files_ok = _handle_files(request, form, token)
    if form.is_valid() and files_ok:
        try:
            services.add_message(demande, author=request.user, body=form.cleaned_data["body"], form_token=token)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Votre message est envoyé à la caisse.")
            return redirect("demande_detail", reference=demande.reference)
    thread = Message.objects.filter(demande=demande, internal=False).select_related("author").prefetch_related("pieces")
    return render(
        request,
        "requests_app/detail.html",
        {
            "title": f"Demande {demande.reference}",
            "demande": demande,
            "thread": thread,
            "form": form,
            "can_reply": services.can_reply(request.user, demande),
            "staged": services.staged_pieces(request.user, token),
            "state_changes": demande.changes.states().select_related("by"),
        },
        status=200,
    )


@login_required
def download(request, reference, piece_id):
    """Only through here: the right to see the request is checked and the read journaled (D5, P4)."""
    demande = _visible_demande(request, reference)
    piece = get_object_or_404(
        PieceJointe.objects.select_related("message"), pk=piece_id, demande=demande, deleted_at__isnull=True
    )
    if request.user.is_partner and not services.partner_may_see(piece):
        raise Http404
    stream = piece.file.open("rb")  # first: a store that does not answer journals no read (a French 503)
    services.record_download(piece, request.user)
    response = FileResponse(stream, as_attachment=True, filename=piece.original_name, content_type=piece.mime)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
