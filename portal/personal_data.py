"""The portal's entries in the catalogue of personal data (A15): its content, the admin site's own log and the
design system's settings."""

from django.contrib.admin.models import LogEntry

from core.personal_data import Entry, Treatment, register, scrub

CREATED_BY = "renvoie au compte de l'agent, devenu « compte-supprime-N »"

register(
    Entry(
        "admin.LogEntry",
        ("object_repr",),
        Treatment.SCRUB,
        "toutes (le nom d'un objet modifié dans l'administration : « Prénom Nom (identifiant) »)",
        apply=scrub(LogEntry, ("object_repr",)),
    ),
    Entry("admin.LogEntry", ("user",), Treatment.KEEP_REFERENCE, "toutes", CREATED_BY),
    Entry(
        "admin.LogEntry",
        ("object_id", "change_message"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un numéro, et les noms des champs modifiés (format de Django)",
    ),
    Entry(
        "portal.MaintenanceNotice",
        ("title", "message"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un avis de maintenance rédigé par la caisse",
    ),
    Entry("portal.MaintenanceNotice", ("created_by",), Treatment.KEEP_REFERENCE, "toutes", CREATED_BY),
    Entry(
        "portal.DocumentPartenaire",
        ("title", "description", "original_name", "file"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un document publié par la caisse (P2)",
    ),
    Entry("portal.DocumentPartenaire", ("created_by",), Treatment.KEEP_REFERENCE, "toutes", CREATED_BY),
    Entry(
        "portal.IncidentMode",
        ("message",),
        Treatment.NOT_PERSONAL,
        "toutes",
        "le message du mode incident, rédigé par l'administrateur national",
    ),
    Entry("portal.IncidentMode", ("changed_by",), Treatment.KEEP_REFERENCE, "toutes", CREATED_BY),
    Entry("dsfr.DsfrConfig", ("*",), Treatment.NOT_PERSONAL, "toutes", "les réglages du système de design"),
    Entry("dsfr.DsfrSocialMedia", ("*",), Treatment.NOT_PERSONAL, "toutes", "les réseaux sociaux du site"),
)
