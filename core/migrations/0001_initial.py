# The base app's models, moved from portal (JournalEntry, OutboxEmail) and requests_app (HealthTerm): in the
# migration state only. Their tables keep their names, their rows and the journal's append-only trigger.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("portal", "0009_consistency_actions"),
        ("requests_app", "0006_sensitive_lexicon"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='HealthTerm',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('term', models.CharField(help_text="Tel qu'il peut être saisi, par exemple « Diabète de type 2 ». Reconnu sans tenir compte des majuscules, des accents ni des tirets, au singulier comme au pluriel.", max_length=120, verbose_name='terme')),
                        ('normalized', models.CharField(editable=False, max_length=120, unique=True, verbose_name='forme normalisée')),
                        ('category', models.CharField(choices=[('maladie', 'Maladie ou diagnostic'), ('traitement', 'Traitement'), ('handicap', 'Handicap'), ('examen', 'Examen ou acte médical'), ('autre', 'Autre')], default='maladie', max_length=20, verbose_name='catégorie')),
                        ('active', models.BooleanField(default=True, help_text='Décochez pour ne plus refuser ce terme sans le supprimer.', verbose_name='actif')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='créé le')),
                        ('updated_at', models.DateTimeField(auto_now=True, db_index=True, verbose_name='modifié le')),
                    ],
                    options={
                        'verbose_name': 'terme de santé',
                        'verbose_name_plural': 'lexique des données de santé',
                        'db_table': 'requests_app_healthterm',
                        'ordering': ['normalized'],
                    },
                ),
                migrations.CreateModel(
                    name='OutboxEmail',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('subject', models.CharField(max_length=250, verbose_name='objet')),
                        ('body', models.TextField(verbose_name='texte')),
                        ('recipients', models.TextField(help_text='Une adresse par ligne.', verbose_name='destinataires')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='écrit le')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='envoyé le')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='tentatives')),
                        ('last_error', models.CharField(blank=True, max_length=200, verbose_name='dernière erreur')),
                    ],
                    options={
                        'verbose_name': "email en attente d'envoi",
                        'verbose_name_plural': "emails en attente d'envoi",
                        'db_table': 'portal_outboxemail',
                        'indexes': [models.Index(fields=['sent_at', 'created_at'], name='outbox_unsent')],
                    },
                ),
                migrations.CreateModel(
                    name='JournalEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='date')),
                        ('action', models.CharField(choices=[('login', 'Connexion'), ('login_failed', 'Échec de connexion'), ('logout', 'Déconnexion'), ('account_created', 'Compte créé'), ('account_changed', 'Compte modifié'), ('account_activated', 'Compte activé'), ('account_inactivated', 'Compte inactivé'), ('account_reattached', 'Technicien rattaché à un autre gestionnaire'), ('account_purged', 'Compte supprimé (6 mois après son inactivation)'), ('invitation_sent', "Lien d'activation envoyé"), ('password_changed', 'Mot de passe changé'), ('password_reset_requested', 'Réinitialisation du mot de passe demandée'), ('cgu_accepted', 'CGU acceptées'), ('two_factor_enabled', 'Double authentification activée'), ('two_factor_failed', 'Code de double authentification refusé'), ('two_factor_reset', 'Double authentification réinitialisée'), ('habilitation_requested', "Habilitation d'un gestionnaire demandée"), ('habilitation_processed', "Demande d'habilitation traitée"), ('gestionnaire_requested', 'Demande sur un compte gestionnaire'), ('gestionnaire_request_processed', 'Demande sur un gestionnaire traitée'), ('incident_reported', 'Fraude, perte ou vol signalé'), ('incident_processed', 'Signalement traité'), ('review_requested', 'Revue des habilitations demandée'), ('review_attested', 'Revue des habilitations attestée'), ('accounts_exported', 'Tableau des habilitations exporté'), ('access_report_exported', "Accès aux données d'un assuré exportés (droit d'accès)"), ('partenaire_changed', 'Partenaire modifié'), ('partenaire_suspended', 'Structure suspendue'), ('partenaire_restored', 'Structure rétablie'), ('convention_changed', 'Convention modifiée'), ('convention_ended', 'Convention terminée'), ('convention_terminated', 'Convention résiliée'), ('notice_recorded', 'Mise en demeure enregistrée'), ('document_downloaded', 'Document téléchargé'), ('demande_read', 'Demande consultée'), ('piece_jointe_read', 'Pièce jointe consultée'), ('consistency_checked', 'Contrôle de cohérence effectué'), ('consistency_finding', 'Incohérence trouvée par le contrôle')], max_length=40, verbose_name='action')),
                        ('target_type', models.CharField(blank=True, max_length=60, verbose_name="type d'objet")),
                        ('target_id', models.CharField(blank=True, max_length=64, verbose_name="identifiant de l'objet")),
                        ('target_label', models.CharField(blank=True, max_length=200, verbose_name='objet')),
                        ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='adresse IP')),
                        ('details', models.JSONField(blank=True, default=dict, verbose_name='détails')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='auteur')),
                    ],
                    options={
                        'verbose_name': "entrée du journal d'audit",
                        'verbose_name_plural': "journal d'audit",
                        'db_table': 'portal_journalentry',
                        'ordering': ['-at', '-id'],
                        'indexes': [models.Index(fields=['target_type', 'target_id', '-at'], name='journal_target'), models.Index(fields=['actor', '-at'], name='journal_actor')],
                    },
                ),
            ],
        ),
    ]
