"""Request triage for caisse agents (D7): queues, filters, assignment, answers, thread and history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage
from django.db.models import BooleanField, ExpressionWrapper
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.html import format_html, format_html_join

from accounts import services as accounts_services
from conventions.models import Caisse, Partenaire, staff_caisse_ids
from core import audit
from core.admin_actions import ObjectAction, ObjectActionsMixin
from core.admin_inlines import LabelledTabularInline
from core.admin_scoping import CaisseScopedAdmin
from core.csv_export import csv_response, stream_rows
from core.dates import DayMonthYearField, PlausibleDateTimeField
from core.guard import FreeTextField
from core.models import Action
from core.pagination import CappedPaginator

from . import services
from .models import (
    TRANSITIONS,
    Demande,
    DemandeChange,
    DemandeKind,
    DemandeState,
    Message,
    ReponseType,
    overdue_q,
    unread_q,
)


class OverdueFilter(admin.SimpleListFilter):
    title = "délai de traitement"
    parameter_name = "retard"

    def lookups(self, request, model_admin):
        return [("oui", "En retard"), ("non", "Dans les délais")]

    def queryset(self, request, queryset):
        late = overdue_q(timezone.localdate())
        if self.value() == "oui":
            return queryset.filter(late)
        if self.value() == "non":
            return queryset.exclude(late)
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "agent en charge"
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        return [("moi", "Moi"), ("personne", "Personne")]

    def queryset(self, request, queryset):
        if self.value() == "moi":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "personne":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


class UnreadFilter(admin.SimpleListFilter):
    """Requests with a partner's message or filing the agent has not opened since (work queues)."""

    title = "lecture"
    parameter_name = "lecture"

    def lookups(self, request, model_admin):
        return [("non_lues", "Messages du partenaire non lus")]

    def queryset(self, request, queryset):
        if self.value() == "non_lues":
            return queryset.filter(unread_q(request.user))
        return queryset


class ScopedChoiceFilter(admin.SimpleListFilter):
    """Offers only the values the viewer may see, read from a small table (never from the requests): a
    filter listing, say, the partners of a caisse's 200,000 requests would read them all on every page."""

    field = ""
    max_choices = 100  # beyond, a list would not help: the filter hides and the search box remains

    def choices_queryset(self, request):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        # The same few choices on every page of the queue: read once per viewer's caisses and kept 5 minutes.
        scope = staff_caisse_ids(request.user)
        key = f"admin-filter:{self.parameter_name}:{'all' if scope is None else ','.join(map(str, sorted(scope)))}"
        values = cache.get(key)
        if values is None:
            queryset = self.choices_queryset(request).order_by("name").values_list("pk", "name")
            values = list(queryset[: self.max_choices + 1])
            cache.set(key, values, 300)
        if len(values) < 2 or len(values) > self.max_choices:
            return []
        return [(str(pk), name) for pk, name in values]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit():
            return queryset.filter(**{f"{self.field}_id": int(value)})
        return queryset


class CaisseFilter(ScopedChoiceFilter):
    title = "caisse"
    parameter_name = field = "caisse"

    def choices_queryset(self, request):
        caisse_ids = staff_caisse_ids(request.user)
        if caisse_ids is not None and len(caisse_ids) < 2:  # one caisse: nothing to choose, nothing to read
            return Caisse.objects.none()
        return Caisse.objects.visible_to(request.user)


class PartenaireFilter(ScopedChoiceFilter):
    title = "partenaire"
    parameter_name = field = "partenaire"

    def choices_queryset(self, request):
        return Partenaire.objects.visible_to(request.user)


