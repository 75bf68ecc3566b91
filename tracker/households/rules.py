"""Rules every change to the register checks: dates within reason, an age range the right
way round, and the most children a household held over a period."""

from __future__ import annotations

from collections.abc import Sequence
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


def check_carers(carers: int | None, age_bands: Sequence[str], disabled: int | None) -> None:
    """Carers' age bands and disability need the number of carers, and at most one each."""
    if carers is None:
        if age_bands or disabled is not None:
            raise InvalidValueError(
                "carers_age_bands and carers_disabled need the number of carers", field="carers"
            )
        return
    if len(age_bands) > carers:
        raise InvalidValueError(
            f"{len(age_bands)} age bands for {carers} carer(s): one each at most",
            field="carers_age_bands",
        )
    if disabled is not None and disabled > carers:
        raise InvalidValueError(
            f"carers_disabled {disabled} is more than the {carers} carer(s)",
            field="carers_disabled",
        )


def max_filled_from(placements: list[Placement], start: date, end: date | None) -> int:
    """The most children placed at once at any day in [start, end)."""
    points = {start} | {
        p.start_on for p in placements if p.start_on > start and (end is None or p.start_on < end)
    }
    return max((filled_on(placements, day) for day in points), default=0)
