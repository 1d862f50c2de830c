"""The partner's assistance pages (P7): report a problem, the structure's reported problems, a thread and its
answer; and the acknowledgement of a caisse's information (art. 7)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.form_flow import attach_errors, safe_next
from core.pagination import CappedPaginator

from . import assistance
from .forms_assistance import ReportForm, TicketReplyForm
from .models import Ticket, TicketAttachment
from .views import PAGE_SIZE, partner_required


def _origin(request) -> str:
    """The page the user came from: `?from=` (the link's own), else the Referer of this portal, path only."""
    origin = request.GET.get("from") or ""
    if not origin:
        referer = urlsplit(request.headers.get("Referer", ""))
        if referer.netloc in ("", request.get_host()):
            origin = referer.path
    return origin[: assistance.PAGE_MAX] if origin.startswith("/") else ""


@partner_required
def tickets(request):
    """The structure's reported problems, newest first."""
    rows = (
        Ticket.objects.visible_to(request.user).select_related("caisse", "reported_by").order_by("-created_at", "-id")
    )
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requests_app/tickets.html", {"title": "Problèmes signalés", "page": page})


@partner_required
def report(request):
    caisses = assistance.caisses_for_report(request.user)
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, caisses=caisses)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = assistance.report_problem(
                    user=request.user,
                    caisse=data["caisse"],
                    category=data["category"],
                    page=data["page"],
                    description=data["description"],
                    user_agent=request.headers.get("User-Agent", ""),
                    files=data["files"],
                    form_token=data["form_token"],
                )
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(
                    request, f"Votre signalement {ticket.reference} est transmis au référent de {ticket.caisse.name}."
                )
                return redirect("ticket_detail", reference=ticket.reference)
        if form.errors.get("files") is None and request.FILES:
            form.add_error("files", "Sélectionnez de nouveau vos captures d'écran : elles n'ont pas été gardées.")
    else:
        form = ReportForm(initial={"page": _origin(request)}, caisses=caisses)
    return render(
        request,
        "requests_app/ticket_report.html",
        {"title": "Signaler un problème", "form": form, "has_caisse": caisses.exists()},
    )


def _visible_ticket(request, reference):
    return get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related("caisse", "partenaire", "reported_by"),
        reference=reference,
    )


def _detail(request, ticket, form, status=200):
    context = {
        "title": f"Signalement {ticket.reference}",
        "ticket": ticket,
        "thread": assistance.partner_thread(ticket),
        "form": form,
        "can_reply": assistance.can_partner_reply(request.user, ticket),
    }
    return render(request, "requests_app/ticket_detail.html", context, status=status)


@partner_required
def ticket_detail(request, reference):
    return _detail(request, _visible_ticket(request, reference), TicketReplyForm())


@partner_required
@require_POST
def ticket_reply(request, reference):
    ticket = _visible_ticket(request, reference)
    if not assistance.can_partner_reply(request.user, ticket):
        raise PermissionDenied("Vous ne pouvez plus écrire sur ce signalement.")
    form = TicketReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            assistance.partner_reply(
                ticket, user=request.user, body=form.cleaned_data["body"], files=form.cleaned_data["files"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, "Votre message est envoyé au référent de la caisse.")
            return redirect("ticket_detail", reference=ticket.reference)
    return _detail(request, ticket, form)


@login_required
def ticket_attachment(request, reference, attachment_id):
    """Only through here: the right to see the ticket is checked (its structure, its caisse's agents, national
    support)."""
    ticket = _visible_ticket(request, reference)
    attachment = get_object_or_404(TicketAttachment, pk=attachment_id, ticket=ticket, message__internal=False)
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name, content_type=attachment.mime
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@partner_required
@require_POST
def information_acknowledge(request, information_id):
    assistance.acknowledge(information_id, user=request.user)
    messages.success(request, "Information marquée comme lue pour votre structure.")
    return redirect(safe_next(request) or "home")
