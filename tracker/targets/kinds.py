"""What a target asks for, one struct per kind (a msgspec tagged union on `kind`): its path
month by month, what it holds the metric to, its milestones and whether a value meets it.

Months are first days of months and stand for the month's end ("March 2026" is 31 March
2026). Values are in the metric's own units: levels and counts as numbers, proportions in
percent; `annual_rate` in percent a year.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any, ClassVar

import msgspec
import numpy as np

from forecast.months import month_name, months_between, year_label, year_start

YEAR = 12
TOLERANCE = 1e-9
"""Paths and targets are compared with this slack, so a path exactly on a target meets it."""


class Kind(enum.StrEnum):
    """What a target asks for."""

    COMPOUND_GROWTH = "compound_growth"
    LEVEL_BY_DATE = "level_by_date"
    ANNUAL_COUNT = "annual_count"
    FLOOR = "floor"
    BAND = "band"


class Direction(enum.StrEnum):
    """Whether the metric should be at least (growth) or at most (reduction) the target."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class TargetKind(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """What every kind has: its path starts at `start` (the baseline month; the first April of
    an annual count; a floor's first month) and ends at `end` (the target month; None for a
    floor or band without a date)."""

    start: date
    end: date | None = None
    direction: Direction = Direction.AT_LEAST

    FIELDS: ClassVar[frozenset[str]]
    """The stored fields this kind takes besides metric, kind, name, direction and notes."""
    YEAR_TO_DATE: ClassVar[bool] = False
    """Measured over the year to date (years ending 31 March) rather than 12 months."""
    EVERY_MONTH: ClassVar[bool] = False
    """Held in every month to its date (floors and bands), not only at its milestones."""

    @property
    def kind(self) -> Kind:
        """This target's kind."""
        return Kind(self.__struct_config__.tag)

    def _path(self, month: date) -> float | None:
        raise NotImplementedError

    def path_value(self, month: date) -> float | None:
        """The target path at `month` (None outside the target's months)."""
        if month < self.start or (self.end is not None and month > self.end):
            return None
        return self._path(month)

    def path_upper(self, month: date) -> float | None:
        """The upper edge of the path (a band's only)."""
        return None

    def threshold(self, month: date) -> float | None:
        """What the metric is held to at a milestone: the path's value there."""
        return self.path_value(month)

    def milestones(self, open_end: date | None = None) -> list[date]:
        """Each March after the start up to the end, and the end itself (`open_end` stands in
        for the end of a floor or band without a date)."""
        end = self.end or open_end
        if end is None or end < self.start:
            return []
        marches = [date(year, 3, 1) for year in range(self.start.year, end.year + 1)]
        return [*(m for m in marches if self.start < m < end), end]

    def meeting(self, values: np.ndarray, month: date, *, level: float | None = None) -> np.ndarray:
        """Per value, whether it meets the target at `month` (NaN never does); `level` holds
        the values to another level than the target's at that month (a path's year to date)."""
        level = self.threshold(month) if level is None else level
        if level is None:
            return np.zeros(values.shape, dtype=bool)
        if self.direction is Direction.AT_MOST:
            return values <= level + TOLERANCE
        return values >= level - TOLERANCE

    def meets(self, value: float, month: date, *, level: float | None = None) -> bool:
        """Whether one value meets the target at `month` (or `level`, when given)."""
        return bool(self.meeting(np.array([value], dtype=float), month, level=level)[0])

    def shortfall(self, value: float, month: date, *, level: float | None = None) -> float | None:
        """How far `value` falls short of the target at `month` (or of `level`): positive is
        short (more needed, or fewer for a reduction), negative is ahead."""
        level = self.threshold(month) if level is None else level
        if level is None:
            return None
        return value - level if self.direction is Direction.AT_MOST else level - value

    def when(self, month: date) -> str:
        """ "by March 2026" (an annual count: "in 2025-26"; a floor or band: "in March 2026")."""
        return f"by {month_name(month)}"


class CompoundGrowth(TargetKind, frozen=True, kw_only=True, tag="compound_growth"):
    """`annual_rate` percent a year from `baseline_value` at the start to the end."""

    baseline_value: float
    annual_rate: float

    FIELDS = frozenset({"baseline_date", "baseline_value", "annual_rate", "target_date"})

    def _path(self, month: date) -> float | None:
        elapsed = months_between(self.start, month)
        return self.baseline_value * (1 + self.annual_rate / 100) ** (elapsed / YEAR)


