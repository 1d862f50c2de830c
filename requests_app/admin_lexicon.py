"""The health-data lexicon of the free-text guard (D4), maintained by the caisses' administrators."""

from django.contrib import admin, messages
from django.utils import timezone

from .models import HealthTerm


@admin.register(HealthTerm)
class HealthTermAdmin(admin.ModelAdmin):
    list_display = ["term", "category", "active", "updated_at"]
    list_filter = ["category", "active"]
    search_fields = ["term", "normalized"]
    ordering = ["normalized"]
    fields = ["term", "normalized", "category", "active", "created_at", "updated_at"]
    readonly_fields = ["normalized", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    list_per_page = 100

    # Bulk updates bypass save(): they set updated_at themselves, which is how the guard sees the change.
    def _set_active(self, request, queryset, active: bool):
        count = queryset.exclude(active=active).update(active=active, updated_at=timezone.now())
        state = "refusé(s) de nouveau" if active else "désormais accepté(s)"
        self.message_user(request, f"{count} terme(s) {state} dans les zones de texte libre.", messages.SUCCESS)

    @admin.action(description="Activer les termes sélectionnés (les refuser)", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Désactiver les termes sélectionnés (les accepter)", permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)
