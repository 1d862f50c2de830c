# Retention (P6): given-up emails, the journal's retention action, and the journal's trigger that lets the
# retention job (and only it) delete rows past their duration.

from django.db import migrations, models

from core.migration_ops import AddIndexConcurrently, RunSQLOnPostgreSQL

# DELETE gets a trigger of its own (UPDATE keeps `portal_journal_append_only`, whatever its body says about
# UPDATE): allowed only in a transaction that set `portal.journal_retention_until` (core.retention,
# transaction-local), of rows written before that instant and more than six months ago. A DELETE without it,
# or of a recent row, is refused as before.
TRIGGER = """
CREATE OR REPLACE FUNCTION portal_journal_retention_only() RETURNS trigger AS $$
DECLARE
    until text := current_setting('portal.journal_retention_until', true);
BEGIN
    IF coalesce(until, '') <> '' AND OLD.at <= until::timestamptz AND OLD.at < now() - interval '6 months' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'portal_journalentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS portal_journalentry_append_only ON portal_journalentry;
CREATE TRIGGER portal_journalentry_append_only
    BEFORE UPDATE ON portal_journalentry
    FOR EACH ROW EXECUTE FUNCTION portal_journal_append_only();
CREATE TRIGGER portal_journalentry_retention_only
    BEFORE DELETE ON portal_journalentry
    FOR EACH ROW EXECUTE FUNCTION portal_journal_retention_only();
"""
APPEND_ONLY = """
DROP TRIGGER IF EXISTS portal_journalentry_retention_only ON portal_journalentry;
DROP FUNCTION IF EXISTS portal_journal_retention_only();
DROP TRIGGER IF EXISTS portal_journalentry_append_only ON portal_journalentry;
CREATE TRIGGER portal_journalentry_append_only
    BEFORE UPDATE OR DELETE ON portal_journalentry
    FOR EACH ROW EXECUTE FUNCTION portal_journal_append_only();
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('core', '0004_lexicon_categories'),
    ]

    operations = [
        migrations.AddField(
            model_name='outboxemail',
            name='given_up_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='abandonné le'),
        ),
        migrations.AlterField(
            model_name='journalentry',
            name='action',
            field=models.CharField(choices=[('login', 'Connexion'), ('login_failed', 'Échec de connexion'), ('logout', 'Déconnexion'), ('account_created', 'Compte créé'), ('account_changed', 'Compte modifié'), ('account_activated', 'Compte activé'), ('account_inactivated', 'Compte inactivé'), ('account_reattached', 'Technicien rattaché à un autre gestionnaire'), ('account_purged', 'Compte supprimé (6 mois après son inactivation)'), ('invitation_sent', "Lien d'activation envoyé"), ('password_changed', 'Mot de passe changé'), ('password_reset_requested', 'Réinitialisation du mot de passe demandée'), ('cgu_accepted', 'CGU acceptées'), ('two_factor_enabled', 'Double authentification activée'), ('two_factor_failed', 'Code de double authentification refusé'), ('two_factor_reset', 'Double authentification réinitialisée'), ('habilitation_requested', "Habilitation d'un gestionnaire demandée"), ('habilitation_processed', "Demande d'habilitation traitée"), ('gestionnaire_requested', 'Demande sur un compte gestionnaire'), ('gestionnaire_request_processed', 'Demande sur un gestionnaire traitée'), ('incident_reported', 'Fraude, perte ou vol signalé'), ('incident_processed', 'Signalement traité'), ('review_requested', 'Revue des habilitations demandée'), ('review_attested', 'Revue des habilitations attestée'), ('accounts_exported', 'Tableau des habilitations exporté'), ('access_report_exported', "Accès aux données d'un assuré exportés (droit d'accès)"), ('partenaire_changed', 'Partenaire modifié'), ('partenaire_suspended', 'Structure suspendue'), ('partenaire_restored', 'Structure rétablie'), ('convention_changed', 'Convention modifiée'), ('convention_ended', 'Convention terminée'), ('convention_terminated', 'Convention résiliée'), ('notice_recorded', 'Mise en demeure enregistrée'), ('document_downloaded', 'Document téléchargé'), ('demande_read', 'Demande consultée'), ('piece_jointe_read', 'Pièce jointe consultée'), ('consistency_checked', 'Contrôle de cohérence effectué'), ('consistency_finding', 'Incohérence trouvée par le contrôle'), ('retention_applied', 'Durée de conservation appliquée')], max_length=40, verbose_name='action'),
        ),
        AddIndexConcurrently(
            model_name='outboxemail',
            index=models.Index(condition=models.Q(('given_up_at__isnull', False)), fields=['given_up_at'], name='outbox_given_up'),
        ),
        # Emails that reached the last attempt before this field existed: given up when they were written.
        migrations.RunSQL(
            "UPDATE portal_outboxemail SET given_up_at = created_at WHERE sent_at IS NULL AND attempts >= 20",
            migrations.RunSQL.noop,
        ),
        RunSQLOnPostgreSQL(TRIGGER, APPEND_ONLY),
    ]
