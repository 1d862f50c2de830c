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
from conventions.continuity import channels_for
from conventions.models import Caisse
from requests_app import assistance
from requests_app.queue import partner_queue

from . import health
from .forms import LoginForm

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": "Se connecter"}


def caisses_for(user):
    """The caisses whose contacts, services and fallback channels the user sees (all of them signed out: the
    maintenance page does not know whose caisses they are)."""
    if not user.is_authenticated:
        return Caisse.objects.all()
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
        context["informations"] = assistance.informations_to_acknowledge(user)  # P7: the caisse's, until read
    return render(request, f"portal/home_{user.profile}.html", context)


@login_required
def contacts(request):
    caisses = caisses_for(request.user)
    context = {
        "title": "Contacts de ma caisse",
        "caisses": caisses.prefetch_related("referents"),
        "fallback": channels_for(caisses),
    }
    return render(request, "portal/contacts.html", context)


@never_cache
def healthz(request):
    """200 when every service answers, 503 naming the ones that do not (no detail beyond that)."""
    results = health.report()
    down = [name for name, state in results.items() if state != "ok"]
    if down:
        logger.warning("healthz: services indisponibles %s", ", ".join(down))
    return JsonResponse(results, status=503 if down else 200)
