"""Canned replies in the admin: each caisse keeps its own; the national ones, offered to every caisse, are the
national administrator's (agents read them)."""

from django.contrib import admin
from django.utils import timezone

from core.admin_scoping import CaisseScopedAdmin, VisibleRelatedFieldListFilter

from .models import ReponseType


@admin.register(ReponseType)
class ReponseTypeAdmin(CaisseScopedAdmin):
    list_display = ["title", "caisse_label", "updated_at"]
    list_filter = [("caisse", VisibleRelatedFieldListFilter)]
    list_select_related = ["caisse"]
    search_fields = ["title"]
    fields = ["caisse", "title", "body"]

    def has_change_permission(self, request, obj=None):
        # A national reply: read-only for agents (the queryset already hides the other caisses' ones).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or obj.caisse_id is not None)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or request.user.is_superuser or obj.caisse_id is not None)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "caisse":
            if request.user.is_superuser:
                field.empty_label = "Toutes les caisses (réponse nationale)"
            else:  # an agent writes for its caisses only
                field.required = True
                field.empty_label = None
                field.initial = request.user.caisse_id
        return field

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description="caisse", ordering="caisse__name")
    def caisse_label(self, obj):
        return obj.caisse.name if obj.caisse_id else "Toutes les caisses (nationale)"
