"""Portal forms for accounts: French labels, DSFR rendering; the rules live in the services."""

from django import forms
from django.contrib.auth import password_validation
from django.db.models import Q
from dsfr.forms import DsfrBaseForm

from core.dates import DATE_HINT, DayMonthYearField
from core.form_flow import FilterForm
from core.guard import FreeTextField, no_nir_validator

from .models import GESTIONNAIRE_REASONS, AccountState, Civilite, IncidentKind, Profile

PARTNER_PROFILE_CHOICES = [(p.value, p.label) for p in (Profile.GESTIONNAIRE, Profile.TECHNICIEN)]
LISTED_STATE_CHOICES = [(s.value, s.label) for s in (AccountState.INVITE, AccountState.ACTIF, AccountState.INACTIVE)]


def password_rules() -> list[str]:
    return password_validation.password_validators_help_texts()


class NewPasswordForm(DsfrBaseForm):
    new_password1 = forms.CharField(
        label="Nouveau mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="Confirmez le mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", "Les deux mots de passe ne sont pas identiques.")
        return data


class ChangePasswordForm(NewPasswordForm):
    old_password = forms.CharField(
        label="Mot de passe actuel",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]


class PasswordResetRequestForm(DsfrBaseForm):
    identifier = forms.CharField(
        label="Identifiant ou adresse email professionnelle",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )


class CGUForm(DsfrBaseForm):
    accept = forms.BooleanField(
        label="J'ai lu les conditions générales d'utilisation et je les accepte",
        error_messages={"required": "Cochez la case pour accepter les conditions générales d'utilisation."},
    )


class IdentityForm(DsfrBaseForm):
    """Who the account is for (art. 2.2.1): civilité, nom, prénom, fonction, téléphone, email."""

    civilite = forms.ChoiceField(label="Civilité", choices=Civilite.choices, widget=forms.RadioSelect)
    last_name = forms.CharField(label="Nom", max_length=150, validators=[no_nir_validator])
    first_name = forms.CharField(label="Prénom", max_length=150, validators=[no_nir_validator])
    job_title = forms.CharField(label="Fonction", max_length=150, validators=[no_nir_validator])
    phone = forms.CharField(
        label="Téléphone professionnel",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label="Adresse email professionnelle",
        help_text="Une adresse de la structure, jamais une messagerie personnelle.",
    )


class InactivateTechnicienForm(DsfrBaseForm):
    reason = forms.ChoiceField(
        label="Motif", choices=[(r.value, r.label) for r in GESTIONNAIRE_REASONS], widget=forms.RadioSelect
    )
    comment = FreeTextField(label="Précision (obligatoire pour « Autre motif »)", max_length=300, required=False)


class GestionnaireModificationForm(DsfrBaseForm):
    last_name = forms.CharField(label="Nouveau nom", max_length=150, required=False, validators=[no_nir_validator])
    job_title = forms.CharField(
        label="Nouvelle fonction", max_length=150, required=False, validators=[no_nir_validator]
    )
    phone = forms.CharField(label="Nouveau téléphone", max_length=20, required=False)
    email = forms.EmailField(label="Nouvelle adresse email professionnelle", required=False)


class GestionnaireInactivationForm(DsfrBaseForm):
    wanted_on = DayMonthYearField(
        label="Date d'inactivation souhaitée",
        help_text=f"Au moins 15 jours après aujourd'hui (article 2.2.3 de la convention). {DATE_HINT}.",
    )


class IncidentForm(DsfrBaseForm):
    account = forms.ChoiceField(label="Compte concerné")
    kind = forms.ChoiceField(label="Nature", choices=IncidentKind.choices, widget=forms.RadioSelect)
    description = FreeTextField(
        label="Circonstances",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Quand et comment vous l'avez constaté. N'indiquez aucune donnée sur les personnes accompagnées.",
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [
            (a.pk, f"{a.get_full_name()} ({a.username}) — {a.get_profile_display()}") for a in accounts
        ]


class AccountsFilterForm(FilterForm):
    """The structure's accounts (A16), searched and filtered: a big structure has hundreds of them."""

    q = forms.CharField(label="Nom, identifiant ou email", required=False, max_length=100)
    profile = forms.ChoiceField(label="Profil", required=False, choices=[("", "Tous"), *PARTNER_PROFILE_CHOICES])
    state = forms.ChoiceField(label="État", required=False, choices=[("", "Tous"), *LISTED_STATE_CHOICES])

    def filter(self, accounts):
        if not self.is_valid():
            return accounts
        data = self.cleaned_data
        for word in data["q"].split():
            accounts = accounts.filter(
                Q(last_name__icontains=word)
                | Q(first_name__icontains=word)
                | Q(username__icontains=word)
                | Q(email__icontains=word)
            )
        if data["profile"]:
            accounts = accounts.filter(profile=data["profile"])
        if data["state"]:
            accounts = accounts.filter(state=data["state"])
        return accounts
