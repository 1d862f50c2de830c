"""The audit journal (P4): append-only, one row per security event or access to an insured's data.

The table keeps its first name (portal_journalentry) and its append-only PostgreSQL trigger."""

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a journal entry."""


class JournalQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Le journal d'audit ne se modifie pas.")

    def delete(self):
        raise AppendOnlyError("Le journal d'audit ne se supprime pas.")

    _raw_delete = delete

    def erase_personal(self, *, label: bool) -> int:
        """The one change the journal accepts (A15): the address, and the label when `label`, of these rows
        erased; the database trigger refuses any other change."""
        values = {"ip": None, **({"target_label": ""} if label else {})}
        return models.QuerySet.update(self, **values)


class Action(models.TextChoices):
    LOGIN = "login", "Connexion"
    LOGIN_FAILED = "login_failed", "Échec de connexion"
    LOGOUT = "logout", "Déconnexion"
    ACCOUNT_CREATED = "account_created", "Compte créé"
    ACCOUNT_CHANGED = "account_changed", "Compte modifié"
    ACCOUNT_ACTIVATED = "account_activated", "Compte activé"
    ACCOUNT_INACTIVATED = "account_inactivated", "Compte inactivé"
    ACCOUNT_REATTACHED = "account_reattached", "Technicien rattaché à un autre gestionnaire"
    ACCOUNT_PURGED = "account_purged", "Compte supprimé (6 mois après son inactivation)"
    INVITATION_SENT = "invitation_sent", "Lien d'activation envoyé"
    PASSWORD_CHANGED = "password_changed", "Mot de passe changé"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Réinitialisation du mot de passe demandée"
    CGU_ACCEPTED = "cgu_accepted", "CGU acceptées"
    TWO_FACTOR_ENABLED = "two_factor_enabled", "Double authentification activée"
    TWO_FACTOR_FAILED = "two_factor_failed", "Code de double authentification refusé"
    TWO_FACTOR_RESET = "two_factor_reset", "Double authentification réinitialisée"
    HABILITATION_REQUESTED = "habilitation_requested", "Habilitation d'un gestionnaire demandée"
    HABILITATION_PROCESSED = "habilitation_processed", "Demande d'habilitation traitée"
    GESTIONNAIRE_REQUESTED = "gestionnaire_requested", "Demande sur un compte gestionnaire"
    GESTIONNAIRE_REQUEST_PROCESSED = "gestionnaire_request_processed", "Demande sur un gestionnaire traitée"
    INCIDENT_REPORTED = "incident_reported", "Fraude, perte ou vol signalé"
    INCIDENT_PROCESSED = "incident_processed", "Signalement traité"
    REVIEW_REQUESTED = "review_requested", "Revue des habilitations demandée"
    REVIEW_ATTESTED = "review_attested", "Revue des habilitations attestée"
    ACCOUNTS_EXPORTED = "accounts_exported", "Tableau des habilitations exporté"
    ACCESS_REPORT_EXPORTED = "access_report_exported", "Accès aux données d'un assuré exportés (droit d'accès)"
    PARTENAIRE_CHANGED = "partenaire_changed", "Partenaire modifié"
    PARTENAIRE_SUSPENDED = "partenaire_suspended", "Structure suspendue"
    PARTENAIRE_RESTORED = "partenaire_restored", "Structure rétablie"
    CONVENTION_CHANGED = "convention_changed", "Convention modifiée"
    CONVENTION_ENDED = "convention_ended", "Convention terminée"
    CONVENTION_TERMINATED = "convention_terminated", "Convention résiliée"
    NOTICE_RECORDED = "notice_recorded", "Mise en demeure enregistrée"
    DOCUMENT_DOWNLOADED = "document_downloaded", "Document téléchargé"
    DEMANDE_READ = "demande_read", "Demande consultée"
    PIECE_JOINTE_READ = "piece_jointe_read", "Pièce jointe consultée"
    CONSISTENCY_CHECKED = "consistency_checked", "Contrôle de cohérence effectué"
    CONSISTENCY_FINDING = "consistency_finding", "Incohérence trouvée par le contrôle"
    RETENTION_APPLIED = "retention_applied", "Durée de conservation appliquée"
    INCIDENT_MODE_ON = "incident_mode_on", "Mode incident activé"
    INCIDENT_MODE_OFF = "incident_mode_off", "Mode incident désactivé"
    TICKET_REPORTED = "ticket_reported", "Problème signalé à la caisse"
    TICKET_CHANGED = "ticket_changed", "Signalement de problème mis à jour"
    TICKET_READ = "ticket_read", "Signalement de problème consulté"
    INFORMATION_PUBLISHED = "information_published", "Information de la caisse aux partenaires"
    INFORMATION_ACKNOWLEDGED = "information_acknowledged", "Information de la caisse lue par le partenaire"


class JournalEntry(models.Model):
    at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    action = models.CharField("action", max_length=40, choices=Action.choices)
    target_type = models.CharField("type d'objet", max_length=60, blank=True)
    target_id = models.CharField("identifiant de l'objet", max_length=64, blank=True)
    target_label = models.CharField("objet", max_length=200, blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    # A default in the database too: SQL that writes the journal without naming the column (the bench's floors).
    run_id = models.CharField(
        "exécution",
        max_length=64,
        blank=True,
        db_default="",
        help_text="La tâche planifiée ou la commande qui a écrit l'entrée.",
    )
    details = models.JSONField("détails", default=dict, blank=True)

    objects = JournalQuerySet.as_manager()

    class Meta:
        db_table = "portal_journalentry"
        verbose_name = "entrée du journal d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at"], name="journal_target"),
            models.Index(fields=["actor", "-at"], name="journal_actor"),
        ]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_action_display()} {self.target_label}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Le journal d'audit ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Le journal d'audit ne se supprime pas.")
