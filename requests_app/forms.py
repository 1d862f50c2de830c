"""The five request forms (D1) and the reply form; rules live in the services, the guard and uploads."""

import uuid

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.functional import lazy
from dsfr.forms import DsfrBaseForm

from core.dates import DayMonthYearField, PlausibleDateTimeField
from core.form_flow import FilterForm
from core.guard import FreeTextField, no_nir_validator

from .insured import DEPARTEMENT_CHOICES, normalize_departement, validate_birth_date
from .models import Delivery, DemandeKind, DemandeState, DocumentType, DossierType, Modality, SignalementNature, Urgency
from .queue import SUIVI_CHOICES


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, drawn as the DSFR upload component; each is checked by core.uploads, not here."""

    template_name = "portal/_upload_field.html"

    def __init__(self, *args, **kwargs):
        accept = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept, "class": "fr-upload"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        # Every check (empty, size, type, antivirus…) is core.uploads': one message per refused file.
        return list(data) if isinstance(data, list | tuple) else ([data] if data else [])


def _files_help() -> str:
    return (
        f"PDF, JPEG ou PNG, {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} Mo au plus chacun, "
        f"{settings.ATTACHMENT_MAX_COUNT} fichiers au plus. Chaque fichier est analysé par l'antivirus. "
        "Les pièces jointes peuvent comporter le NIR."
    )


files_help = lazy(_files_help, str)()  # read when shown: the limits are settings


class BirthDateField(DayMonthYearField):
    """Typed JJ/MM/AAAA; validate_birth_date says "future" or "before 1900" (not the generic range message)."""

    default_validators = []


class TokenMixin(forms.Form):
    """One token per form shown: staged files belong to it, and posting it twice files one request."""

    form_token = forms.UUIDField(widget=forms.HiddenInput)
    remove_pieces = forms.TypedMultipleChoiceField(coerce=int, required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())

    def token(self):
        """The form's token, even when the form is not valid (staged files follow it)."""
        try:
            return uuid.UUID(str(self.data.get("form_token") or self.initial.get("form_token")))
        except ValueError:
            return None


class DemandeForm(TokenMixin, DsfrBaseForm):
    kind: DemandeKind
    kind_fields: tuple[str, ...] = ()

    assure_civilite = forms.ChoiceField(
        label="Civilité", choices=[("mme", "Madame"), ("m", "Monsieur")], widget=forms.RadioSelect
    )
    assure_last_name = forms.CharField(
        label="Nom de naissance ou d'usage", max_length=150, validators=[no_nir_validator]
    )
    assure_first_name = forms.CharField(label="Prénom", max_length=150, validators=[no_nir_validator])
    assure_birth_date = BirthDateField(label="Date de naissance", validators=[validate_birth_date])
    assure_departement = forms.ChoiceField(
        label="Département de résidence", choices=[("", "Choisir")] + DEPARTEMENT_CHOICES
    )
    message = FreeTextField(label="Votre message", max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))
    files = MultipleFileField(label="Pièces jointes", help_text=files_help)

    def clean_assure_departement(self):
        return normalize_departement(self.cleaned_data["assure_departement"])

    def demande_fields(self) -> dict:
        data = self.cleaned_data
        names = [
            "assure_civilite",
            "assure_last_name",
            "assure_first_name",
            "assure_birth_date",
            "assure_departement",
            *self.kind_fields,
        ]
        return {name: data.get(name) for name in names}


class ContactForm(DemandeForm):
    kind = DemandeKind.CONTACT


