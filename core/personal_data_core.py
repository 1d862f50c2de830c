"""The base's entries in the catalogue of personal data (A15): the audit journal and the outbox of emails."""

from django.conf import settings

from .models import JournalEntry, OutboxEmail
from .personal_data import Entry, Person, Treatment, delete_rows, register

ACCOUNT_TYPE = settings.AUTH_USER_MODEL.lower()


def _journal_about(person: Person):
    return JournalEntry.objects.filter(target_type=ACCOUNT_TYPE, target_id__any=[str(pk) for pk in person.ids])


def _erase_journal_labels(person: Person) -> int:
    return _journal_about(person).erase_personal(label=True)


def _erase_journal_addresses(person: Person) -> int:
    return JournalEntry.objects.filter(actor_id__any=person.ids, ip__isnull=False).erase_personal(label=False)


def _outbox_emails(person: Person):
    """Those whose address, subject or text holds one of the values that name the person only."""
    matcher = person.matcher(strong=True)
    columns = ("recipients", "subject", "body")
    if not matcher:
        return OutboxEmail.objects.none()
    candidates = OutboxEmail.objects.filter(matcher.condition(OutboxEmail, columns)).values_list("pk", *columns)
    return OutboxEmail.objects.filter(pk__in=[pk for pk, *texts in candidates if any(map(matcher.holds, texts))])


register(
    Entry(
        "core.JournalEntry",
        ("target_label",),
        Treatment.ERASE,
        "les entrées dont l'objet est le compte (l'adresse IP aussi)",
        apply=_erase_journal_labels,
    ),
    Entry(
        "core.JournalEntry",
        ("ip",),
        Treatment.ERASE,
        "les entrées dont le compte est l'auteur",
        apply=_erase_journal_addresses,
    ),
    Entry(
        "core.JournalEntry",
        ("actor",),
        Treatment.KEEP_REFERENCE,
        "toutes",
        "qui a fait quoi reste tracé (P4), sous le numéro du compte anonymisé",
    ),
    Entry(
        "core.JournalEntry",
        ("target_type", "target_id", "run_id", "details"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "un type, un numéro, un identifiant d'exécution ; les détails ne portent que des codes et des numéros "
        "(core.audit)",
    ),
    Entry(
        "core.OutboxEmail",
        ("*",),
        Treatment.DELETE_ROWS,
        "les emails adressés au compte ou qui le nomment (email, identifiant, téléphone, nom complet), envoyés ou non",
        apply=delete_rows(_outbox_emails),
    ),
    Entry(
        "core.HealthTerm",
        ("term", "normalized"),
        Treatment.NOT_PERSONAL,
        "toutes",
        "le lexique du contrôle des textes libres (D4)",
    ),
)
