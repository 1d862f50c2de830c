"""The dates the portal accepts: between 1900 and 2199, so that a mistyped year is refused, not stored.

A date-time on 01/01/0001 underflows once converted to UTC (PostgreSQL stores it BC, psycopg cannot read it
back, and every page that shows the row fails); 31/12/9999 overflows any due date computed from it.
"""

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
RANGE_MESSAGE = "Vérifiez l'année : la date doit être comprise entre le 01/01/1900 et le 31/12/2199."


def is_plausible(value: date | datetime | None) -> bool:
    if value is None:
        return False
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


def validate_plausible_date(value) -> None:
    if value is not None and not is_plausible(value):
        raise ValidationError(RANGE_MESSAGE, code="date_range")


class PlausibleDateField(forms.DateField):
    default_validators = [validate_plausible_date]


class PlausibleDateTimeField(forms.DateTimeField):
    default_validators = [validate_plausible_date]


def start_of_day(day: date) -> datetime:
    """Midnight of `day` in Paris time, as an aware instant: filters compare `created_at` to it directly,
    so an index on `created_at` serves them (`created_at__date` would convert every row first)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_range(since: date | None, until: date | None) -> dict:
    """Lookups for "from `since` to `until`, both days included" on a `created_at` field."""
    lookups = {}
    if since:
        lookups["created_at__gte"] = start_of_day(since)
    if until:
        lookups["created_at__lt"] = start_of_day(until + timedelta(days=1))
    return lookups
