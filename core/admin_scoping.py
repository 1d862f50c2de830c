"""Staff see only their caisse's objects: each model's `visible_to(user)` queryset says which."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
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


class VisibleRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter on a relation offering only the objects the viewer may see (the related model's
    `visible_to`): an agent's "Par caisse" lists its caisses, never the others' names. With one choice
    left, the filter hides itself (Django's rule)."""

    def field_choices(self, field, request, model_admin):
        queryset = field.related_model._default_manager.all()
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


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

    # Another caisse's object by its URL: 404, as if it did not exist (Django would redirect to the index with
    # "perhaps it was deleted", a hint that it exists). Checked in Django's own order: a missing permission is
    # still a 403 first, then a missing object a 404.
    def _missing(self, request, object_id) -> bool:
        return object_id is not None and self.get_object(request, unquote(object_id)) is None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        allowed = (
            self.has_change_permission(request)
            if request.method == "POST"
            else self.has_view_or_change_permission(request)
        )
        if allowed and self._missing(request, object_id):
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if self.has_delete_permission(request) and self._missing(request, object_id):
            raise Http404
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        if self._missing(request, object_id):
            raise Http404
        return super().history_view(request, object_id, extra_context)
