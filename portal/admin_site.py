"""The back-office: django-otp's admin site (A17) whose index opens on the agent's work queues."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django_otp.admin import OTPAdminSite

from . import consistency, continuity, dashboard


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
        return [
            path("coherence/", self.admin_view(self.consistency_view), name="consistency"),
            path("mode-incident/", self.admin_view(self.incident_mode_view), name="incident_mode"),
            *super().get_urls(),
        ]

    def consistency_view(self, request):
        """The last consistency run's findings, across every caisse: the national administrator's."""
        if not request.user.is_superuser:
            raise PermissionDenied
        context = {**self.each_context(request), "title": "Contrôles de cohérence", "run": consistency.last_run()}
        return TemplateResponse(request, "admin/consistency.html", context)

    def incident_mode_view(self, request):
        """P8: the national administrator switches the incident mode on or off (journaled by the service)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        mode = continuity.incident_mode()
        form = IncidentModeForm(request.POST if request.method == "POST" else None, initial={"message": mode.message})
        if request.method == "POST" and form.is_valid():
            try:
                mode = continuity.switch_incident_mode(
                    active=not mode.active, actor=request.user, message=form.cleaned_data["message"]
                )
            except ValidationError as error:
                form.add_error("message", error.messages)
            else:
                messages.success(
                    request,
                    "Mode incident activé : les partenaires voient la page de maintenance."
                    if mode.active
                    else "Mode incident désactivé : le portail est de nouveau ouvert aux partenaires.",
                )
                return redirect("admin:incident_mode")
        context = {**self.each_context(request), "title": "Mode incident", "mode": mode, "form": form}
        return TemplateResponse(request, "admin/incident_mode.html", context)


class IncidentModeForm(forms.Form):
    message = forms.CharField(
        label="Message aux partenaires",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Texte simple, sans donnée personnelle ; laissé vide, un message standard est affiché.",
    )
