"""Pages shared by every profile: login, home, contacts of the caisse (P3)."""

import logging

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import Profile
from accounts.services import partner_places
from conventions import access
from conventions.models import Caisse
from requests_app.queue import partner_queue

from . import health
from .forms import LoginForm

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": "Se connecter"}


def _caisses_for(user):
    """The caisses whose contacts and services the user sees."""
    if user.is_partner:
        return access.caisses_accessible(user.partenaire)
    if user.profile == Profile.AGENT:
        return Caisse.objects.filter(pk=user.caisse_id)
    return Caisse.objects.all()


@login_required
def home(request):
    user = request.user
    context = {"title": "Accueil"}
    if user.is_partner:
        conventions = access.conventions_granting_access(user.partenaire).order_by("convention_metier__caisse__name")
        context["conventions"] = conventions
        context["queue"] = partner_queue(user)
        if user.is_gestionnaire:
            context["places"] = partner_places(user.partenaire)
    return render(request, f"portal/home_{user.profile}.html", context)


@login_required
def contacts(request):
    caisses = _caisses_for(request.user).prefetch_related("referents")
    return render(request, "portal/contacts.html", {"title": "Contacts de ma caisse", "caisses": caisses})


@never_cache
def healthz(request):
    """200 when every service answers, 503 naming the ones that do not (no detail beyond that)."""
    results = health.report()
    down = [name for name, state in results.items() if state != "ok"]
    if down:
        logger.warning("healthz: services indisponibles %s", ", ".join(down))
    return JsonResponse(results, status=503 if down else 200)
