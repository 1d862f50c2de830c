"""The caisse's back-office for parties and conventions: every write goes through conventions.services."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from core.admin_actions import ConfirmForm, ObjectAction, ObjectActionsMixin, attach_errors
from core.admin_history import HistoryAdmin
from core.admin_inlines import ConstraintCheckedFormSet, LabelledTabularInline
from core.admin_scoping import CaisseScopedAdmin, VisibleRelatedFieldListFilter
from core.dates import PlausibleDateField
from core.guard import FreeTextField
from core.uploads import check_upload

from . import services
from .models import (
    Avenant,
    Caisse,
    CanalSecours,
    ConventionMetier,
    ConventionStatus,
    ConventionUtilisation,
    DomaineEmail,
    MiseEnDemeure,
    Partenaire,
    Referent,
    Service,
)
from .validators import normalize_siret

# Object actions: each calls one service and returns the confirmation shown to the agent.


def _suspend(partenaire, data, request):
    services.suspend_partenaire(partenaire, reason=data["reason"], actor=request.user)
    return f"La structure « {partenaire} » est suspendue : elle n'a plus accès au portail."


def _restore(partenaire, data, request):
    services.restore_partenaire(partenaire, actor=request.user)
    return f"L'accès de la structure « {partenaire} » est rétabli."


def _terminate_metier(convention, data, request):
    services.end_convention_metier(
        convention, terminated_on=data["terminated_on"], reason=data["reason"], actor=request.user
    )
    return "La convention métier et sa convention d'utilisation sont résiliées."


def _record_notice(convention, data, request):
    notice = MiseEnDemeure(convention=convention, **data)
    services.record_mise_en_demeure(notice, actor=request.user)
    return (
        "Mise en demeure enregistrée : la résiliation sera possible à partir du "
        f"{notice.termination_possible_from:%d/%m/%Y}."
    )


def _terminate_for_breach(convention, data, request):
    services.terminate_for_breach(convention, data["notice"], terminated_on=data["terminated_on"], actor=request.user)
    return "La convention d'utilisation est résiliée : la structure n'a plus accès à cette caisse."


class ReferentInline(LabelledTabularInline):
    model = Referent
    formset = ConstraintCheckedFormSet
    extra = 0
    fields = ["position", "full_name", "role", "phone", "mobile_phone", "email", "agent"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agent":  # the agents of the caisses the user works on (the model checks which one)
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                profile="agent", caisse__in=Caisse.objects.visible_to(request.user)
            ).order_by("last_name", "first_name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CanalSecoursInline(LabelledTabularInline):
    """P8: one row per activated service; saving rewrites the copy the database-down page reads."""

    model = CanalSecours
    formset = ConstraintCheckedFormSet
    extra = 0
    fields = ["service", "phone", "email", "postal_address", "opening_hours"]


@admin.register(Caisse)
class CaisseAdmin(CaisseScopedAdmin, HistoryAdmin):
    list_display = ["name", "code", "city"]
    search_fields = ["name", "code", "city"]
    inlines = [ReferentInline, CanalSecoursInline]

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class DomaineEmailFormSet(ConstraintCheckedFormSet):
    def clean(self):
        super().clean()  # the model's clean_fields has normalised each domain by now
        self.refuse_duplicates(lambda row: row.domain, "Ce domaine figure deux fois dans la liste.")


class DomaineEmailInline(LabelledTabularInline):
    model = DomaineEmail
    formset = DomaineEmailFormSet
    extra = 1
    fields = ["domain"]


class PartenaireForm(forms.ModelForm):
    class Meta:
        model = Partenaire
        fields = [
            "name",
            "kind",
            "siret",
            "member_count",
            "can_receive_documents",
            "address_line",
            "postal_code",
            "city",
            "legal_representative",
            "legal_representative_title",
            "notification_email",
        ]

    def clean_siret(self):
        return normalize_siret(self.cleaned_data["siret"])


class SuspendForm(forms.Form):
    reason = FreeTextField(
        label="Motif de la suspension",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Usage frauduleux ou non conforme à la convention ou aux CGU (art. 4.1). Le motif est conservé.",
    )


@admin.register(Partenaire)
class PartenaireAdmin(ObjectActionsMixin, CaisseScopedAdmin, HistoryAdmin):
    form = PartenaireForm
    # accounts.admin adds the accounts' columns: quotas, the over-quota filter and the export of the accounts.
    list_display = ["name", "kind", "siret", "member_count", "can_receive_documents", "suspended"]
    list_filter = ["kind", "can_receive_documents", ("suspended_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "siret", "city"]
    readonly_fields = ["suspended_at", "suspension_reason"]
    inlines = [DomaineEmailInline]
    fieldsets = [
        (None, {"fields": ["name", "kind", "siret", "member_count", "can_receive_documents"]}),
        (
            "Adresse et représentant",
            {
                "fields": [
                    "address_line",
                    "postal_code",
                    "city",
                    "legal_representative",
                    "legal_representative_title",
                    "notification_email",
                ]
            },
        ),
        ("Suspension", {"fields": ["suspended_at", "suspension_reason"], "classes": ["collapse"]}),
    ]
    object_actions = [
        ObjectAction(
            slug="suspendre",
            label="Suspendre la structure",
            form_class=SuspendForm,
            available=lambda obj: not obj.is_suspended,
            description="La structure perd immédiatement l'accès à toutes ses caisses (art. 4.1 de la convention).",
            run=_suspend,
        ),
        ObjectAction(
            slug="retablir",
            label="Rétablir l'accès de la structure",
            form_class=ConfirmForm,
            available=lambda obj: obj.is_suspended,
            run=_restore,
        ),
    ]

    @admin.display(description="suspendue", boolean=True)
    def suspended(self, obj):
        return obj.is_suspended

    def save_model(self, request, obj, form, change):
        services.save_partenaire(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceValidatedForm(forms.ModelForm):
    """A model form that also runs the service's own checks, so their refusals show on the form."""

    @staticmethod
    def validate(instance):
        raise NotImplementedError

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                self.validate(self.instance)
            except ValidationError as exc:
                attach_errors(self, exc)


