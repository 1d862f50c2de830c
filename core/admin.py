"""The base's admin: the audit journal (read-only, P4) and the lexicon of sensitive data of the free-text guard
(D4), maintained by the caisses' administrators: every category (health, origin, religion, opinions, union, sex
life, offences, judgements, exceptions)."""

from django.contrib import admin, messages
from django.utils import timezone

from .guard import term_word_forms
from .models import HealthTerm, JournalEntry


@admin.register(HealthTerm)
class HealthTermAdmin(admin.ModelAdmin):
    list_display = ["term", "category", "active", "updated_at"]
    list_filter = ["category", "active"]
    search_fields = ["term", "normalized"]
    ordering = ["normalized"]
    fields = ["term", "normalized", "recognised_forms", "category", "active", "created_at", "updated_at"]
    readonly_fields = ["normalized", "recognised_forms", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    list_per_page = 100

    @admin.display(description="formes reconnues (sans accents)")
    def recognised_forms(self, obj):
        """What the guard refuses for this term, word by word: the administrator sees the generated forms."""
        if not obj or not obj.term:
            return "—"
        return " + ".join(
            " | ".join(sorted(forms, key=lambda form: (len(form), form))) for forms in term_word_forms(obj.term)
        )

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


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    """Read-only: the journal is append-only (P4)."""

    list_display = ["at", "action", "actor", "target_label", "ip"]
    list_filter = ["action", "at"]
    search_fields = ["target_label", "actor__username", "target_id"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
