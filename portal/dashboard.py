"""The agent's work queues: a fixed number of counting queries, each linked to its list."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    AccountIncident,
    GestionnaireRequest,
    GestionnaireRequestKind,
    HabilitationRequest,
    HabilitationReview,
)
from accounts.quotas import partners_over_quota
from conventions.models import Partenaire
from core.working_days import add_working_days
from requests_app.models import OPEN_STATES, Demande, DemandeState, Ticket, TicketState, overdue_q, unread_q


def _url(name: str, query: str = "") -> str:
    return reverse(f"admin:{name}") + (f"?{query}" if query else "")


def queues(user) -> dict:
    today = timezone.localdate()
    # Open requests only, one query on the partial index demande_caisse_open_counts, read alone (no row of the
    # table visited): the closed ones, which pile up for years, are listed (linked) but never counted here.
    open_demandes = (
        Demande.objects.visible_to(user)
        .open()
        .aggregate(
            unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
            mine=Count("pk", filter=Q(assigned_to=user)),
            late=Count("pk", filter=overdue_q(today)),
            **{state: Count("pk", filter=Q(state=state)) for state in OPEN_STATES},
        )
    )
    soon = add_working_days(today, 5)
    habilitations = (
        HabilitationRequest.objects.visible_to(user)
        .pending()
        .aggregate(
            due_soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=soon)),
            overdue=Count("pk", filter=Q(due_on__lt=today)),
        )
    )
    gestionnaire = (
        GestionnaireRequest.objects.visible_to(user)
        .pending()
        .aggregate(
            modifications=Count("pk", filter=Q(kind=GestionnaireRequestKind.MODIFICATION)),
            inactivations=Count("pk", filter=Q(kind=GestionnaireRequestKind.INACTIVATION)),
        )
    )
    # P7: the reported problems not resolved (partial index ticket_caisse_open); for the national administrator,
    # every caisse's, and the national queue (those transmitted to national support).
    tickets = (
        Ticket.objects.visible_to(user)
        .open()
        .aggregate(open=Count("pk"), national=Count("pk", filter=Q(state=TicketState.TRANSMIS)))
    )
    demandes_url = "requests_app_demande_changelist"
    return {
        "demandes_by_state": [
            (state.label, open_demandes.get(state.value, ""), _url(demandes_url, f"state__exact={state.value}"))
            for state in DemandeState
        ],
        "cards": [
            (
                "Problèmes signalés par les partenaires, non résolus",
                tickets["open"],
                _url("requests_app_ticket_changelist", "file=ouverts"),
            ),
            (
                "File nationale : problèmes transmis au support national"
                if user.is_superuser
                else "Problèmes transmis au support national",
                tickets["national"],
                _url("requests_app_ticket_changelist", "file=nationale"),
            ),
            ("Demandes sans agent", open_demandes["unassigned"], _url(demandes_url, "agent=personne")),
            ("Mes demandes en cours", open_demandes["mine"], _url(demandes_url, "agent=moi")),
            (
                "Messages de partenaires non lus sur mes demandes",
                # The agent's own requests (the index on assigned_to), each probed in the read marks' index.
                Demande.objects.visible_to(user).filter(assigned_to=user).filter(unread_q(user)).count(),
                _url(demandes_url, "agent=moi&lecture=non_lues"),
            ),
            ("Demandes en retard", open_demandes["late"], _url(demandes_url, "retard=oui")),
            (
                "Habilitations à traiter sous 5 jours ouvrés",
                habilitations["due_soon"],
                _url("accounts_habilitationrequest_changelist", "status__exact=pending"),
            ),
            (
                "Habilitations en retard",
                habilitations["overdue"],
                _url("accounts_habilitationrequest_changelist", "delai=depasse"),
            ),
            (
                "Demandes de modification de gestionnaire",
                gestionnaire["modifications"],
                _url("accounts_gestionnairerequest_changelist", "status__exact=pending&kind__exact=modification"),
            ),
            (
                "Demandes d'inactivation de gestionnaire",
                gestionnaire["inactivations"],
                _url("accounts_gestionnairerequest_changelist", "status__exact=pending&kind__exact=inactivation"),
            ),
            (
                "Signalements de fraude, perte ou vol à traiter",
                AccountIncident.objects.visible_to(user).pending().count(),
                _url("accounts_accountincident_changelist", "processed_at__isempty=1"),
            ),
            (
                "Revues d'habilitation en retard",
                HabilitationReview.objects.visible_to(user).late(today).count(),
                _url("accounts_habilitationreview_changelist", "attestation=en_retard"),
            ),
            (
                "Partenaires au-delà de leur quota",
                partners_over_quota(Partenaire.objects.visible_to(user)).count(),
                _url("conventions_partenaire_changelist", "quota=depasse"),
            ),
        ],
    }
