from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from portal.admin_scoping import CaisseScopedAdmin

from .models import User


@admin.register(User)
class UserAdmin(CaisseScopedAdmin, SimpleHistoryAdmin):
    """Accounts are read here; creations and changes come through the account services (next issue)."""

    list_display = [
        "username",
        "last_name",
        "first_name",
        "profile",
        "state",
        "partenaire",
        "caisse",
        "last_login",
    ]
    list_filter = ["profile", "state"]
    list_select_related = ["partenaire", "caisse"]
    search_fields = ["username", "last_name", "first_name", "email"]
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
        "state",
        "state_changed_at",
        "date_joined",
        "last_login",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
