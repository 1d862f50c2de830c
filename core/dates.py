"""The dates the portal accepts: between 1900 and 2199, so that a mistyped year is refused, not stored.

A date-time on 01/01/0001 underflows once converted to UTC (PostgreSQL stores it BC, psycopg cannot read it
back, and every page that shows the row fails); 31/12/9999 overflows any due date computed from it.
"""

import re
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


DATE_HINT = "Format attendu : JJ/MM/AAAA"
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d+)")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")  # the filters' links and the older forms' values


class DayMonthYearField(PlausibleDateField):
    """A date typed as text, JJ/MM/AAAA (the DSFR's pattern for a known date, such as a birth date): the same in
    every browser whatever its language — a native date input shows mm/dd/yyyy in an English Chromium.

    Parsed here with a message per mistake: not a date, a date that does not exist (31/02), a two-digit year.
    """

    widget = forms.DateInput(format="%d/%m/%Y", attrs={"inputmode": "numeric", "spellcheck": "false"})
    default_error_messages = {
        "invalid": "Saisissez la date au format JJ/MM/AAAA, par exemple 14/07/1985.",
        "impossible": "Cette date n'existe pas : vérifiez le jour et le mois (format JJ/MM/AAAA).",
        "short_year": "Indiquez l'année sur 4 chiffres (format JJ/MM/AAAA).",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", DATE_HINT)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if match := _DAY_MONTH_YEAR.fullmatch(text):
            day, month, year = match.groups()
            if len(year) != 4:
                raise ValidationError(self.error_messages["short_year"], code="short_year")
        elif match := _ISO.fullmatch(text):
            year, month, day = match.groups()
        else:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(self.error_messages["impossible"], code="impossible") from None


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
