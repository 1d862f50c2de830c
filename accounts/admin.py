"""The caisse's back-office for accounts (A5, A10, A11, A13, A16, A17): every write calls a service."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html_join

from conventions.admin import PartenaireAdmin
from conventions.models import Caisse, Partenaire
from core import audit
from core.admin_actions import ConfirmForm, ObjectAction, ObjectActionsMixin
from core.admin_history import HistoryAdmin
from core.admin_scoping import CaisseScopedAdmin
from core.guard import FreeTextField
from core.models import Action, JournalEntry

from . import habilitations, services, two_factor
from .exports import habilitation_table_csv
from .models import (
    CGU,
    OCCUPYING_STATES,
    AccountIncident,
    AccountState,
    GestionnaireRequest,
    GestionnaireRequestKind,
    HabilitationRequest,
    HabilitationReview,
    IncidentKind,
    IncidentSource,
    Profile,
    RequestStatus,
    User,
)
from .quotas import partners_over_quota, quotas_for
from .validators import validate_professional_email


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label="Nature", choices=IncidentKind.choices)
    description = FreeTextField(label="Constat", widget=forms.Textarea(attrs={"rows": 3}))


class RefuseForm(forms.Form):
    reason = FreeTextField(label="Motif du refus, lisible par le partenaire", max_length=300)


def _detect_incident(user, data, request):
    habilitations.caisse_detects_incident(user, kind=data["kind"], description=data["description"], actor=request.user)
    return (
        f"Le compte {user.username} est inactivé ; les gestionnaires de la structure en sont informés par "
        "email (texte conservé dans le signalement)."
    )


def _reset_two_factor(user, data, request):
    two_factor.reset_two_factor(user, actor=request.user)
    return two_factor.reset_done_message(user)


class CaisseChoiceForm(forms.Form):
    caisse = forms.ModelChoiceField(label="Caisse", queryset=Caisse.objects.all())


def _grant_caisse(user, data, request):
    services.grant_caisse(user, data["caisse"], actor=request.user)
    return f"{user.get_full_name()} traite désormais aussi les dossiers de {data['caisse']}."


def _revoke_caisse(user, data, request):
    services.revoke_caisse(user, data["caisse"], actor=request.user)
    return f"{user.get_full_name()} ne traite plus les dossiers de {data['caisse']}."


def _resend_invitation(user, data, request):
    services.resend_invitation(user, actor=request.user)
    return f"Un nouveau lien d'activation a été envoyé à {user.email}."


@admin.register(User)
class UserAdmin(ObjectActionsMixin, CaisseScopedAdmin, HistoryAdmin):
    """Accounts are read here; every change is an action that calls the account services."""

    list_display = ["username", "last_name", "first_name", "profile", "state", "partenaire", "caisse", "last_login"]
    list_filter = ["profile", "state"]
    list_select_related = ["partenaire", "caisse"]
    search_fields = ["username", "last_name", "first_name", "email"]
    show_full_result_count = False
    fields = [
        "username",
        "civilite",
        "last_name",
        "first_name",
        "job_title",
        "phone",
        "email",
        "profile",
        "partenaire",
        "caisse",
        "attached_to",
        "state",
        "state_changed_at",
        "inactivated_at",
        "inactivation_reason",
        "inactivation_comment",
        "created_by",
        "date_joined",
        "last_login",
        "password_changed_at",
        "journal",
    ]
    readonly_fields = fields
    object_actions = [
        ObjectAction(
            slug="inactiver",
            label="Inactiver immédiatement (fraude, perte, vol)",
            form_class=IncidentForm,
            available=lambda user: user.is_partner and user.state in OCCUPYING_STATES,
            irreversible=True,
            description="Le compte perd l'accès sur-le-champ ; les gestionnaires de la structure sont informés par "
            "email et le texte envoyé est conservé (article 4.1).",
            run=_detect_incident,
        ),
        ObjectAction(
            slug="reinitialiser-2fa",
            label="Réinitialiser la double authentification",
            form_class=ConfirmForm,
            available=lambda user: user.state == AccountState.ACTIF,
            description="À faire quand la personne a perdu son téléphone, à sa demande vérifiée : elle reçoit "
            "par email le lien qui, seul, lui permet d'enregistrer un nouvel appareil.",
            run=_reset_two_factor,
        ),
        ObjectAction(
            slug="ouvrir-caisse",
            label="Ouvrir les dossiers d'une autre caisse",
            form_class=CaisseChoiceForm,
            available=lambda user: user.profile == Profile.AGENT,
            permitted=lambda request: request.user.is_superuser,
            description="L'agent verra et traitera aussi les partenaires, conventions et demandes de cette caisse.",
            run=_grant_caisse,
        ),
        ObjectAction(
            slug="fermer-caisse",
            label="Retirer une caisse supplémentaire",
            form_class=CaisseChoiceForm,
            available=lambda user: user.profile == Profile.AGENT,
            permitted=lambda request: request.user.is_superuser,
            run=_revoke_caisse,
        ),
        ObjectAction(
            slug="relancer",
            label="Renvoyer le lien d'activation",
            form_class=ConfirmForm,
            available=lambda user: user.state == AccountState.INVITE,
            run=_resend_invitation,
        ),
    ]

    @admin.display(description="journal d'audit (50 derniers événements)")
    def journal(self, user):
        entries = JournalEntry.objects.filter(
            Q(actor=user) | Q(target_type=User._meta.label_lower, target_id=str(user.pk))
        ).select_related("actor")[:50]
        return (
            format_html_join(
                "",
                "<div>{} — {} — {} {}</div>",
                (
                    (
                        timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M"),
                        e.get_action_display(),
                        e.target_label,
                        f"(par {e.actor.audit_label})" if e.actor_id and e.actor_id != user.pk else "",
                    )
                    for e in entries
                ),
            )
            or "—"
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = "délai"
    parameter_name = "delai"

    def lookups(self, request, model_admin):
        return [("depasse", "Délai dépassé"), ("bientot", "À traiter sous 2 jours")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        pending = queryset.filter(status=RequestStatus.PENDING)
        if self.value() == "depasse":
            return pending.filter(due_on__lt=today)
        if self.value() == "bientot":
            return pending.filter(due_on__gte=today, due_on__lte=today + timedelta(days=2))
        return queryset


class HabilitationRequestForm(forms.ModelForm):
    class Meta:
        model = HabilitationRequest
        fields = ["partenaire", "civilite", "last_name", "first_name", "job_title", "phone", "email", "received_on"]

    def clean(self):
        data = super().clean()
        if data.get("partenaire") and data.get("email"):
            try:
                validate_professional_email(data["email"], data["partenaire"])
            except ValidationError as exc:
                self.add_error("email", exc)
        return data


def _accept_habilitation(demand, data, request):
    user = habilitations.accept_habilitation_request(demand, actor=request.user)
    return f"Compte gestionnaire {user.username} créé : le lien d'activation est envoyé à {user.email}."


def _refuse(demand, data, request):
    habilitations.refuse_request(demand, reason=data["reason"], actor=request.user)
    return "Demande refusée."


@admin.register(HabilitationRequest)
class HabilitationRequestAdmin(ObjectActionsMixin, CaisseScopedAdmin):
    """A5: pending requests with their due date (5 working days); the agent creates the account."""

    form = HabilitationRequestForm
    list_display = ["__str__", "received_on", "due_on", "overdue", "status"]
    list_filter = ["status", OverdueFilter]
    list_select_related = ["partenaire"]
    search_fields = ["last_name", "first_name", "email", "partenaire__name"]
    autocomplete_fields = ["partenaire"]
    object_actions = [
        ObjectAction(
            slug="creer-compte",
            label="Créer le compte gestionnaire",
            form_class=ConfirmForm,
            available=lambda d: d.status == RequestStatus.PENDING,
            run=_accept_habilitation,
            description="Le compte est créé dans la limite des gestionnaires autorisés pour la structure ; "
            "la personne reçoit un lien pour choisir son mot de passe.",
        ),
        ObjectAction(
            slug="refuser",
            label="Refuser la demande",
            form_class=RefuseForm,
            available=lambda d: d.status == RequestStatus.PENDING,
            run=_refuse,
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["due_on"]
        return [
            *HabilitationRequestForm.Meta.fields,
            "due_on",
            "status",
            "account",
            "processed_at",
            "processed_by",
            "refusal_reason",
        ]

    @admin.display(description="en retard", boolean=True)
    def overdue(self, obj):
        return obj.status == RequestStatus.PENDING and obj.due_on < timezone.localdate()

    def save_model(self, request, obj, form, change):
        if not change:
            habilitations.record_habilitation_request(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


def _apply_now(demand, data, request):
    habilitations.apply_gestionnaire_request(demand, actor=request.user, immediately=True)
    return "Demande appliquée."


def _apply_at_date(demand, data, request):
    demand = habilitations.apply_gestionnaire_request(demand, actor=request.user)
    if demand.status == RequestStatus.SCHEDULED:
        return f"Inactivation programmée au {demand.wanted_on:%d/%m/%Y}."
    return "Demande appliquée."


@admin.register(GestionnaireRequest)
class GestionnaireRequestAdmin(ObjectActionsMixin, CaisseScopedAdmin):
    """A10, A11: the partner asks, the agent applies (the only way a gestionnaire account changes)."""

    list_display = ["__str__", "partenaire", "kind", "requested_at", "wanted_on", "status"]
    list_filter = ["status", "kind"]
    list_select_related = ["partenaire", "target"]
    search_fields = ["target__last_name", "target__username", "partenaire__name"]
    readonly_fields = [
        "partenaire",
        "kind",
        "target",
        "requested_by",
        "requested_at",
        "new_last_name",
        "new_job_title",
        "new_phone",
        "new_email",
        "wanted_on",
        "status",
        "processed_at",
        "processed_by",
        "refusal_reason",
    ]
    fields = readonly_fields
    object_actions = [
        ObjectAction(
            slug="appliquer",
            label="Appliquer maintenant",
            form_class=ConfirmForm,
            available=lambda d: d.status == RequestStatus.PENDING,
            run=_apply_now,
            description="Une inactivation rattache les techniciens de ce gestionnaire à un autre "
            "gestionnaire actif de la structure.",
        ),
        ObjectAction(
            slug="programmer",
            label="Inactiver à la date souhaitée",
            form_class=ConfirmForm,
            available=lambda d: d.status == RequestStatus.PENDING and d.kind == GestionnaireRequestKind.INACTIVATION,
            run=_apply_at_date,
        ),
        ObjectAction(
            slug="refuser",
            label="Refuser la demande",
            form_class=RefuseForm,
            available=lambda d: d.status in (RequestStatus.PENDING, RequestStatus.SCHEDULED),
            run=_refuse,
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _process_incident(incident, data, request):
    habilitations.process_incident(incident, actor=request.user)
    return f"Le compte {incident.account.username} est inactivé."


@admin.register(AccountIncident)
class AccountIncidentAdmin(ObjectActionsMixin, CaisseScopedAdmin):
    """A13: reports to process at once; caisse detections are recorded from the account's page."""

    list_display = ["__str__", "partenaire", "source", "reported_at", "processed_at", "partner_informed"]
    list_filter = ["source", "kind", ("processed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["partenaire", "account"]
    readonly_fields = [
        "partenaire",
        "account",
        "kind",
        "source",
        "description",
        "reported_by",
        "reported_at",
        "processed_at",
        "processed_by",
        "notified_at",
        "notified_to",
        "notification_text",
    ]
    fields = readonly_fields
    object_actions = [
        ObjectAction(
            slug="traiter",
            label="Inactiver le compte signalé",
            form_class=ConfirmForm,
            available=lambda i: i.processed_at is None,
            run=_process_incident,
            irreversible=True,
        ),
    ]

    @admin.display(description="partenaire informé", boolean=True)
    def partner_informed(self, obj):
        # A caisse detection must be told to the partner (art. 4.1); None: nothing to tell (partner's report).
        return obj.notified_at is not None if obj.source == IncidentSource.CAISSE else None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LateReviewFilter(admin.SimpleListFilter):
    title = "attestation"
    parameter_name = "attestation"

    def lookups(self, request, model_admin):
        return [("en_retard", "En retard"), ("attendue", "Attendue"), ("attestee", "Attestée")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "en_retard":
            return queryset.late(today)
        if self.value() == "attendue":
            return queryset.filter(attested_at__isnull=True, due_on__gte=today)
        if self.value() == "attestee":
            return queryset.filter(attested_at__isnull=False)
        return queryset


class HabilitationReviewForm(forms.ModelForm):
    class Meta:
        model = HabilitationReview
        fields = ["partenaire", "due_on"]

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        habilitations.check_review_due_on(due_on)
        return due_on


@admin.register(HabilitationReview)
class HabilitationReviewAdmin(CaisseScopedAdmin):
    """A16: the caisse asks for a review by a date; late reviews are listed."""

    form = HabilitationReviewForm
    list_display = ["__str__", "requested_at", "due_on", "attested_at", "late"]
    list_filter = [LateReviewFilter]
    list_select_related = ["partenaire"]
    autocomplete_fields = ["partenaire"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["partenaire", "due_on", "requested_by", "attested_by", "attested_at"]

    @admin.display(description="en retard", boolean=True)
    def late(self, obj):
        return obj.attested_at is None and obj.due_on < timezone.localdate()

    def save_model(self, request, obj, form, change):
        if not change:
            habilitations.request_review(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CGU)
class CGUAdmin(HistoryAdmin):
    """A8: a new version published here must be accepted again by every partner account."""

    list_display = ["version", "title", "published_at", "acceptances_count"]

    @admin.display(description="acceptations")
    def acceptances_count(self, obj):
        return obj.acceptances.count()

    def get_readonly_fields(self, request, obj=None):
        # Once accepted by someone, a version's text is what they accepted: it no longer changes.
        if obj is not None and obj.acceptances.exists():
            return ["version", "title", "body", "published_at"]
        return []

    def has_delete_permission(self, request, obj=None):
        return obj is not None and not obj.acceptances.exists() and super().has_delete_permission(request, obj)


# --- The partners' accounts, in the partner's page of conventions' admin ----------------------------------


class OverQuotaFilter(admin.SimpleListFilter):
    """A4: partners holding more accounts than their member count now allows (creation blocked)."""

    title = "quotas"
    parameter_name = "quota"

    def lookups(self, request, model_admin):
        return [("depasse", "Au-delà du quota")]

    def queryset(self, request, queryset):
        if self.value() == "depasse":
            return partners_over_quota(queryset)
        return queryset


def _after(items, anchor, *added):
    index = items.index(anchor) + 1
    return [*items[:index], *added, *items[index:]]


class PartenaireAccountsAdmin(PartenaireAdmin):
    """conventions' Partenaire admin with what belongs to the accounts: the quotas (A2, A3, A4) and the export
    of the structure's accounts."""

    list_display = _after(PartenaireAdmin.list_display, "member_count", "quotas")
    list_filter = _after(PartenaireAdmin.list_filter, "can_receive_documents", OverQuotaFilter)
    actions = ["export_accounts"]

    @admin.action(description="Exporter les comptes de la structure (CSV)")
    def export_accounts(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choisissez une seule structure à exporter.", level="error")
            return None
        partenaire = queryset.get()
        audit.record(Action.ACCOUNTS_EXPORTED, target=partenaire)
        return habilitation_table_csv(partenaire)

    @admin.display(description="comptes autorisés")
    def quotas(self, obj):
        quotas = quotas_for(obj)
        return f"{quotas.gestionnaires} gestionnaires, {quotas.techniciens} techniciens"


admin.site.unregister(Partenaire)
admin.site.register(Partenaire, PartenaireAccountsAdmin)
