"""The caisse's back-office for assistance (P7): the queue of reported problems with their age, the thread, the
referent's answers and the escalation to national support; the national administrator's national queue and
answer; the caisse's information to its partners and who acknowledged it. Every write is a service call."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from core.admin_actions import ConfirmForm, ObjectAction, ObjectActionsMixin, attach_errors
from core.admin_scoping import CaisseScopedAdmin
from core.guard import FreeTextField

from . import assistance
from .models import (
    InformationAcknowledgement,
    InformationPartenaire,
    Ticket,
    TicketState,
)


class AnswerForm(forms.Form):
    body = FreeTextField(label="Réponse au partenaire", widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    new_state = forms.ChoiceField(
        label="Nouvel état",
        required=False,
        choices=[
            ("", "Inchangé"),
            (TicketState.ATTENTE_PARTENAIRE, TicketState.ATTENTE_PARTENAIRE.label),
            (TicketState.RESOLU, TicketState.RESOLU.label),
        ],
    )


class EscalateForm(forms.Form):
    note = FreeTextField(
        label="Note pour le support national",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Ce qui a été vérifié et ce qui est attendu ; la note n'est pas montrée au partenaire.",
    )


class NationalAnswerForm(forms.Form):
    body = FreeTextField(
        label="Réponse du support national au référent",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="Le référent la transmet au partenaire.",
    )


def _answer(ticket, data, request):
    assistance.answer(ticket, agent=request.user, body=data["body"], new_state=data["new_state"])
    return "Votre réponse est envoyée au partenaire."


def _take_charge(ticket, data, request):
    assistance.take_charge(ticket, agent=request.user)
    return "Signalement pris en charge."


def _escalate(ticket, data, request):
    assistance.escalate(ticket, agent=request.user, note=data["note"])
    return "Signalement transmis au support national."


def _national_answer(ticket, data, request):
    assistance.national_answer(ticket, admin=request.user, body=data["body"])
    return "Réponse envoyée au référent de la caisse, qui la transmet au partenaire."


def _resolve(ticket, data, request):
    assistance.resolve(ticket, agent=request.user)
    return "Signalement résolu."


class NationalQueueFilter(admin.SimpleListFilter):
    title = "file"
    parameter_name = "file"

    def lookups(self, request, model_admin):
        return [("ouverts", "À traiter (non résolus)"), ("nationale", "Transmis au support national")]

    def queryset(self, request, queryset):
        if self.value() == "ouverts":
            return queryset.open()
        if self.value() == "nationale":
            return queryset.filter(state=TicketState.TRANSMIS)
        return queryset


@admin.register(Ticket)
class TicketAdmin(ObjectActionsMixin, CaisseScopedAdmin):
    list_display = ["reference", "caisse", "partenaire", "category", "state", "age"]
    list_filter = [NationalQueueFilter, "state", "category"]
    list_select_related = ["caisse", "partenaire"]
    search_fields = ["=reference"]
    ordering = ["created_at", "id"]  # the oldest first: the queues, served by ticket_caisse_queue and the partial ones
    sortable_by = ["created_at", "age"]
    show_full_result_count = False  # never a count of every ticket of every caisse
    list_per_page = 50
    fields = [
        "reference",
        "caisse",
        "partenaire",
        "reported_by",
        "category",
        "page",
        "created_at",
        "user_agent",
        "state",
        "escalated_at",
        "thread",
    ]
    readonly_fields = fields
    object_actions = [
        ObjectAction(
            slug="prendre-en-charge",
            label="Prendre en charge",
            form_class=ConfirmForm,
            available=lambda t: t.state in (TicketState.NOUVEAU, TicketState.ATTENTE_PARTENAIRE),
            run=_take_charge,
        ),
        ObjectAction(
            slug="repondre",
            label="Répondre au partenaire",
            form_class=AnswerForm,
            available=lambda t: not t.is_final,
            description="Le partenaire lit la réponse sur le portail et en est averti par email (sans son contenu).",
            run=_answer,
            # After national support's answer, the referent starts from it.
            form_kwargs=lambda t: {"initial": {"body": assistance.last_national_answer(t)}},
        ),
        ObjectAction(
            slug="transmettre",
            label="Transmettre au support national",
            form_class=EscalateForm,
            available=lambda t: (
                t.state in (TicketState.NOUVEAU, TicketState.PRIS_EN_CHARGE, TicketState.ATTENTE_PARTENAIRE)
            ),
            run=_escalate,
        ),
        ObjectAction(
            slug="reponse-nationale",
            label="Répondre (support national)",
            form_class=NationalAnswerForm,
            available=lambda t: t.state == TicketState.TRANSMIS,
            permitted=lambda request: request.user.is_superuser,
            run=_national_answer,
        ),
        ObjectAction(
            slug="resoudre",
            label="Marquer comme résolu",
            form_class=ConfirmForm,
            available=lambda t: not t.is_final,
            run=_resolve,
        ),
    ]

    def has_add_permission(self, request):
        return False  # reported by partners only, from the portal

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="ancienneté", ordering="created_at")
    def age(self, ticket):
        return timesince(ticket.created_at, timezone.now(), depth=1)

    @admin.display(description="échanges")
    def thread(self, ticket):
        messages = ticket.messages.select_related("author").prefetch_related("attachments")
        return format_html_join(
            "",
            '<div class="portal-thread-message"><p><strong>{}</strong> — {} {}</p><p>{}</p>{}</div>',
            (
                (
                    message.get_side_display(),
                    f"{timezone.localtime(message.created_at):%d/%m/%Y %H:%M}",
                    "(non montré au partenaire)" if message.internal else "",
                    message.body,
                    format_html_join(
                        "",
                        '<p><a href="{}">{}</a></p>',
                        (
                            (reverse("ticket_attachment", args=[ticket.reference, a.pk]), a.original_name)
                            for a in message.attachments.all()
                        ),
                    ),
                )
                for message in messages
            ),
        ) or format_html("<p>{}</p>", "Aucun message.")


class InformationAcknowledgementInline(admin.TabularInline):
    model = InformationAcknowledgement
    extra = 0
    fields = ["partenaire", "acknowledged_by", "acknowledged_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class InformationForm(forms.ModelForm):
    class Meta:
        model = InformationPartenaire
        fields = ["caisse", "partenaire", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def clean(self):
        cleaned = super().clean()
        try:
            assistance.validate_information(self.instance)
        except ValidationError as exc:
            attach_errors(self, exc)
        return cleaned


@admin.register(InformationPartenaire)
class InformationPartenaireAdmin(CaisseScopedAdmin):
    """The other way (art. 7): a caisse informs one partner, or all its partners; who read it, and when."""

    form = InformationForm
    list_display = ["title", "caisse", "audience", "created_at", "acknowledged"]
    list_select_related = ["caisse", "partenaire"]
    autocomplete_fields = ["partenaire"]
    show_full_result_count = False
    inlines = [InformationAcknowledgementInline]
    ordering = ["-created_at", "-id"]

    def get_readonly_fields(self, request, obj=None):
        return ["caisse", "partenaire", "title", "body", "created_by", "created_at"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="destinataires")
    def audience(self, information):
        return information.partenaire.name if information.partenaire_id else "Tous les partenaires de la caisse"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(acknowledgement_count=Count("acknowledgements"))

    @admin.display(description="prises de connaissance")
    def acknowledged(self, information):
        return information.acknowledgement_count

    def save_model(self, request, obj, form, change):
        if not change:
            assistance.publish_information(obj, actor=request.user)
