"""Rules every change to the register checks: dates within reason, an age range the right
way round, and the most children a household held over a period."""

from __future__ import annotations

from datetime import date

from tracker.core.errors import (
    InvalidValueError,
)
from tracker.households.queries import filled_on
from tracker.households.tables import (
    Placement,
)

EARLIEST = date(1980, 1, 1)


def check_day(day: date, today: date, field: str) -> None:
    if day > today:
        raise InvalidValueError(f"{field} {day.isoformat()} is in the future", field=field)
    if day < EARLIEST:
        raise InvalidValueError(f"{field} {day.isoformat()} is before {EARLIEST}", field=field)


def check_ages(age_min: int, age_max: int) -> None:
    if age_min > age_max:
        raise InvalidValueError(f"age_min {age_min} is above age_max {age_max}", field="age_min")


def max_filled_from(placements: list[Placement], start: date, end: date | None) -> int:
    """The most children placed at once at any day in [start, end)."""
    points = {start} | {
        p.start_on for p in placements if p.start_on > start and (end is None or p.start_on < end)
    }
    return max((filled_on(placements, day) for day in points), default=0)
