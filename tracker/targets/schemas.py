"""Strategy targets as a manager sets them and as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from tracker.core.patterns import NO_NUL
from tracker.targets.kinds import Direction, Kind
from tracker.targets.metrics import MetricKey

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]


Notes = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]


Amount = Annotated[float, msgspec.Meta(ge=0, le=10_000_000)]


Rate = Annotated[float, msgspec.Meta(gt=-100, le=100)]


class NewTarget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A target as a manager sets it (a PUT sends the whole target again). By `kind`:

    - compound_growth: `annual_rate` percent a year from `baseline_date` (its value
      `baseline_value`, default the actual that month) to `target_date`;
    - level_by_date: reach `target_value` by `target_date`, on a straight path from
      `baseline_date` and `baseline_value` (default: the latest actual when it is set);
    - annual_count: at least (or, `direction` at_most, at most) `target_value` a year, each year
      ending 31 March from the year holding `start_date` to the year holding `target_date`;
    - floor: stay at or above `lower` (or, direction at_most, at or below `upper`), from
      `start_date` (default: the month it is set) to `target_date` (default: open);
    - band: stay between `lower` and `upper`, dates as for a floor.

    Proportions (Staying Put rate, occupancy) are given in percent, 0 to 100.
    """

    metric: MetricKey
    kind: Kind
    name: Name
    direction: Direction = Direction.AT_LEAST
    baseline_date: date | None = None
    baseline_value: Amount | None = None
    annual_rate: Rate | None = None
    start_date: date | None = None
    target_date: date | None = None
    target_value: Amount | None = None
    lower: Amount | None = None
    upper: Amount | None = None
    notes: Notes | None = None


class TargetRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored target, with a one-line `summary` of what it asks."""

    id: int
    authority_code: str
    metric: MetricKey
    kind: Kind
    name: str
    direction: Direction
    baseline_date: date | None
    baseline_value: float | None
    annual_rate: float | None
    start_date: date | None
    target_date: date | None
    target_value: float | None
    lower: float | None
    upper: float | None
    notes: str | None
    summary: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
