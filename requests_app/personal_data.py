"""The requests' entries in the catalogue of personal data (A15): a request filed by a purged account stays in
its partner's history (a statistic, D8), attributed to the anonymized account; the account holder's name,
email, identifier and phone are taken out of the free texts of its requests and of the messages it wrote or
received. The insured's identity is not the account holder's: the requests' retention (P6) erases it."""

from django.db.models import Q

from core.personal_data import Entry, Treatment, register, scrub

from .models import Demande, Message, PieceJointe

ANONYMIZED = "renvoie au compte, devenu « compte-supprime-N » : la demande reste attribuée à un compte supprimé"
FREE_TEXTS = ("dossier_other", "reason", "appointment_place", "document_other")


def _its_requests(person) -> Q:
    return Q(filed_by_id__in=person.ids) | Q(assigned_to_id__in=person.ids)


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
            lambda person: Q(author_id__in=person.ids) | Q(demande__filed_by_id__in=person.ids),
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
            lambda person: Q(uploaded_by_id__in=person.ids) | Q(demande__filed_by_id__in=person.ids),
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
