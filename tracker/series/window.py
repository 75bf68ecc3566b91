"""Which months a series covers: full months only, from the first its records speak for, at
most ten years, to the last complete month (or the last its records cover)."""

from __future__ import annotations

from datetime import date

import msgspec

from forecast.months import add_months, month_start

MAX_HISTORY_MONTHS = 120
"""The longest history a forecast is given: ten years of months."""


class Span(msgspec.Struct, frozen=True):
    """The months a source's records speak for: from `first` (None: no records) to `last`
    (None: up to today). Months outside are unknown, never zero."""

    first: date | None
    last: date | None = None

    def masked(self, months: list[date], values: list[float | None]) -> list[float | None]:
        """`values` with the months outside the span set to None."""
        return [
            None
            if self.first is None or m < self.first or (self.last is not None and m > self.last)
            else v
            for m, v in zip(months, values, strict=True)
        ]


def last_complete_month(today: date) -> date:
    """The first day of the last month that has ended by `today`."""
    return add_months(today.replace(day=1), -1)


def first_full_month(day: date | None) -> date | None:
    """The first month that `day` covers whole: its own month when it is the 1st, else the next."""
    if day is None:
        return None
    return day if day.day == 1 else add_months(month_start(day), 1)


def history_start(first: date | None, cutoff: date) -> date | None:
    """Where a forecast's history starts: the first full month from `first`, at most
    MAX_HISTORY_MONTHS before the cutoff (None when nothing falls before the cutoff)."""
    full = first_full_month(first)
    if full is None:
        return None
    start = max(full, add_months(cutoff, -(MAX_HISTORY_MONTHS - 1)))
    return start if start <= cutoff else None
