"""Staff see only their caisse's objects: each model's `visible_to(user)` queryset says which."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext


class SafeAutocompleteSelect(AutocompleteSelect):
    """Shows a posted value that is not a key (« x ») as no choice: Django's widget filtered on it and crashed
    (ValueError, a 500) while re-rendering the page, instead of letting the field say « choix valide »."""

    def optgroups(self, name, value, attr=None):
        to_field = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name or "pk")

        def readable(item):
            try:
                to_field.to_python(item)
            except ValidationError:
                return False
            return True

        return super().optgroups(name, [item for item in value if readable(item)], attr)


class CaisseScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def action_checkbox(self, obj):
        # Django's renders a widget template per row (half of a 50-row list's time): the same markup, directly.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related_qs = db_field.related_model._default_manager.all()
        if hasattr(related_qs, "visible_to"):
            kwargs["queryset"] = related_qs.visible_to(request.user)
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another caisse's object by its URL: 404, as if it did not exist (no redirect hinting otherwise).
        raise Http404