class ConventionMetierForm(ServiceValidatedForm):
    validate = staticmethod(services.validate_convention_metier)

    class Meta:
        model = ConventionMetier
        fields = ["caisse", "partenaire", "reference", "start_date", "end_date"]


class TerminateMetierForm(forms.Form):
    terminated_on = PlausibleDateField(
        label="Date de résiliation",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = FreeTextField(label="Motif", widget=forms.Textarea(attrs={"rows": 3}))


class ConventionUtilisationInline(admin.StackedInline):
    model = ConventionUtilisation
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["signed_on", "status", "ended_on"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConventionMetier)
class ConventionMetierAdmin(ObjectActionsMixin, CaisseScopedAdmin, HistoryAdmin):
    form = ConventionMetierForm
    list_display = ["partenaire", "caisse", "reference", "start_date", "end_date", "status"]
    list_filter = ["status", ("caisse", VisibleRelatedFieldListFilter)]
    list_select_related = ["partenaire", "caisse"]
    search_fields = ["partenaire__name", "partenaire__siret", "reference"]
    autocomplete_fields = ["partenaire"]
    readonly_fields = ["status", "ended_on"]
    inlines = [ConventionUtilisationInline]
    object_actions = [
        ObjectAction(
            slug="resilier",
            label="Résilier la convention métier",
            form_class=TerminateMetierForm,
            available=lambda obj: obj.status == ConventionStatus.EN_VIGUEUR,
            irreversible=True,
            description="La convention d'utilisation de l'Espace Partenaires est résiliée avec elle (art. 8.2).",
            run=_terminate_metier,
        ),
    ]

    def save_model(self, request, obj, form, change):
        services.save_convention_metier(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class ConventionUtilisationForm(ServiceValidatedForm):
    validate = staticmethod(services.validate_convention_utilisation)

    def clean_signed_document(self):
        return scanned(self.cleaned_data.get("signed_document"))

    class Meta:
        model = ConventionUtilisation
        fields = [
            "convention_metier",
            "signed_on",
            "partner_signatory",
            "caisse_signatory",
            "deliberation_reference",
            "signed_document",
            *(ConventionUtilisation.service_field(s) for s in Service),
        ]


def scanned(uploaded):
    """D5 for the caisse's own uploads too: type from content, antivirus, readability, before storage."""
    if isinstance(uploaded, UploadedFile):
        check_upload(uploaded)
        uploaded.seek(0)
    return uploaded


class AvenantForm(forms.ModelForm):
    description = FreeTextField(label="Éléments modifiés", widget=forms.Textarea(attrs={"rows": 2}))

    def clean_document(self):
        return scanned(self.cleaned_data.get("document"))

    class Meta:
        model = Avenant
        fields = ["signed_on", "description", "document"]


class AvenantInline(LabelledTabularInline):
    model = Avenant
    form = AvenantForm
    extra = 0
    can_delete = False
    fields = ["signed_on", "description", "document"]


class MiseEnDemeureInline(LabelledTabularInline):
    model = MiseEnDemeure
    extra = 0
    can_delete = False
    fields = ["issued_by", "sent_on", "received_on", "grounds", "termination_from"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="résiliation possible à partir du")
    def termination_from(self, obj):
        if obj.pk is None:  # a form the page never offers (posted anyway): nothing to compute
            return "—"
        return obj.termination_possible_from.strftime("%d/%m/%Y")


class MiseEnDemeureForm(forms.ModelForm):
    grounds = FreeTextField(label="Manquements constatés", widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = MiseEnDemeure
        fields = ["issued_by", "sent_on", "received_on", "grounds"]
        widgets = {
            "sent_on": forms.DateInput(attrs={"type": "date"}),
            "received_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, convention, **kwargs):
        super().__init__(*args, instance=MiseEnDemeure(convention=convention), **kwargs)


class TerminateForBreachForm(forms.Form):
    notice = forms.ModelChoiceField(label="Mise en demeure", queryset=MiseEnDemeure.objects.none())
    terminated_on = PlausibleDateField(
        label="Date de résiliation",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, convention, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notice"].queryset = convention.mises_en_demeure.all()


@admin.register(ConventionUtilisation)
class ConventionUtilisationAdmin(ObjectActionsMixin, CaisseScopedAdmin, HistoryAdmin):
    form = ConventionUtilisationForm
    list_display = ["__str__", "signed_on", "status", "services"]
    list_filter = ["status", ("convention_metier__caisse", VisibleRelatedFieldListFilter)]
    list_select_related = ["convention_metier__partenaire", "convention_metier__caisse"]
    search_fields = ["convention_metier__partenaire__name", "deliberation_reference"]
    autocomplete_fields = ["convention_metier"]
    readonly_fields = ["status", "ended_on"]
    inlines = [AvenantInline, MiseEnDemeureInline]
    fieldsets = [
        (None, {"fields": ["convention_metier", "status", "ended_on"]}),
        (
            "Signature",
            {
                "fields": [
                    "signed_on",
                    "partner_signatory",
                    "caisse_signatory",
                    "deliberation_reference",
                    "signed_document",
                ]
            },
        ),
        (
            "Services activés par la caisse",
            {"fields": [ConventionUtilisation.service_field(s) for s in Service]},
        ),
    ]
    object_actions = [
        ObjectAction(
            slug="mise-en-demeure",
            label="Enregistrer une mise en demeure",
            form_class=MiseEnDemeureForm,
            form_kwargs=lambda obj: {"convention": obj},
            available=lambda obj: obj.status == ConventionStatus.EN_VIGUEUR,
            description="Lettre recommandée notifiant un manquement (art. 8.2) : la résiliation devient possible "
            "30 jours calendaires après sa réception.",
            run=_record_notice,
        ),
        ObjectAction(
            slug="resilier",
            label="Résilier pour manquement",
            form_class=TerminateForBreachForm,
            form_kwargs=lambda obj: {"convention": obj},
            available=lambda obj: obj.status == ConventionStatus.EN_VIGUEUR and obj.mises_en_demeure.exists(),
            irreversible=True,
            description="Possible à partir de 30 jours calendaires après la réception de la mise en demeure.",
            run=_terminate_for_breach,
        ),
    ]

    @admin.display(description="services ouverts")
    def services(self, obj):
        return len(obj.enabled_services)

    def save_model(self, request, obj, form, change):
        services.save_convention_utilisation(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False
