# The lexicon of the free-text guard (D4) beyond health: categories for the other sensitive data (RGPD art. 9
# and 10), subjective judgements and exceptions, and the data file's new terms (added when missing, by
# normalized form: rows already there, edited or deactivated in the admin, are kept as they are).

from importlib import import_module

from django.db import migrations, models


def add_missing_terms(apps, schema_editor):
    """The data file's terms that are not in the table yet; running it again changes nothing."""
    import_module("requests_app.migrations.0001_health_lexicon").load_health_lexicon(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('requests_app', '0005_demande_changes'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='healthterm',
            options={'ordering': ['normalized'], 'verbose_name': 'terme sensible', 'verbose_name_plural': 'lexique des données sensibles'},
        ),
        migrations.AlterField(
            model_name='healthterm',
            name='category',
            field=models.CharField(choices=[('maladie', 'Santé : maladie ou diagnostic'), ('traitement', 'Santé : traitement'), ('handicap', 'Santé : handicap'), ('examen', 'Santé : examen ou acte médical'), ('autre', 'Santé : autre'), ('origine', 'Origine raciale ou ethnique'), ('religion', 'Convictions religieuses ou philosophiques'), ('politique', 'Opinions politiques'), ('syndicat', 'Appartenance syndicale'), ('sexualite', 'Vie sexuelle ou orientation sexuelle'), ('infraction', 'Infractions et condamnations'), ('jugement', 'Jugement subjectif ou insultant'), ('exception', 'Exception : expression ordinaire, jamais refusée')], default='maladie', help_text="Ce que révèle le terme ; le message d'erreur la nomme et dit pourquoi le texte est refusé. « Exception » : une expression ordinaire qui contient un terme du lexique (« Secours catholique »).", max_length=20, verbose_name='catégorie'),
        ),
        migrations.AlterField(
            model_name='healthterm',
            name='term',
            field=models.CharField(help_text="Tel qu'il peut être saisi, par exemple « Diabète de type 2 ». Reconnu sans tenir compte des majuscules, des accents ni des tirets, au masculin comme au féminin, au singulier comme au pluriel ; un sigle (au moins deux majuscules, comme VIH) ne prend que le « s » du pluriel.", max_length=120, verbose_name='terme'),
        ),
        migrations.RunPython(add_missing_terms, migrations.RunPython.noop),
    ]
