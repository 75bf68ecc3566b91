"""What every source of series gives: the months its records speak for, whether it holds a
given series at all, and the monthly values of its series over a range of months."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import date
from typing import Protocol

import msgspec
from sqlalchemy.orm import Session

from forecast.months import month_end
from tracker.children.mapping import Mapping
from tracker.series.keys import TOTAL, SeriesKey
from tracker.series.window import Span


def floats(values: list[int | None] | list[int]) -> list[float | None]:
    """Counts as the floats a series holds (None stays None)."""
    return [None if v is None else float(v) for v in values]


class Ask(msgspec.Struct, frozen=True):
    """What a source is asked for: the series of `metrics` of one authority for each month of
    `months` (consecutive month starts), placing children with the council's `mapping`."""

    session: Session
    code: str
    months: list[date]
    mapping: Mapping
    metrics: Collection[str]

    @property
    def last_day(self) -> date:
        """The last day of the last month asked for."""
        return month_end(self.months[-1])


class Frame(msgspec.Struct, frozen=True):
    """A source's series over some months (one value per month, None: unknown), and `label`,
    where the figures came from ("funnel", "register", "ssda903", "aggregates", "entered")."""

    values: dict[SeriesKey, list[float | None]]
    label: str


class Source(Protocol):
    """A kind of record that series are built from."""

    name: str

    def span(self, session: Session, code: str) -> Span:
        """The months the authority's records of this kind speak for."""
        ...

    def available(self, session: Session, code: str, key: SeriesKey) -> bool:
        """Whether the authority has any records this series is built from."""
        ...

    def frame(self, ask: Ask) -> Frame:
        """The series asked for, month by month."""
        ...


class Keep(enum.StrEnum):
    """When a forecast run includes a series of the family."""

    ALWAYS = "always"
    KNOWN = "known"  # some month has a figure
    ABOVE_ZERO = "above_zero"  # some month is above zero


class Family(msgspec.Struct, frozen=True):
    """Series of one metric: the total (`breakdown` "total" or a named one) or, when `parts`,
    every breakdown starting with `breakdown` ("care_type=")."""

    metric: str
    source: Source
    breakdown: str = TOTAL
    parts: bool = False
    is_count: bool = True
    forecast: bool = True
    keep: Keep = Keep.ALWAYS

    def holds(self, key: SeriesKey) -> bool:
        """Whether the series is of this family."""
        if key.metric != self.metric:
            return False
        return (
            key.breakdown.startswith(self.breakdown)
            if self.parts
            else key.breakdown == self.breakdown
        )
