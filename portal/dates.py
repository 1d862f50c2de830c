"""The dates the portal accepts: between 1900 and 2199, so that a mistyped year is refused, not stored.

A date-time on 01/01/0001 underflows once converted to UTC (PostgreSQL stores it BC, psycopg cannot read it
back, and every page that shows the row fails); 31/12/9999 overflows any due date computed from it.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError

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
