"""Working days in France: weekends and public holidays (holidays package) excluded."""

from datetime import date, timedelta
from functools import cache

import holidays

# Alsace-Moselle keeps two more public holidays (Good Friday, 26 December).
ALSACE_MOSELLE = frozenset({"57", "67", "68"})


@cache
def _french_holidays(year: int, departement: str | None) -> holidays.HolidayBase:
    subdiv = departement if departement in ALSACE_MOSELLE else None
    return holidays.France(years=year, subdiv=subdiv)


def is_working_day(day: date, departement: str | None = None) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year, departement)


def subtract_working_days(end: date, count: int, departement: str | None = None) -> date:
    """The date `count` working days before `end` (end itself not counted)."""
    day = end
    remaining = count
    while remaining > 0:
        day -= timedelta(days=1)
        if is_working_day(day, departement):
            remaining -= 1
    return day


def add_working_days(start: date, count: int, departement: str | None = None) -> date:
    """The date `count` working days after `start` (start itself not counted), in that département."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, departement):
            remaining -= 1
    return day
