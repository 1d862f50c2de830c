"""The base's models: the audit journal (P4), the outbox of emails, the health-data lexicon of the free-text
guard (D4). Their tables keep the names they had in `portal` and `requests_app`."""

from .journal import Action, AppendOnlyError, JournalEntry, JournalQuerySet  # noqa: F401
from .lexicon import HealthTerm, HealthTermCategory  # noqa: F401
from .outbox import OutboxEmail  # noqa: F401
