from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from dsfr.models import DsfrConfig

from .models import JournalEntry


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


# Second-factor devices are never read nor edited by hand: keys stay secret, resets go through
# accounts.two_factor.reset_two_factor (journaled, with its permission rule).
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)

# The portal's header and footer come from settings (portal.context_processors), not django-dsfr's row.
if admin.site.is_registered(DsfrConfig):
    admin.site.unregister(DsfrConfig)
