"""The two code forms of A17. They only check the shape of what was typed; the services check the code."""

from django import forms
from dsfr.forms import DsfrBaseForm

from . import two_factor

MAX_TYPED_LENGTH = 64


class OneTimeCodeInput(forms.TextInput):
    """A text field that never sends a code back to the page (a code is used once, or it was wrong)."""

    def format_value(self, value):
        return None


def _code_field(label: str, help_text: str, required_message: str, inputmode: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_TYPED_LENGTH,
        error_messages={
            "required": required_message,
            "max_length": "Ce code est bien trop long : saisissez seulement le code, sans autre texte.",
        },
        widget=OneTimeCodeInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": inputmode,
                "spellcheck": "false",
                "autocapitalize": "none",
            }
        ),
    )


class EnrolmentCodeForm(DsfrBaseForm):
    code = _code_field(
        "Code à 6 chiffres",
        "Le code affiché en ce moment par votre application d'authentification, par exemple 123456.",
        "Saisissez le code à 6 chiffres affiché par votre application d'authentification.",
        "numeric",
    )

    def clean_code(self):
        code = two_factor.normalize_token(self.cleaned_data["code"])
        if not two_factor.TOTP_PATTERN.fullmatch(code):
            raise forms.ValidationError(
                "Le code comporte exactement 6 chiffres, sans lettre : saisissez celui affiché en ce moment "
                "par votre application d'authentification."
            )
        return code


class VerifyCodeForm(DsfrBaseForm):
    code = _code_field(
        "Code à 6 chiffres ou code de secours",
        "Le code affiché en ce moment par votre application d'authentification (6 chiffres, par exemple "
        "123456), ou l'un de vos codes de secours (8 lettres et chiffres).",
        "Saisissez le code à 6 chiffres affiché par votre application, ou un code de secours.",
        "text",
    )

    def clean_code(self):
        code = two_factor.normalize_token(self.cleaned_data["code"])
        if not (two_factor.TOTP_PATTERN.fullmatch(code) or two_factor.BACKUP_CODE_PATTERN.fullmatch(code)):
            raise forms.ValidationError(
                "Ce n'est pas un code valable : saisissez les 6 chiffres affichés par votre application "
                "d'authentification, ou l'un de vos codes de secours de 8 caractères."
            )
        return code