class MessageInline(LabelledTabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["created_at", "side", "author", "internal", "body", "attachments"]
    readonly_fields = fields
    verbose_name_plural = "échanges (les notes internes ne sont jamais montrées au partenaire)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "demande").prefetch_related("pieces")

    @admin.display(description="pièces jointes")
    def attachments(self, message):
        pieces = message.pieces.all()
        deleted = [
            format_html(
                "Pièce jointe supprimée le {} (durée de conservation)",
                timezone.localtime(piece.deleted_at).strftime("%d/%m/%Y"),
            )
            for piece in pieces
            if piece.deleted_at
        ]
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("piece_download", args=[message.demande.reference, piece.pk]), piece.original_name)
                for piece in pieces
                if not piece.deleted_at
            ),
        )
        return format_html_join(", ", "{}", ((part,) for part in [*deleted, links] if part))


class DemandeChangeInline(LabelledTabularInline):
    """D7: every change of the request — state, agent, appointment — with who and when."""

    model = DemandeChange
    extra = 0
    can_delete = False
    fields = ["at", "field", "old", "new", "by"]
    readonly_fields = fields
    verbose_name_plural = "historique de la demande (états, agent en charge, rendez-vous)"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    @admin.display(description="avant")
    def old(self, change):
        return change.old_display

    @admin.display(description="après")
    def new(self, change):
        return change.new_display


class ReponseTypeSelect(forms.Select):
    """The canned replies, each option carrying its text for the script that fills the message in place
    (static/portal/reponses_types.js); without the script, "Insérer" posts the form, which comes back with
    the text inserted and nothing sent."""

    INSERT = "inserer"

    class Media:
        js = ["portal/reponses_types.js"]

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-body"] = instance.body
        return option

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        return format_html(
            '{} <button type="submit" name="{}" value="1" class="button" data-reponse-type-insert>Insérer</button>',
            select,
            self.INSERT,
        )


