from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from accounts.backends import refusal_after_right_password


class LoginForm(DsfrBaseForm, AuthenticationForm):
    error_messages = {
        "invalid_login": "Identifiant ou mot de passe incorrect. Vérifiez votre saisie (les majuscules comptent).",
        "inactive": "Ce compte n'est pas actif. Adressez-vous au gestionnaire de votre structure.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Identifiant"
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].label = "Mot de passe"

    def get_invalid_login_error(self):
        # The right password of an account that may not sign in: say why and whom to ask (never without it).
        refusal = refusal_after_right_password(
            self.cleaned_data.get("username", ""), self.cleaned_data.get("password", "")
        )
        if refusal:
            return ValidationError(refusal, code="refused_account")
        return super().get_invalid_login_error()
