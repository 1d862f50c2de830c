"""The partner's assistance forms (P7): report a problem, answer the referent. Rules live in requests_app.assistance."""

import uuid

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from dsfr.forms import DsfrBaseForm

from core.guard import FreeTextField

from .forms import MultipleFileField
from .models import TicketCategory

NO_INSURED_DATA = (
    "Décrivez le problème sans aucune donnée sur une personne accompagnée : ni nom, ni NIR, ni donnée de santé. "
    "Pour une situation individuelle, déposez une demande."
)


def _screenshots_help() -> str:
    return (
        f"Captures d'écran (PNG, JPEG) ou PDF, {settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} Mo au plus chacune, "
        f"{settings.ATTACHMENT_MAX_COUNT} au plus ; chaque fichier est analysé par l'antivirus. Vérifiez qu'aucune "
        "donnée d'une personne accompagnée n'y apparaît."
    )


screenshots_help = lazy(_screenshots_help, str)()


class ReportForm(DsfrBaseForm):
    caisse = forms.ModelChoiceField(label="Caisse concernée", queryset=None, empty_label=None)
    category = forms.ChoiceField(label="Type de problème", choices=TicketCategory.choices, widget=forms.RadioSelect)
    page = forms.CharField(
        label="Page ou service concerné",
        max_length=300,
        required=False,
        help_text="Rempli d'après la page d'où vous venez ; corrigez-le si besoin.",
    )
    description = FreeTextField(
        label="Description du problème",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=NO_INSURED_DATA,
    )
    files = MultipleFileField(label="Captures d'écran (facultatif)", help_text=screenshots_help)
    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, caisses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["caisse"].queryset = caisses
        self.fields["caisse"].empty_label = None
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())


class TicketReplyForm(DsfrBaseForm):
    body = FreeTextField(
        label="Votre message", max_length=4000, widget=forms.Textarea(attrs={"rows": 4}), help_text=NO_INSURED_DATA
    )
    files = MultipleFileField(label="Captures d'écran (facultatif)", help_text=screenshots_help)