class AnswerForm(forms.Form):
    reponse_type = forms.ModelChoiceField(
        label="Réponse type",
        queryset=ReponseType.objects.none(),
        required=False,
        empty_label="Choisir une réponse type",
        widget=ReponseTypeSelect,
        help_text="Son texte s'ajoute au message, que vous complétez avant l'envoi.",
    )
    body = FreeTextField(label="Message", widget=forms.Textarea(attrs={"rows": 5, "cols": 80}))
    internal = forms.BooleanField(label="Note interne (jamais montrée au partenaire)", required=False)
    new_state = forms.ChoiceField(label="Nouvel état", required=False)
    files = forms.FileField(
        label="Document pour le partenaire (partenaires habilités uniquement)",
        required=False,
        help_text="PDF, JPEG ou PNG ; analysé par l'antivirus.",
    )
    appointment_at = PlausibleDateTimeField(
        label="Rendez-vous fixé le",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    appointment_place = FreeTextField(label="Lieu du rendez-vous", required=False, max_length=300)

    def __init__(self, *args, demande, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = TRANSITIONS[DemandeState(demande.state)]
        self.fields["new_state"].choices = [("", "Inchangé")] + [
            (s.value, s.label) for s in DemandeState if s in allowed
        ]
        self.partner_habilite = demande.partenaire.can_receive_documents
        if not self.partner_habilite:
            del self.fields["files"]
        if demande.kind != DemandeKind.RENDEZ_VOUS:
            del self.fields["appointment_at"], self.fields["appointment_place"]
        replies = ReponseType.objects.for_caisse(demande.caisse_id)
        self.fields["reponse_type"].queryset = replies
        self.demande = demande

    def with_reply_inserted(self):
        """ "Insérer" without the script: the same form again, the canned reply's text added to the message,
        nothing sent (no file kept either: the browser sends it again with the answer)."""
        if ReponseTypeSelect.INSERT not in self.data:
            return None
        initial = {name: self.data.get(name) for name in self.fields if name not in ("files", "reponse_type")}
        initial["internal"] = bool(self.data.get("internal"))
        chosen = self.fields["reponse_type"].queryset.filter(pk=_digits(self.data.get("reponse_type"))).first()
        if chosen is not None:
            typed = (initial.get("body") or "").rstrip()
            initial["body"] = f"{typed}\n\n{chosen.body}" if typed else chosen.body
        form = AnswerForm(initial=initial, demande=self.demande)
        if chosen is None:
            form.fields["reponse_type"].help_text = "Choisissez une réponse type avant d'appuyer sur « Insérer »."
        return form

    def clean(self):
        data = super().clean()
        _refuse_documents_to_non_habilite(self)
        return data


def _digits(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


class AssignForm(forms.Form):
    agent = forms.ModelChoiceField(label="Agent", queryset=None)

    def __init__(self, *args, demande, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = accounts_services.agents_of(demande.caisse)


def _refuse_documents_to_non_habilite(form):
    """D6: a document posted anyway for a partner not habilité is refused, not silently dropped."""
    if not form.partner_habilite and form.files.get("files"):
        raise ValidationError("Cette structure n'est pas habilitée à recevoir des documents : rien n'a été envoyé.")


def _who(actor) -> str:
    if actor is None:
        return ""
    where = actor.partenaire or actor.caisse or "administration nationale"
    return f"{actor.get_full_name() or actor.audit_label} ({actor.get_profile_display()}, {where})"


def _assign(demande, data, request):
    services.assign([demande], data["agent"], by=request.user)
    return f"Demande attribuée à {data['agent'].get_full_name()}."


def _answer(demande, data, request):
    services.answer(
        demande,
        agent=request.user,
        body=data["body"],
        internal=data["internal"],
        new_state=data["new_state"] or None,
        files=[data["files"]] if data.get("files") else [],
        appointment_at=data.get("appointment_at"),
        appointment_place=data.get("appointment_place") or "",
    )
    return "Note interne enregistrée." if data["internal"] else "Réponse envoyée : le partenaire est prévenu par email."


class AccessReportForm(forms.Form):
    last_name = forms.CharField(label="Nom de la personne", max_length=150)
    first_name = forms.CharField(label="Prénom (facultatif)", max_length=150, required=False)
    birth_date = DayMonthYearField(label="Date de naissance")


# Shown on every request's page (D1–D3, D7)…
COMMON_FIELDS = (
    "reference",
    "kind",
    "partenaire",
    "caisse",
    "filed_by",
    "created_at",
    "state",
    "assigned_to",
    "assure_civilite",
    "assure_last_name",
    "assure_first_name",
    "assure_birth_date",
    "assure_departement",
)
# … and those of one kind of request, shown when filled.
KIND_FIELDS = (
    "dossier_type",
    "dossier_other",
    "nature",
    "urgency",
    "reason",
    "modality",
    "slot_1",
    "slot_2",
    "slot_3",
    "worker_attends",
    "appointment_at",
    "appointment_place",
    "document_type",
    "document_other",
    "delivery",
)


def _day_and_time(moment, months) -> str:
    """As the `date:"j F Y H:i"` filter wrote it (« 3 mars 2026 09:05 »), at a fraction of its cost per row."""
    return f"{moment.day} {months[moment.month]} {moment.year} {moment:%H:%M}"


# What a row of the queue shows, and nothing more: a request has some forty columns, its partner and agent as many.
LIST_COLUMNS = (
    "reference",
    "kind",
    "state",
    "created_at",
    "partenaire__name",
    "assigned_to__first_name",
    "assigned_to__last_name",
    "assigned_to__username",
)


class DemandeChangeList(ChangeList):
    """The agents' queue, 50 rows a page, drawn by one plain loop (admin/requests_app/demande/change_list.html):
    Django's cell-by-cell rendering cost three times the page's own queries."""

    def rows(self):
        kinds, states = dict(DemandeKind.choices), dict(DemandeState.choices)
        suffix = f"?{self.preserved_filters}" if self.preserved_filters else ""
        # Django's admin serves a change page at <the list's URL><pk>/change/: one reverse() for the 50 rows.
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        months = {number: str(name) for number, name in MONTHS.items()}  # translated once, not per row
        for demande in self.result_list:
            agent = demande.assigned_to
            yield {
                "pk": demande.pk,
                "label": str(demande),
                "url": f"{changelist}{demande.pk}/change/{suffix}",
                "reference": demande.reference,
                "kind": kinds.get(demande.kind, demande.kind),
                "partenaire": demande.partenaire.name,
                "state": states.get(demande.state, demande.state),
                "agent": str(agent) if agent else "-",  # as Django's own column showed it
                "created_at": _day_and_time(timezone.localtime(demande.created_at), months),
                "age": self.model_admin.age(demande),
                "late": demande.is_late,
            }

    def headers(self):
        return list(result_headers(self))

    def get_results(self, request):
        # Django's counts first, then reads the page; here the page is read first (CappedPaginator.page): a page
        # that is not full needs no count, and a search never scans its matches twice.
        shown = self.queryset.select_related(None).select_related("partenaire", "assigned_to").only(*LIST_COLUMNS)
        paginator = self.model_admin.get_paginator(request, shown, self.list_per_page)
        try:
            page = paginator.page(self.page_num)
        except InvalidPage:
            raise IncorrectLookupParameters from None
        self.result_count = paginator.count
        self.can_show_all = self.result_count <= self.list_max_show_all and not paginator.capped
        self.result_list = self.queryset._clone() if self.show_all and self.can_show_all else page.object_list
        self.multi_page = paginator.num_pages > 1
        self.show_full_result_count, self.full_result_count, self.show_admin_actions = False, None, True
        self.paginator = paginator


class DemandeAdmin(ObjectActionsMixin, CaisseScopedAdmin):
    list_display = ["reference", "kind", "partenaire", "state", "assigned_to", "created_at", "age", "late"]
    list_filter = [
        "state",
        "kind",
        AssignedFilter,
        UnreadFilter,
        OverdueFilter,
        CaisseFilter,
        PartenaireFilter,
        ("created_at", admin.DateFieldListFilter),  # ranges on created_at; a date hierarchy scanned every row
    ]
    list_select_related = ["partenaire", "assigned_to", "caisse"]
    ordering = ["created_at", "id"]  # the oldest first: the work queue, served by demande_caisse_queue
    sortable_by = ["created_at", "age"]  # the orders an index serves; the filters give the rest
    show_full_result_count = False
    list_per_page = 50
    search_fields = ["reference"]
    search_help_text = "Référence ou nom de la personne (sans accent ni majuscule requis)."
    actions = [
        "assign_to_me",
        "export_csv",
    ]
    inlines = [MessageInline, DemandeChangeInline]
    readonly_fields = [*COMMON_FIELDS, *KIND_FIELDS, "conservation"]
    object_actions = [
        ObjectAction(
            slug="repondre",
            label="Répondre au partenaire",
            form_class=AnswerForm,
            form_kwargs=lambda demande: {"demande": demande},
            available=lambda demande: not demande.is_final,
            run=_answer,
            refill=lambda form: form.with_reply_inserted(),
            description="Le partenaire reçoit un email avec la référence et un lien, jamais le contenu.",
        ),
        ObjectAction(
            slug="attribuer",
            label="Attribuer à un agent",
            form_class=AssignForm,
            form_kwargs=lambda demande: {"demande": demande},
            available=lambda demande: not demande.is_final,
            run=_assign,
        ),
    ]

    def get_urls(self):
        report = path(
            "acces-assure/",
            self.admin_site.admin_view(self.access_report_view),
            name="requests_app_demande_access_report",
        )
        return [report, *super().get_urls()]

    def access_report_view(self, request):
        """CNIL right of access: who read the data of one insured person, when (CSV)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = AccessReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            entries = services.accesses_to_insured(request.user, **form.cleaned_data)
            audit.record(Action.ACCESS_REPORT_EXPORTED, actor=request.user, details={"lignes": entries.count()})
            rows = (
                [
                    timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M"),
                    e.get_action_display(),
                    e.target_label,
                    _who(e.actor),
                    e.ip or "",
                ]
                for e in stream_rows(entries)
            )
            return csv_response("acces-donnees-assure.csv", ["Date", "Action", "Demande", "Par", "Adresse IP"], rows)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Accès aux données d'un assuré (droit d'accès CNIL)",
        }
        return TemplateResponse(request, "admin/access_report.html", context)

    def get_queryset(self, request):
        late = ExpressionWrapper(overdue_q(timezone.localdate()), output_field=BooleanField())
        return super().get_queryset(request).annotate(is_late=late)

    def get_fields(self, request, obj=None):
        # The common fields, then those of this kind of request that it filled.
        if obj is None:
            return list(COMMON_FIELDS)
        erased = ["conservation"] if obj.erased_at else []
        return [*erased, *COMMON_FIELDS, *(name for name in KIND_FIELDS if getattr(obj, name) not in ("", None))]

    @admin.display(description="conservation")
    def conservation(self, demande):
        day = timezone.localtime(demande.erased_at).strftime("%d/%m/%Y")
        return f"Identité de la personne et textes de la demande effacés le {day} (durée de conservation)"

    def get_actions(self, request):
        # One "move to" action per state a request can be moved to (D7), built from the states themselves.
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for state in DemandeState:
                if state != DemandeState.ENVOYEE:
                    action = _bulk_move(state)
                    actions[action.__name__] = (action, action.__name__, action.short_description)
        return actions

    def get_search_results(self, request, queryset, search_term):
        return queryset.search(search_term), False

    def get_changelist(self, request, **kwargs):
        return DemandeChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        searching = bool(request.GET.get(SEARCH_VAR, "").strip())
        return CappedPaginator(queryset, per_page, orphans, allow_empty_first_page, count_past_page=not searching)

    @admin.display(description="âge", ordering="created_at")
    def age(self, demande):
        days = (timezone.now() - demande.created_at).days
        return f"{days} j"

    @admin.display(description="en retard", boolean=True, ordering="is_late")
    def late(self, demande):
        return demande.is_late

    def change_view(self, request, object_id, form_url="", extra_context=None):
        demande = self.get_object(request, object_id)
        if demande is not None:
            services.record_read(demande, request.user)  # P4: every opening of a request
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="M'attribuer les demandes sélectionnées")
    def assign_to_me(self, request, queryset):
        count = services.assign(list(queryset), request.user, by=request.user)
        self.message_user(request, f"{count} demande(s) vous sont attribuées.", messages.SUCCESS)

    @admin.action(description="Exporter les demandes sélectionnées (CSV)")
    def export_csv(self, request, queryset):
        header = ["Référence", "Type", "Partenaire", "État", "Déposée le", "Agent en charge"]
        rows = (
            [
                d.reference,
                d.get_kind_display(),
                d.partenaire.name,
                d.get_state_display(),
                timezone.localtime(d.created_at).strftime("%d/%m/%Y %H:%M"),
                d.assigned_to.get_full_name() if d.assigned_to else "",
            ]
            for d in stream_rows(queryset.select_related("partenaire", "assigned_to"))
        )
        return csv_response(f"demandes-{timezone.localdate().isoformat()}.csv", header, rows)


def _bulk_move(state):
    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for demande in queryset:
            try:
                services.change_state(demande, state, by=request.user)
                moved += 1
            except ValidationError as exc:
                refused.append(f"{demande.reference} : {' '.join(exc.messages)}")
        if moved:
            modeladmin.message_user(request, f"{moved} demande(s) passée(s) à « {state.label} ».", messages.SUCCESS)
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)

    action.__name__ = f"move_to_{state.value}"
    return admin.action(description=f"Passer à « {state.label} »")(action)


admin.site.register(Demande, DemandeAdmin)
