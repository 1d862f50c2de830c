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
