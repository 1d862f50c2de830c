"""Pages of the two-factor authentication (A17): activation, backup codes, verification at login; and the
admin's login address, sent to the portal's own login and second step."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache

from core.form_flow import safe_next

from . import two_factor
from .forms_two_factor import EnrolmentCodeForm, VerifyCodeForm
from .invitations import TokenError
from .views_auth import token_problem

BACKUP_CODES_SESSION_KEY = "two_factor_backup_codes"


def _url_with_next(url_name: str, next_url: str) -> str:
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _continue(next_url: str):
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


@never_cache
@login_required
def setup(request):
    next_url = safe_next(request)
    if two_factor.has_confirmed_device(request.user):
        return redirect(_url_with_next("two_factor_verify", next_url))
    if two_factor.enrolment_needs_link(request):
        return _link_needed(request, next_url)
    device = two_factor.start_enrolment(request.user)
    form = EnrolmentCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request, device, form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            request.session[BACKUP_CODES_SESSION_KEY] = codes
            return redirect(_url_with_next("two_factor_backup_codes", next_url))
    context = {
        "title": "Activer la double authentification",
        "form": form,
        "next": next_url,
        "qr_code": two_factor.qr_code_svg(device),
        "secret": two_factor.secret_for_manual_entry(device),
        "required": two_factor.is_required(request.user),
        "issuer": getattr(settings, "OTP_TOTP_ISSUER", "") or "Espace Partenaires",
    }
    return render(request, "accounts/two_factor_setup.html", context)


def _link_needed(request, next_url):
    """After a reset: the new device is enrolled only from the link emailed to the account (A17)."""
    if request.method == "POST" and "resend" in request.POST:
        if two_factor.resend_link(request.user):
            messages.success(request, "Un nouveau lien vient d'être envoyé à l'adresse email de votre compte.")
        else:
            messages.info(request, "Le lien déjà envoyé est encore valable : ouvrez-le depuis votre messagerie.")
        return redirect(_url_with_next("two_factor_setup", next_url))
    context = {
        "title": "Ouvrez le lien reçu par email",
        "next": next_url,
        "ttl_hours": settings.TWO_FACTOR_LINK_TTL_HOURS,
    }
    return render(request, "accounts/two_factor_link_needed.html", context)


@never_cache
@login_required
def link(request, token):
    """The link emailed after a reset, opened once signed in with the account's password."""
    try:
        two_factor.open_link(request, token)
    except TokenError as error:
        return token_problem(request, "Lien de double authentification", "two_factor", error)
    return redirect("two_factor_setup")


@never_cache
@login_required
def backup_codes(request):
    """The codes given by the activation, shown once: taken out of the session as the page is shown."""
    next_url = safe_next(request)
    if request.method == "POST":
        request.session.pop(BACKUP_CODES_SESSION_KEY, None)
        return _continue(next_url)
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    if not (isinstance(codes, list) and all(isinstance(code, str) for code in codes)):
        codes = None
    context = {
        "title": "Vos codes de secours",
        "codes": codes,
        "next": next_url,
        "codes_left": two_factor.backup_codes_left(request.user),
    }
    return render(request, "accounts/two_factor_backup_codes.html", context)


@never_cache
@login_required
def verify(request):
    next_url = safe_next(request)
    user = request.user
    if not two_factor.has_confirmed_device(user):
        return redirect(_url_with_next("two_factor_setup", next_url))
    if user.is_verified():
        return _continue(next_url)
    form = VerifyCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        wait = two_factor.retry_after(user, code)
        if two_factor.verify(request, code):
            return _continue(next_url)
        if wait:
            form.add_error("code", two_factor.wait_message(wait))
        else:
            form.add_error(
                "code",
                "Ce code n'est pas le bon, ou ce code de secours a déjà servi. Vérifiez que votre téléphone est à "
                "l'heure, puis saisissez le code affiché en ce moment dans l'application (il change toutes les "
                "30 secondes).",
            )
    context = {"title": "Vérification en deux étapes", "form": form, "next": next_url}
    return render(request, "accounts/two_factor_verify.html", context)


@never_cache
def admin_login(request):
    """/admin/login/: the back-office has no login form of its own. Not logged in → the portal's login;
    logged in but without the second step → the verification; not staff → home, with the reason."""
    next_url = safe_next(request) or reverse("admin:index")
    user = request.user
    if not user.is_authenticated:
        return redirect(_url_with_next("login", next_url))
    if not (user.is_active and user.is_staff):
        messages.error(request, "Le back-office est réservé aux agents des caisses et aux administrateurs nationaux.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    if not user.is_verified():
        return redirect(_url_with_next("two_factor_verify", next_url))
    return redirect(next_url)
