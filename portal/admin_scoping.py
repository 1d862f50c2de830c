"""Staff see only their caisse's objects: each model's `visible_to(user)` queryset says which."""

from django.contrib import admin


class CaisseScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related_qs = db_field.related_model._default_manager.all()
        if hasattr(related_qs, "visible_to"):
            kwargs["queryset"] = related_qs.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another caisse's object by its URL: 404, as if it did not exist (no redirect hinting otherwise).
        from django.http import Http404

        raise Http404
