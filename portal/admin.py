"""The composition's admin: the portal's own content (P1, P2), and the third-party models hidden."""

from django import forms
from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from dsfr.models import DsfrConfig

from accounts.models import Profile
from core.admin_scoping import CaisseScopedAdmin
from core.uploads import check_upload

from . import content
from .models import DocumentPartenaire, MaintenanceNotice

# Second-factor devices are never read nor edited by hand: keys stay secret, resets go through
# accounts.two_factor.reset_two_factor (journaled, with its permission rule).
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

# The portal's header and footer come from settings (portal.context_processors), not django-dsfr's row.
if admin.site.is_registered(DsfrConfig):
    admin.site.unregister(DsfrConfig)


# --- Portal content (P1, P2): each caisse publishes its own; national content is the national administrator's.


def _is_content_staff(user) -> bool:
    return user.is_active and (user.is_superuser or (user.profile == Profile.AGENT and bool(user.caisse_id)))


def _when(value) -> str:
    return f"{timezone.localtime(value):%d/%m/%Y %H:%M}"


class PortalContentAdmin(CaisseScopedAdmin):
    """Every agent manages its caisses' notices and documents and reads the national ones (read-only).

    The rights follow the profile (the agents' group has no row for portal content); the rows each one
    reaches follow `visible_to` (an agent trying another caisse's row by its URL gets a 404).
    """

    list_select_related = ["caisse"]

    def has_module_permission(self, request):
        return _is_content_staff(request.user)

    def has_view_permission(self, request, obj=None):
        return _is_content_staff(request.user)

    def has_add_permission(self, request):
        return _is_content_staff(request.user)

    def has_change_permission(self, request, obj=None):
        user = request.user
        if not _is_content_staff(user):
            return False
        # National content: read-only for agents (the queryset already hides the other caisses' rows).
        return obj is None or user.is_superuser or obj.caisse_id is not None

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "caisse":
            if request.user.is_superuser:
                field.empty_label = "Toutes les caisses (national)"
            else:
                # The agent's caisse is forced: a national notice or document is not theirs to publish.
                field.required = True
                field.empty_label = None
                field.initial = request.user.caisse_id
        return field

    @admin.display(description="caisse", ordering="caisse__name")
    def caisse_label(self, obj):
        return obj.caisse.name if obj.caisse_id else "Toutes les caisses"


class NoticePeriodFilter(admin.SimpleListFilter):
    title = "période"
    parameter_name = "periode"

    def lookups(self, request, model_admin):
        return [
            ("affichee", "Annoncée en ce moment"),
            ("programmee", "Pas encore annoncée"),
            ("terminee", "Terminée"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "affichee":
            return queryset.filter(announce_from__lte=now, ends_at__gt=now)
        if self.value() == "programmee":
            return queryset.filter(announce_from__gt=now)
        if self.value() == "terminee":
            return queryset.filter(ends_at__lte=now)
        return queryset


class MaintenanceNoticeForm(forms.ModelForm):
    class Meta:
        model = MaintenanceNotice
        fields = ["caisse", "title", "message", "starts_at", "ends_at", "announce_from", "interrupting"]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}


@admin.register(MaintenanceNotice)
class MaintenanceNoticeAdmin(PortalContentAdmin):
    form = MaintenanceNoticeForm
    list_display = ["title", "caisse_label", "window", "announce_from", "interrupting"]
    list_filter = [NoticePeriodFilter, "interrupting"]
    search_fields = ["title"]
    ordering = ["-starts_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return ["created_by", "created_at"] if obj else []

    @admin.display(description="maintenance", ordering="starts_at")
    def window(self, obj):
        return f"du {_when(obj.starts_at)} au {_when(obj.ends_at)}"

    def save_model(self, request, obj, form, change):
        content.save_notice(obj, actor=request.user)


class DocumentPartenaireForm(forms.ModelForm):
    """The file goes through the attachment checks (type from content, antivirus, readability) before anything
    is stored; a refusal shows next to the field, and nothing unscanned is ever kept."""

    upload = forms.FileField(
        label="Fichier",
        required=False,
        widget=forms.FileInput,
        help_text="Document PDF, ou image JPEG ou PNG ; analysé par l'antivirus avant d'être enregistré.",
    )

    class Meta:
        model = DocumentPartenaire
        fields = ["caisse", "title", "category", "description", "upload", "published"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "upload" in self.fields:
            if self.instance.pk is None:
                self.fields["upload"].required = True
            else:
                self.fields["upload"].help_text += " Laissez vide pour garder le fichier actuel."

    def clean_upload(self):
        uploaded = self.cleaned_data.get("upload")
        return check_upload(uploaded) if uploaded else None


@admin.register(DocumentPartenaire)
class DocumentPartenaireAdmin(PortalContentAdmin):
    form = DocumentPartenaireForm
    list_display = ["title", "caisse_label", "category", "published", "file_label", "updated_at"]
    list_filter = ["category", "published"]
    search_fields = ["title"]
    ordering = ["category", "title", "id"]

    def get_readonly_fields(self, request, obj=None):
        return ["file_label", "created_by", "created_at", "updated_at"] if obj else []

    @admin.display(description="fichier")
    def file_label(self, obj):
        label = f"{Truncator(obj.original_name).chars(60)} ({obj.file_format}, {filesizeformat(obj.size)})"
        if not obj.published:
            return label
        return format_html('{} — <a href="{}">télécharger</a>', label, reverse("document_download", args=[obj.pk]))

    def save_model(self, request, obj, form, change):
        content.save_document(obj, actor=request.user, checked=form.cleaned_data.get("upload"))

    def delete_model(self, request, obj):
        content.delete_document(obj)

    def delete_queryset(self, request, queryset):
        for document in queryset:
            content.delete_document(document)
