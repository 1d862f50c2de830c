"""The back-office: django-otp's admin site (A17) whose index opens on the agent's work queues."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django_otp.admin import OTPAdminSite

from . import consistency, dashboard


class PortalAdminSite(OTPAdminSite):
    site_header = "Espace Partenaires — back-office de la caisse"
    site_title = "Espace Partenaires"
    index_title = "Tableau de bord"
    index_template = "admin/portal_index.html"

    def password_change(self, request, extra_context=None):
        # One way to change a password (rules, history, journal, email): the portal's page.
        return redirect("password_change")

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queues": dashboard.queues(request.user)}
        return super().index(request, extra_context)

    def get_urls(self):
        return [path("coherence/", self.admin_view(self.consistency_view), name="consistency"), *super().get_urls()]

    def consistency_view(self, request):
        """The last consistency run's findings, across every caisse: the national administrator's."""
        if not request.user.is_superuser:
            raise PermissionDenied
        context = {**self.each_context(request), "title": "Contrôles de cohérence", "run": consistency.last_run()}
        return TemplateResponse(request, "admin/consistency.html", context)
