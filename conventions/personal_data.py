"""The conventions' entries in the catalogue of personal data (A15): caisses, partners and conventions describe
organisations and the people who sign for them, not account holders; only the agents' permissions on caisses
and the author of a formal notice point to accounts."""

from core.personal_data import Entry, Treatment, delete_rows, history_model_entries, register

from .models import Caisse, CaisseUserObjectPermission, ConventionMetier, ConventionUtilisation, Partenaire

NOT_AN_ACCOUNT = "une organisation ou une personne qui signe pour elle, pas un titulaire de compte"

register(
    Entry(
        "conventions.CaisseUserObjectPermission",
        ("*",),
        Treatment.DELETE_ROWS,
        "les droits du compte (agent) sur des caisses",
        apply=delete_rows(lambda person: CaisseUserObjectPermission.objects.filter(user_id__any=person.ids)),
    ),
    Entry(
        "conventions.Caisse",
        ("name", "code", "address_line", "postal_code", "city"),
        Treatment.NOT_PERSONAL,
        "toutes",
        NOT_AN_ACCOUNT,
    ),
    Entry(
        "conventions.Referent",
        ("full_name", "role", "phone", "mobile_phone", "email"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "les référents publiés par la caisse sur la page Contacts (P3) : des contacts professionnels que la caisse "
        "tient à jour, pas des titulaires de compte",
    ),
    Entry(
        "conventions.Referent",
        ("agent",),
        Treatment.KEEP_REFERENCE,
        "toutes",
        "le compte agent du référent, anonymisé (un agent inactivé ne reçoit plus les signalements)",
    ),
    Entry(
        "conventions.CanalSecours",
        ("phone", "email", "postal_address"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "le canal de secours d'un service de la caisse (P8) : un contact de service, pas un titulaire de compte",
    ),
    Entry(
        "conventions.Partenaire",
        (
            "name",
            "address_line",
            "postal_code",
            "city",
            "legal_representative",
            "legal_representative_title",
            "notification_email",
            "suspension_reason",
        ),
        Treatment.NOT_PERSONAL,
        "toutes",
        "la structure partie à la convention et son représentant légal, pas un titulaire de compte",
    ),
    Entry("conventions.DomaineEmail", ("domain",), Treatment.NOT_PERSONAL, "toutes", "un nom de domaine"),
    Entry("conventions.ConventionMetier", ("reference",), Treatment.NOT_PERSONAL, "toutes", NOT_AN_ACCOUNT),
    Entry(
        "conventions.ConventionUtilisation",
        ("partner_signatory", "caisse_signatory", "deliberation_reference", "signed_document"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "les signataires de la convention, qui la prouvent : " + NOT_AN_ACCOUNT,
    ),
    Entry(
        "conventions.Avenant", ("description", "document"), Treatment.NOT_PERSONAL, "toutes", "ce que l'avenant modifie"
    ),
    Entry(
        "conventions.MiseEnDemeure",
        ("grounds",),
        Treatment.NOT_PERSONAL,
        "toutes",
        "les manquements d'une partie à la convention",
    ),
    Entry(
        "conventions.MiseEnDemeure",
        ("recorded_by",),
        Treatment.KEEP_REFERENCE,
        "toutes",
        "renvoie au compte, devenu « compte-supprime-N »",
    ),
    *[
        entry
        for model in (Caisse, Partenaire, ConventionMetier, ConventionUtilisation)
        for entry in history_model_entries(model.history.model)
    ],
)
