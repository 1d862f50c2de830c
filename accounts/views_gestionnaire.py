"""The gestionnaire's pages: the structure's accounts, techniciens, requests to the caisse (A6, A10–A13, A16)."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit, form_flow
from core.models import Action

from . import habilitations, services, two_factor
from .exports import habilitation_table_csv, structure_accounts
from .forms import (
    AccountsFilterForm,
    GestionnaireInactivationForm,
    GestionnaireModificationForm,
    IdentityForm,
    InactivateTechnicienForm,
    IncidentForm,
)
from .models import (
    OCCUPYING_STATES,
    AccountState,
    GestionnaireRequest,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    Profile,
    RequestStatus,
    User,
)

# A big structure has hundreds of accounts: a page of them, searched and filtered; the export gives them all.
ACCOUNTS_PAGE_SIZE = 50


def gestionnaire_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_gestionnaire:
            raise PermissionDenied("Page réservée aux gestionnaires de la structure.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _account_of_structure(request, pk, profile=None):
    account = get_object_or_404(
        User.objects.exclude(state=AccountState.SUPPRIME), pk=pk, partenaire=request.user.partenaire
    )
    if profile and account.profile != profile:
        raise PermissionDenied("Ce compte n'a pas le profil attendu pour cette opération.")
    return account


@gestionnaire_required
def accounts_list(request):
    partenaire = request.user.partenaire
    pending = GestionnaireRequest.objects.filter(
        partenaire=partenaire, status__in=(RequestStatus.PENDING, RequestStatus.SCHEDULED)
    ).select_related("target")
    form = AccountsFilterForm(request.GET or None)
    page = Paginator(form.filter(structure_accounts(partenaire)), ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": "Comptes de la structure",
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "filtered": any(request.GET.get(name) for name in form.fields),
        "usage": [services.quota_usage(partenaire, p) for p in (Profile.GESTIONNAIRE, Profile.TECHNICIEN)],
        "pending_requests": pending,
        "pending_habilitations": HabilitationRequest.objects.filter(
            partenaire=partenaire, status=RequestStatus.PENDING
        ),
        "open_reviews": HabilitationReview.objects.filter(partenaire=partenaire, attested_at__isnull=True),
        "refused_habilitations": HabilitationRequest.objects.filter(
            partenaire=partenaire, status=RequestStatus.REFUSED, processed_at__gte=timezone.now() - timedelta(days=60)
        ),
        "refused_requests": GestionnaireRequest.objects.filter(
            partenaire=partenaire, status=RequestStatus.REFUSED, processed_at__gte=timezone.now() - timedelta(days=60)
        ).select_related("target"),
        "today": timezone.localdate(),
    }
    return render(request, "accounts/gestionnaire/accounts.html", context)


@gestionnaire_required
def accounts_export(request):
    """A16: the habilitation table as CSV for a French spreadsheet (UTF-8 BOM, semicolons)."""
    partenaire = request.user.partenaire
    response = habilitation_table_csv(partenaire)
    audit.record(Action.ACCOUNTS_EXPORTED, target=partenaire)
    return response


@gestionnaire_required
def technicien_create(request):
    """A6: within quota; the form keeps what was typed when refused."""
    partenaire = request.user.partenaire
    usage = services.quota_usage(partenaire, Profile.TECHNICIEN)
    form = IdentityForm(request.POST or None)

    def create(data):
        account = services.create_technicien(request.user, data)
        return (
            f"Le compte de {account.get_full_name()} est créé (identifiant : {account.username}). "
            f"Un lien d'activation a été envoyé à {account.email}."
        )

    if response := form_flow.submit(request, form, create, "accounts_list"):
        return response
    return render(
        request,
        "accounts/gestionnaire/technicien_form.html",
        {"title": "Créer un compte technicien", "form": form, "usage": usage},
    )


@gestionnaire_required
@require_POST
def resend_invitation(request, pk):
    account = _account_of_structure(request, pk, Profile.TECHNICIEN)
    try:
        services.resend_invitation(account, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Un nouveau lien d'activation a été envoyé à {account.email}.")
    return redirect("accounts_list")


@gestionnaire_required
def technicien_inactivate(request, pk):
    """A12: any gestionnaire of the partner, with a reason."""
    account = _account_of_structure(request, pk, Profile.TECHNICIEN)
    form = InactivateTechnicienForm(request.POST or None)

    def inactivate(data):
        services.inactivate_technicien(
            account,
            gestionnaire=request.user,
            reason=InactivationReason(data["reason"]),
            comment=data["comment"],
        )
        return f"Le compte de {account.get_full_name()} est inactivé."

    if response := form_flow.submit(request, form, inactivate, "accounts_list"):
        return response
    return render(
        request,
        "accounts/gestionnaire/technicien_inactivate.html",
        {"title": "Inactiver un compte technicien", "form": form, "account": account},
    )


@gestionnaire_required
@require_POST
def technicien_reset_two_factor(request, pk):
    account = _account_of_structure(request, pk, Profile.TECHNICIEN)
    two_factor.reset_two_factor(account, actor=request.user)
    messages.success(request, two_factor.reset_done_message(account))
    return redirect("accounts_list")


@gestionnaire_required
def gestionnaire_modification(request, pk):
    """A10: the partner asks, the caisse applies."""
    target = _account_of_structure(request, pk, Profile.GESTIONNAIRE)
    form = GestionnaireModificationForm(request.POST or None)

    def ask(data):
        habilitations.request_gestionnaire_modification(target, data, requested_by=request.user)
        return "Votre demande de modification est transmise à la caisse."

    if response := form_flow.submit(request, form, ask, "accounts_list"):
        return response
    return render(
        request,
        "accounts/gestionnaire/gestionnaire_request.html",
        {
            "title": "Demander la modification d'un compte gestionnaire",
            "form": form,
            "target": target,
            "intro": "Seule la caisse modifie un compte gestionnaire (article 2.2.2 de la convention). "
            "Indiquez uniquement ce qui change.",
        },
    )


@gestionnaire_required
def gestionnaire_inactivation(request, pk):
    """A11: at least 15 days ahead, never the last active gestionnaire."""
    target = _account_of_structure(request, pk, Profile.GESTIONNAIRE)
    form = GestionnaireInactivationForm(
        request.POST or None, initial={"wanted_on": habilitations.earliest_inactivation_date()}
    )

    def ask(data):
        habilitations.request_gestionnaire_inactivation(target, data["wanted_on"], requested_by=request.user)
        return "Votre demande d'inactivation est transmise à la caisse."

    if response := form_flow.submit(request, form, ask, "accounts_list"):
        return response
    return render(
        request,
        "accounts/gestionnaire/gestionnaire_request.html",
        {
            "title": "Demander l'inactivation d'un compte gestionnaire",
            "form": form,
            "target": target,
            "intro": "La caisse doit être prévenue au moins 15 jours avant la date souhaitée. Les techniciens "
            "créés par ce gestionnaire restent actifs et sont rattachés à un autre gestionnaire.",
        },
    )


@gestionnaire_required
def habilitation_request(request):
    """A5: ask the caisse to habilitate a new gestionnaire."""
    form = IdentityForm(request.POST or None)

    def ask(data):
        demand = habilitations.record_habilitation_request(
            HabilitationRequest(partenaire=request.user.partenaire, **data), actor=request.user
        )
        return f"Demande transmise : la caisse la traite au plus tard le {demand.due_on:%d/%m/%Y}."

    if response := form_flow.submit(request, form, ask, "accounts_list"):
        return response
    return render(
        request,
        "accounts/gestionnaire/habilitation_request.html",
        {"title": "Demander l'habilitation d'un nouveau gestionnaire", "form": form},
    )


@gestionnaire_required
@require_POST
def review_attest(request, pk):
    review = get_object_or_404(HabilitationReview, pk=pk, partenaire=request.user.partenaire)
    try:
        habilitations.attest_review(review, gestionnaire=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Revue des habilitations attestée : merci.")
    return redirect("accounts_list")


@login_required
def incident_report(request):
    """A13: any partner user reports fraud, loss or theft; a technicien only for its own account."""
    user = request.user
    if not user.is_partner:
        raise PermissionDenied("Page réservée aux comptes des structures partenaires.")
    accounts = structure_accounts(user.partenaire).filter(state__in=OCCUPYING_STATES)
    if not user.is_gestionnaire:
        accounts = accounts.filter(pk=user.pk)
    form = IncidentForm(request.POST or None, accounts=accounts, initial={"account": user.pk})

    def report(data):
        habilitations.report_incident(
            accounts.get(pk=data["account"]),
            kind=data["kind"],
            description=data["description"],
            reported_by=user,
        )
        return "Votre signalement est transmis à la caisse, qui inactive le compte sans délai."

    if response := form_flow.submit(request, form, report, "home"):
        return response
    return render(
        request,
        "accounts/incident_report.html",
        {"title": "Signaler une utilisation frauduleuse, une perte ou un vol d'identifiants", "form": form},
    )
