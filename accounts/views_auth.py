"""Activation link, forgotten and expired passwords, CGU: the pages around signing in (A7, A8)."""

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from core.form_flow import attach_errors, safe_next

from . import cgu, invitations
from .forms import CGUForm, ChangePasswordForm, NewPasswordForm, PasswordResetRequestForm, password_rules
from .invitations import TokenError, TokenProblem
from .models import TokenPurpose

TOKEN_MESSAGES = {
    TokenProblem.UNKNOWN: "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier depuis l'email.",
    TokenProblem.EXPIRED: "Ce lien a expiré.",
    TokenProblem.USED: "Ce lien a déjà été utilisé ou a été remplacé par un lien plus récent.",
}


RESET_TITLE = "Réinitialisation du mot de passe"


def token_problem(request, title: str, purpose: str, error: TokenError):
    """410 Gone: the link cannot serve again; the page says why and offers a new one."""
    return render(
        request,
        "accounts/token_invalid.html",
        {"title": title, "message": TOKEN_MESSAGES[error.problem], "purpose": purpose},
        status=410,
    )


def _password_page(request, template, form, **context):
    return render(request, template, {"form": form, "rules": password_rules(), **context})


@sensitive_post_parameters()
def activate(request, token):
    """A7: the new account chooses its password from the emailed link, then is signed in."""
    try:
        account_token = invitations.find_token(token, TokenPurpose.ACTIVATION)
    except TokenError as error:
        return token_problem(request, "Lien d'activation", "activation", error)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitations.activate(token, form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        except TokenError as error:
            return token_problem(request, "Lien d'activation", "activation", error)
        else:
            login(request, user, backend="accounts.backends.PortalBackend")
            messages.success(request, "Votre compte est activé.")
            return redirect("home")
    return _password_page(
        request, "accounts/activate.html", form, title="Activer votre compte", account=account_token.user
    )


def activate_renew(request, token):
    """Ask for a new activation link; the answer is the same whatever the link was."""
    if request.method == "POST":
        invitations.renew_activation(token)
    return render(request, "accounts/activation_renewed.html", {"title": "Nouveau lien d'activation"})


def password_reset(request):
    """The same answer whether or not an account matches: the page reveals nothing."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitations.request_password_reset(form.cleaned_data["identifier"])
        return render(request, "accounts/password_reset_sent.html", {"title": "Mot de passe oublié"})
    return render(request, "accounts/password_reset.html", {"form": form, "title": "Mot de passe oublié"})


@sensitive_post_parameters()
def password_reset_confirm(request, token):
    try:
        invitations.find_token(token, TokenPurpose.RESET)
    except TokenError as error:
        return token_problem(request, RESET_TITLE, "reset", error)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.reset_password(token, form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        except TokenError as error:
            return token_problem(request, RESET_TITLE, "reset", error)
        else:
            messages.success(request, "Votre mot de passe est changé : connectez-vous avec le nouveau.")
            return redirect("login")
    return _password_page(request, "accounts/password_set.html", form, title="Choisir un nouveau mot de passe")


@login_required
@sensitive_post_parameters()
def password_change(request, expired=False):
    """A7: change at will, or forced at login once the password has expired."""
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.change_password(
                request.user, form.cleaned_data["old_password"], form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # this session stays, the others end
            messages.success(request, "Votre mot de passe est changé.")
            return redirect(safe_next(request, "home"))
    title = "Votre mot de passe a expiré" if expired else "Changer de mot de passe"
    return _password_page(
        request, "accounts/password_change.html", form, title=title, expired=expired, next=safe_next(request)
    )


@login_required
def cgu_view(request):
    """A8: the current CGU, to accept before going on (shown read-only once accepted)."""
    current = cgu.current_cgu()
    pending = cgu.must_accept(request.user)
    form = CGUForm(request.POST or None)
    if pending and request.method == "POST" and form.is_valid():
        cgu.accept(request.user, pending)
        return redirect(safe_next(request, "home"))
    return render(
        request,
        "accounts/cgu.html",
        {
            "title": "Conditions générales d'utilisation",
            "cgu": current,
            "pending": pending,
            "form": form,
            "next": safe_next(request),
        },
    )