class EtudeDossierForm(DemandeForm):
    kind = DemandeKind.ETUDE_DOSSIER
    kind_fields = ("dossier_type", "dossier_other")
    dossier_type = forms.ChoiceField(label="Dossier à étudier", choices=DossierType.choices, widget=forms.RadioSelect)
    dossier_other = FreeTextField(label="Précisez le dossier (si « Autre »)", max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("dossier_type") == DossierType.AUTRE and not data.get("dossier_other"):
            self.add_error("dossier_other", "Précisez le dossier à étudier.")
        return data


class SignalementForm(DemandeForm):
    kind = DemandeKind.SIGNALEMENT
    kind_fields = ("nature", "urgency")
    nature = forms.ChoiceField(
        label="Nature de la difficulté", choices=SignalementNature.choices, widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label="Urgence", choices=Urgency.choices, widget=forms.RadioSelect, initial=Urgency.NORMALE
    )


class RendezVousForm(DemandeForm):
    kind = DemandeKind.RENDEZ_VOUS
    kind_fields = ("reason", "modality", "slot_1", "slot_2", "slot_3", "worker_attends")
    reason = FreeTextField(label="Motif du rendez-vous", max_length=300)
    modality = forms.ChoiceField(label="Modalité", choices=Modality.choices, widget=forms.RadioSelect)
    slot_1 = PlausibleDateTimeField(
        label="Créneau souhaité",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    slot_2 = PlausibleDateTimeField(
        label="Autre créneau possible",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    slot_3 = PlausibleDateTimeField(
        label="Troisième créneau possible",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    worker_attends = forms.TypedChoiceField(
        label="Serez-vous présent(e) au rendez-vous ?",
        choices=[("oui", "Oui"), ("non", "Non")],
        coerce=lambda value: value == "oui",
        widget=forms.RadioSelect,
    )

    def clean(self):
        data = super().clean()
        now = timezone.now()
        for name in ("slot_1", "slot_2", "slot_3"):
            if data.get(name) and data[name] <= now:
                self.add_error(name, "Choisissez un créneau à venir.")
        return data


class DocumentForm(DemandeForm):
    kind = DemandeKind.DOCUMENT
    kind_fields = ("document_type", "document_other", "delivery")
    document_type = forms.ChoiceField(label="Document demandé", choices=DocumentType.choices, widget=forms.RadioSelect)
    document_other = FreeTextField(label="Précisez le document (si « Autre »)", max_length=200, required=False)
    delivery = forms.ChoiceField(
        label="Envoi du document", choices=Delivery.choices, widget=forms.RadioSelect, initial=Delivery.ASSURE
    )

    def __init__(self, *args, partenaire=None, **kwargs):
        super().__init__(*args, **kwargs)
        if partenaire is None or not partenaire.can_receive_documents:
            # D6: only a partner flagged habilité may ask to receive the documents itself.
            self.fields["delivery"].choices = [(Delivery.ASSURE.value, Delivery.ASSURE.label)]

    def clean(self):
        data = super().clean()
        if data.get("document_type") == DocumentType.AUTRE and not data.get("document_other"):
            self.add_error("document_other", "Précisez le document demandé.")
        return data


FORMS = {form.kind: form for form in (ContactForm, EtudeDossierForm, SignalementForm, RendezVousForm, DocumentForm)}


class ReplyForm(TokenMixin, DsfrBaseForm):
    body = FreeTextField(label="Votre message", max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label="Pièces jointes", help_text=files_help)


class HistoryFilterForm(FilterForm):
    q = forms.CharField(label="Référence ou nom de l'assuré", required=False, max_length=100)
    kind = forms.ChoiceField(label="Type", required=False, choices=[("", "Tous")] + DemandeKind.choices)
    state = forms.ChoiceField(label="État", required=False)
    caisse = forms.TypedChoiceField(label="Caisse", required=False, coerce=int, empty_value=None)
    suivi = forms.ChoiceField(label="Suivi", required=False, choices=SUIVI_CHOICES)
    since = DayMonthYearField(label="Déposée depuis le", required=False)
    until = DayMonthYearField(label="Jusqu'au", required=False)

    def __init__(self, *args, caisses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "Tous")] + DemandeState.choices
        self.fields["caisse"].choices = [("", "Toutes")] + [(c.pk, c.name) for c in caisses]
