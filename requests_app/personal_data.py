"""The requests' entries in the catalogue of personal data (A15): a request filed by a purged account stays in
its partner's history (a statistic, D8), attributed to the anonymized account; the account holder's name,
email, identifier and phone are taken out of the free texts of its requests and of the messages it wrote or
received. The insured's identity is not the account holder's: the requests' retention (P6) erases it."""

from django.db.models import Q

from core.personal_data import Entry, Treatment, delete_rows, register, scrub, set_values

from .models import Demande, DemandeLecture, Message, PieceJointe, Ticket, TicketAttachment, TicketMessage

ANONYMIZED = "renvoie au compte, devenu « compte-supprime-N » : la demande reste attribuée à un compte supprimé"
FREE_TEXTS = ("dossier_other", "reason", "appointment_place", "document_other")


def _its_requests(person) -> tuple[Q, Q]:
    return Q(filed_by_id__any=person.ids), Q(assigned_to_id__any=person.ids)


register(
    Entry(
        "requests_app.Demande",
        FREE_TEXTS,
        Treatment.SCRUB,
        "les demandes que le compte a déposées ou suivies",
        apply=scrub(Demande, FREE_TEXTS, _its_requests),
    ),
    Entry("requests_app.Demande", ("filed_by", "assigned_to"), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.Demande",
        ("assure_last_name", "assure_first_name", "search_text"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "l'identité de l'assuré, pas du titulaire du compte : effacée par la rétention des demandes (P6)",
    ),
    Entry(
        "requests_app.Message",
        ("body",),
        Treatment.SCRUB,
        "les messages que le compte a écrits et ceux de ses demandes",
        apply=scrub(
            Message,
            ("body",),
            lambda person: (Q(author_id__any=person.ids), Q(demande__filed_by_id__any=person.ids)),
        ),
    ),
    Entry("requests_app.Message", ("author",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.PieceJointe",
        ("original_name",),
        Treatment.SCRUB,
        "les pièces que le compte a déposées et celles de ses demandes",
        apply=scrub(
            PieceJointe,
            ("original_name",),
            lambda person: (Q(uploaded_by_id__any=person.ids), Q(demande__filed_by_id__any=person.ids)),
        ),
    ),
    Entry("requests_app.Demande", ("reference",), Treatment.NOT_PERSONAL, "toutes", "une référence tirée au hasard"),
    Entry("requests_app.PieceJointe", ("uploaded_by",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.PieceJointe",
        ("file",),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un nom de fichier tiré au hasard (core.uploads)",
    ),
    Entry(
        "requests_app.DemandeChange",
        ("old_value", "new_value"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "des codes : un état, un numéro de compte, une date, le lieu du rendez-vous fixé par la caisse",
    ),
    Entry("requests_app.DemandeChange", ("by",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
)

# Work queues (issue 13) and assistance (P7).
register(
    Entry(
        "requests_app.DemandeLecture",
        ("*",),
        Treatment.DELETE_ROWS,
        "les marques de lecture du compte",
        apply=delete_rows(lambda person: DemandeLecture.objects.filter(user_id__any=person.ids)),
    ),
    Entry(
        "requests_app.ReponseType",
        ("title", "body"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "une réponse type rédigée par la caisse, contrôlée par la garde des zones de texte libre",
    ),
    Entry(
        "requests_app.Ticket",
        ("description",),
        Treatment.SCRUB,
        "les problèmes que le compte a signalés",
        apply=scrub(Ticket, ("description",), lambda person: Q(reported_by_id__any=person.ids)),
    ),
    Entry(
        "requests_app.Ticket",
        ("user_agent",),
        Treatment.ERASE,
        "les problèmes que le compte a signalés",
        apply=set_values(lambda person: Ticket.objects.filter(reported_by_id__any=person.ids), user_agent=""),
    ),
    Entry("requests_app.Ticket", ("reported_by",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry("requests_app.Ticket", ("reference",), Treatment.NOT_PERSONAL, "toutes", "une référence tirée au hasard"),
    Entry(
        "requests_app.TicketMessage",
        ("body",),
        Treatment.SCRUB,
        "les messages que le compte a écrits et ceux des problèmes qu'il a signalés",
        apply=scrub(
            TicketMessage,
            ("body",),
            lambda person: (Q(author_id__any=person.ids), Q(ticket__reported_by_id__any=person.ids)),
        ),
    ),
    Entry("requests_app.TicketMessage", ("author",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.TicketAttachment",
        ("original_name",),
        Treatment.SCRUB,
        "les captures que le compte a déposées",
        apply=scrub(TicketAttachment, ("original_name",), lambda person: Q(uploaded_by_id__any=person.ids)),
    ),
    Entry("requests_app.TicketAttachment", ("uploaded_by",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.TicketAttachment",
        ("file",),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un nom de fichier tiré au hasard (core.uploads)",
    ),
    Entry(
        "requests_app.InformationPartenaire",
        ("title", "body"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "une information de la caisse à ses partenaires (art. 7), contrôlée par la garde des zones de texte libre",
    ),
    Entry("requests_app.InformationPartenaire", ("created_by",), Treatment.KEEP_REFERENCE, "toutes", ANONYMIZED),
    Entry(
        "requests_app.InformationAcknowledgement",
        ("acknowledged_by",),
        Treatment.KEEP_REFERENCE,
        "toutes",
        "qui a pris connaissance de l'information reste tracé, sous le numéro du compte anonymisé",
    ),
)