class LevelByDate(TargetKind, frozen=True, kw_only=True, tag="level_by_date"):
    """`target_value` by the end, on a straight path from `baseline_value` at the start; a
    baseline already at or beyond the target (in its direction) needs only to stay there, so
    the path holds the target level (not a path back towards it)."""

    baseline_value: float
    target_value: float

    FIELDS = frozenset({"baseline_date", "baseline_value", "target_value", "target_date"})

    @property
    def met_at_baseline(self) -> bool:
        """The baseline is already at or beyond the target."""
        if self.direction is Direction.AT_MOST:
            return self.baseline_value <= self.target_value
        return self.baseline_value >= self.target_value

    def _path(self, month: date) -> float | None:
        assert self.end is not None
        if self.met_at_baseline:
            return self.target_value
        span = months_between(self.start, self.end)
        if span == 0:
            return self.target_value
        elapsed = months_between(self.start, month)
        return self.baseline_value + (self.target_value - self.baseline_value) * elapsed / span


class AnnualCount(TargetKind, frozen=True, kw_only=True, tag="annual_count"):
    """At least (or at most) `target_value` a year, each year ending 31 March. The path is the
    year-to-date share of the yearly number, reaching it each March."""

    target_value: float

    FIELDS = frozenset({"start_date", "target_date", "target_value"})
    YEAR_TO_DATE = True

    def _path(self, month: date) -> float | None:
        return self.target_value * (months_between(year_start(month), month) + 1) / YEAR

    def threshold(self, month: date) -> float | None:
        """The whole yearly number, in any month of the target's years."""
        return self.target_value if self.path_value(month) is not None else None

    def when(self, month: date) -> str:
        """ "in 2025-26"."""
        return f"in {year_label(month)}"


class Floor(TargetKind, frozen=True, kw_only=True, tag="floor"):
    """Stay at or above `lower` (or, direction at_most, at or below `upper`)."""

    lower: float | None = None
    upper: float | None = None

    FIELDS = frozenset({"start_date", "target_date", "lower", "upper"})
    EVERY_MONTH = True

    def _path(self, month: date) -> float | None:
        return self.lower if self.direction is Direction.AT_LEAST else self.upper

    def when(self, month: date) -> str:
        """ "in March 2026"."""
        return f"in {month_name(month)}"


class Band(TargetKind, frozen=True, kw_only=True, tag="band"):
    """Stay between `lower` and `upper`."""

    lower: float
    upper: float

    FIELDS = frozenset({"start_date", "target_date", "lower", "upper"})
    EVERY_MONTH = True

    def _path(self, month: date) -> float | None:
        return self.lower

    def path_upper(self, month: date) -> float | None:
        """The band's upper edge within its months."""
        return self.upper if self.path_value(month) is not None else None

    def meeting(self, values: np.ndarray, month: date, *, level: float | None = None) -> np.ndarray:
        """Inside the band, edges included."""
        return (values >= self.lower - TOLERANCE) & (values <= self.upper + TOLERANCE)

    def shortfall(self, value: float, month: date, *, level: float | None = None) -> float | None:
        """Distance outside the band (positive), or inside it from the nearer edge (negative)."""
        if value < self.lower:
            return self.lower - value
        if value > self.upper:
            return value - self.upper
        return -min(value - self.lower, self.upper - value)

    def when(self, month: date) -> str:
        """ "in March 2026"."""
        return f"in {month_name(month)}"


TargetSpec = CompoundGrowth | LevelByDate | AnnualCount | Floor | Band
FIELDS: dict[Kind, frozenset[str]] = {
    Kind(cls.__struct_config__.tag): cls.FIELDS
    for cls in (CompoundGrowth, LevelByDate, AnnualCount, Floor, Band)
}


def target_spec(**fields: Any) -> TargetSpec:
    """The kind's struct from its fields (`kind` names it; fields it does not take are left out)."""
    given = {
        name: value.value if isinstance(value, enum.Enum) else value
        for name, value in fields.items()
        if value is not None
    }
    return msgspec.convert(given, TargetSpec)
