"""Strategy targets: what a council has committed to, measured on one of its metrics.

A target is stored with its kind and the fields that kind takes (see `NewTarget`); its
arithmetic (path, milestones, chances) is in `forecast.target_paths`, and its trajectory
against actuals and forecasts in `tracker.trajectories`. Creating, changing and deleting a
target are audited by field name.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from forecast.months import add_months, month_end, month_start, months_between
from tracker.children.mapping import Mapping
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import InvalidValueError, NotFoundError, check_version
from tracker.targets import metrics
from tracker.targets.metrics import Metric, MetricKey
from tracker.targets.paths import (
    Direction,
    Kind,
    TargetSpec,
    format_value,
    measure_actual,
    year_label,
    year_start,
)


class Target(SQLModel, table=True):
    """A target on one metric of one authority; `kind` says which fields apply."""

    __tablename__ = "target"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    metric: str = Field(sa_type=String(40))
    kind: str = Field(sa_type=String(20))
    name: str = Field(sa_type=String(200))
    direction: str = Field(default="at_least", sa_type=String(10))
    baseline_date: date | None = None
    baseline_value: float | None = None
    annual_rate: float | None = None
    start_date: date | None = None
    target_date: date | None = None
    target_value: float | None = None
    lower: float | None = None
    upper: float | None = None
    notes: str | None = Field(default=None, sa_type=Text)
    created_by: str = Field(sa_type=String(120))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


# --- what a target is given as, and shown as ------------------------------------------------

NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Notes = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]
Amount = Annotated[float, msgspec.Meta(ge=0, le=10_000_000)]
Rate = Annotated[float, msgspec.Meta(gt=-100, le=100)]
EARLIEST = date(2000, 1, 1)
FIELD_AT = re.compile(r"\$\.(\w+)")
MAX_YEARS_AHEAD = 30
# The fields each kind takes besides metric, kind, name, direction and notes.
FIELDS: dict[Kind, frozenset[str]] = {
    Kind.COMPOUND_GROWTH: frozenset(
        {"baseline_date", "baseline_value", "annual_rate", "target_date"}
    ),
    Kind.LEVEL_BY_DATE: frozenset(
        {"baseline_date", "baseline_value", "target_value", "target_date"}
    ),
    Kind.ANNUAL_COUNT: frozenset({"start_date", "target_date", "target_value"}),
    Kind.FLOOR: frozenset({"start_date", "target_date", "lower", "upper"}),
    Kind.BAND: frozenset({"start_date", "target_date", "lower", "upper"}),
}
OPTIONAL_FIELDS = (
    "baseline_date",
    "baseline_value",
    "annual_rate",
    "start_date",
    "target_date",
    "target_value",
    "lower",
    "upper",
)


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


# --- validation ------------------------------------------------------------------------------


def _check_date(day: date | None, field: str, today: date, *, past: bool = False) -> None:
    if day is None:
        return
    if day < EARLIEST:
        raise InvalidValueError(f"{field} {day} is before {EARLIEST}", field=field)
    if past and day > today:
        raise InvalidValueError(f"{field} {day} is in the future", field=field)
    if day.year > today.year + MAX_YEARS_AHEAD:
        raise InvalidValueError(
            f"{field} {day} is more than {MAX_YEARS_AHEAD} years ahead", field=field
        )


def _require(values: dict[str, Any], field: str, kind: Kind) -> Any:
    if values.get(field) is None:
        raise InvalidValueError(f"{field} is needed for a target of kind {kind}", field=field)
    return values[field]


def _after(first: date, second: date, first_field: str, second_field: str) -> None:
    if month_start(second) <= month_start(first):
        raise InvalidValueError(
            f"{second_field} ({second}) must be in a later month than {first_field} ({first})",
            field=second_field,
        )


def _latest_actual(
    session: Session, code: str, metric: Metric, month: date, mapping: Mapping | None
) -> tuple[date, float] | None:
    """The metric's latest actual up to `month` (looking back at most three years)."""
    first = add_months(month, -36)
    found = metrics.actuals(session, code, metric.key, first, month, mapping=mapping)
    history = found.history()
    for step in range(months_between(first, month), -1, -1):
        at = add_months(first, step)
        value = measure_actual(metric.shape, history, at)
        if value is not None:
            return at, round(value, 4)
    return None


def _baseline(
    session: Session,
    code: str,
    metric: Metric,
    values: dict[str, Any],
    today: date,
    mapping: Mapping | None,
) -> None:
    """Fill in a missing baseline: the actual of the baseline month, or (no baseline date)
    the latest actual up to the last complete month."""
    if values["baseline_value"] is not None:
        if values["baseline_date"] is None:
            values["baseline_date"] = month_end(add_months(month_start(today), -1))
        return
    if values["baseline_date"] is not None:
        month = month_start(values["baseline_date"])
        found = _latest_actual(session, code, metric, month, mapping)
        if found is None or found[0] != month:
            raise InvalidValueError(
                f"there is no actual of {metric.label} for {month:%B %Y}: give baseline_value",
                field="baseline_value",
            )
        values["baseline_value"] = found[1]
        return
    found = _latest_actual(session, code, metric, add_months(month_start(today), -1), mapping)
    if found is None:
        raise InvalidValueError(
            f"there is no recent actual of {metric.label}: give baseline_date and baseline_value",
            field="baseline_value",
        )
    values["baseline_date"], values["baseline_value"] = month_end(found[0]), found[1]


def _check_kind(new: NewTarget, metric: Metric) -> dict[str, Any]:
    """The optional fields as given, refusing those the kind does not take."""
    if new.kind not in metric.kinds:
        kinds = ", ".join(metric.kinds)
        raise InvalidValueError(
            f"a target of kind {new.kind} does not apply to {metric.label} (a "
            f"{metric.shape} metric): use one of {kinds}",
            field="kind",
        )
    values = {field: getattr(new, field) for field in OPTIONAL_FIELDS}
    for field, value in values.items():
        if value is not None and field not in FIELDS[new.kind]:
            raise InvalidValueError(
                f"{field} does not apply to a target of kind {new.kind}", field=field
            )
    if metric.percent:
        for field in ("baseline_value", "target_value", "lower", "upper"):
            if values[field] is not None and values[field] > 100:
                raise InvalidValueError(
                    f"{field} is a percentage for {metric.label}: give 0 to 100", field=field
                )
    return values


def _checked(new: NewTarget) -> NewTarget:
    """`new` with its constraints checked and its codes as enums: Python callers may build it
    with plain strings and out-of-range numbers, which only decoding would refuse."""
    try:
        return msgspec.convert(msgspec.to_builtins(new), NewTarget)
    except msgspec.ValidationError as exc:
        at = FIELD_AT.search(str(exc))
        raise InvalidValueError(str(exc), field=at.group(1) if at else None) from None


def _validated(
    session: Session,
    code: str,
    new: NewTarget,
    today: date,
    mapping: Mapping | None,
) -> dict[str, Any]:
    """The target's stored fields, checked for its kind and with defaults filled in."""
    metric = metrics.get_metric(new.metric)
    if not new.name.strip():
        raise InvalidValueError("name must not be blank", field="name")
    values = _check_kind(new, metric)
    for field in ("baseline_date", "start_date", "target_date"):
        _check_date(values[field], field, today, past=field == "baseline_date")
    kind = new.kind
    if kind is Kind.BAND and new.direction is not Direction.AT_LEAST:
        raise InvalidValueError("direction does not apply to a band", field="direction")
    if kind in (Kind.COMPOUND_GROWTH, Kind.LEVEL_BY_DATE):
        if kind is Kind.COMPOUND_GROWTH:
            _require(values, "baseline_date", kind)
            _require(values, "annual_rate", kind)
        else:
            _require(values, "target_value", kind)
        target_date = _require(values, "target_date", kind)
        _baseline(session, code, metric, values, today, mapping)
        _after(values["baseline_date"], target_date, "baseline_date", "target_date")
    elif kind is Kind.ANNUAL_COUNT:
        _require(values, "target_value", kind)
        first = year_start(month_start(_require(values, "start_date", kind)))
        last = year_start(month_start(_require(values, "target_date", kind)))
        if last < first:
            raise InvalidValueError(
                "target_date is in a year (ending 31 March) before start_date's",
                field="target_date",
            )
        values["start_date"], values["target_date"] = first, date(last.year + 1, 3, 31)
    else:
        needed = "upper" if kind is Kind.FLOOR and new.direction is Direction.AT_MOST else "lower"
        _require(values, needed, kind)
        if kind is Kind.FLOOR:
            other = "lower" if needed == "upper" else "upper"
            if values[other] is not None:
                raise InvalidValueError(
                    f"a floor with direction {new.direction} takes {needed}, not {other}",
                    field=other,
                )
        else:
            upper = _require(values, "upper", kind)
            if upper <= values["lower"]:
                raise InvalidValueError("upper must be above lower", field="upper")
        if values["start_date"] is None:
            values["start_date"] = month_start(today)
        if values["target_date"] is not None:
            _after(values["start_date"], values["target_date"], "start_date", "target_date")
    return values


# --- reading and writing ---------------------------------------------------------------------


def _figure(value: float | None, percent: bool) -> str:
    if value is None:
        return "?"
    return format_value(value, percent) if percent else f"{value:,.4g}"


def summary(row: Target) -> str:
    """What a target asks, in one line."""
    metric = metrics.get_metric(row.metric)
    label, percent = metric.label, metric.percent
    most = row.direction == Direction.AT_MOST.value

    def when(day: date | None) -> str:
        return f"{day:%-d %B %Y}" if day else "?"

    match Kind(row.kind):
        case Kind.COMPOUND_GROWTH:
            return (
                f"{label}: {row.annual_rate or 0:+g}% a year from "
                f"{_figure(row.baseline_value, percent)} on {when(row.baseline_date)} "
                f"to {when(row.target_date)}"
            )
        case Kind.LEVEL_BY_DATE:
            return (
                f"{label}: {'down' if most else 'up'} to {_figure(row.target_value, percent)} "
                f"by {when(row.target_date)}, from {_figure(row.baseline_value, percent)} on "
                f"{when(row.baseline_date)}"
            )
        case Kind.ANNUAL_COUNT:
            first = year_label(row.start_date) if row.start_date else "?"
            last = year_label(month_start(row.target_date)) if row.target_date else "?"
            return (
                f"{label}: at {'most' if most else 'least'} "
                f"{_figure(row.target_value, percent)} a year (years ending 31 March), "
                f"{first} to {last}"
            )
        case Kind.FLOOR:
            level = row.upper if most else row.lower
            until = f" until {when(row.target_date)}" if row.target_date else ""
            return f"{label}: at {'most' if most else 'least'} {_figure(level, percent)}{until}"
        case Kind.BAND:
            until = f" until {when(row.target_date)}" if row.target_date else ""
            return (
                f"{label}: between {_figure(row.lower, percent)} and "
                f"{_figure(row.upper, percent)}{until}"
            )
    raise AssertionError(row.kind)


def to_record(row: Target) -> TargetRecord:
    """The API view of a stored target."""
    assert row.id is not None
    return TargetRecord(
        id=row.id,
        authority_code=row.authority_code,
        metric=MetricKey(row.metric),
        kind=Kind(row.kind),
        name=row.name,
        direction=Direction(row.direction),
        baseline_date=row.baseline_date,
        baseline_value=row.baseline_value,
        annual_rate=row.annual_rate,
        start_date=row.start_date,
        target_date=row.target_date,
        target_value=row.target_value,
        lower=row.lower,
        upper=row.upper,
        notes=row.notes,
        summary=summary(row),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def spec_of(record: TargetRecord) -> TargetSpec:
    """The target's arithmetic for `forecast.target_paths`."""
    kind = record.kind
    if kind in (Kind.COMPOUND_GROWTH, Kind.LEVEL_BY_DATE):
        assert record.baseline_date is not None
        start = month_start(record.baseline_date)
    elif record.start_date is not None:
        start = month_start(record.start_date)
    else:
        start = month_start(record.created_at.date())
    return TargetSpec(
        kind=kind,
        start=start,
        end=month_start(record.target_date) if record.target_date else None,
        direction=record.direction,
        baseline_value=record.baseline_value,
        annual_rate=record.annual_rate,
        target_value=record.target_value,
        lower=record.lower,
        upper=record.upper,
    )


def _load(session: Session, code: str, target_id: int, *, lock: bool = False) -> Target:
    query = select(Target).where(Target.id == target_id, Target.authority_code == code)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(f"no target {target_id} in authority {code}", field="target_id")
    return row


def create_target(
    session: Session,
    caller: Caller,
    code: str,
    new: NewTarget,
    *,
    today: date,
    mapping: Mapping | None = None,
) -> TargetRecord:
    """Set a target (audited: the fields given, never their values)."""
    get_authority(session, code)
    new = _checked(new)
    values = _validated(session, code, new, today, mapping)
    row = Target(
        authority_code=code,
        metric=new.metric.value,
        kind=new.kind.value,
        name=new.name.strip(),
        direction=new.direction.value,
        notes=new.notes,
        created_by=caller.actor[:120],
        **values,
    )
    session.add(row)
    session.flush()
    given = sorted(f for f in ("name", "notes", *OPTIONAL_FIELDS) if getattr(new, f) is not None)
    audit.record(
        session,
        caller,
        "create",
        "target",
        row.id,
        authority_code=code,
        detail={"fields": ["metric", "kind", "direction", *given]},
    )
    session.flush()
    return to_record(row)


def update_target(
    session: Session,
    caller: Caller,
    code: str,
    target_id: int,
    new: NewTarget,
    *,
    today: date,
    expected_version: int | None = None,
    mapping: Mapping | None = None,
) -> TargetRecord:
    """Replace a target with `new` (refused when `expected_version` is not the stored one);
    audited with the names of the fields that changed."""
    row = _load(session, code, target_id, lock=True)
    check_version("target", row.id, row.version, expected_version)
    new = _checked(new)
    values = _validated(session, code, new, today, mapping)
    values |= {
        "metric": new.metric.value,
        "kind": new.kind.value,
        "name": new.name.strip(),
        "direction": new.direction.value,
        "notes": new.notes,
    }
    changed = sorted(field for field, value in values.items() if getattr(row, field) != value)
    if changed:
        for field in changed:
            setattr(row, field, values[field])
        audit.record_update(session, caller, "target", row, authority_code=code, changed=changed)
    return to_record(row)


def delete_target(
    session: Session,
    caller: Caller,
    code: str,
    target_id: int,
    *,
    expected_version: int | None = None,
) -> None:
    """Delete a target (audited)."""
    row = _load(session, code, target_id, lock=True)
    check_version("target", row.id, row.version, expected_version)
    session.delete(row)
    audit.record(session, caller, "delete", "target", target_id, authority_code=code)
    session.flush()


def get_target(session: Session, code: str, target_id: int) -> TargetRecord:
    """One target of the authority."""
    return to_record(_load(session, code, target_id))


def list_targets(session: Session, code: str) -> list[TargetRecord]:
    """The authority's targets, oldest first."""
    get_authority(session, code)
    query = select(Target).where(Target.authority_code == code).order_by(Target.id)  # type: ignore[arg-type]
    return [to_record(row) for row in session.scalars(query)]


# --- the demo's targets ----------------------------------------------------------------------

STOKE, STAFFORDSHIRE = "E06000021", "E10000028"


def demo_targets(code: str) -> list[NewTarget]:
    """The targets the councils' own strategies set (Stoke-on-Trent 2023-28 and 2020-23,
    Staffordshire 2023-26), for the demo; none for other authorities."""
    if code == STOKE:
        return [
            NewTarget(
                metric=MetricKey.INHOUSE_FOSTER_CHILDREN,
                kind=Kind.COMPOUND_GROWTH,
                name="Grow the children cared for by in-house foster carers by 2% a year",
                baseline_date=date(2023, 3, 31),
                annual_rate=2.0,
                target_date=date(2028, 3, 31),
                notes=(
                    "Sufficiency Strategy 2023-28: 211 children with in-house carers in March "
                    "2023, growing 2% a year; the baseline here is the authority's own actual"
                ),
            ),
            NewTarget(
                metric=MetricKey.STAYING_PUT_RATE,
                kind=Kind.LEVEL_BY_DATE,
                name="Raise Staying Put to the national average, 62%",
                target_value=62.0,
                target_date=date(2028, 3, 31),
                notes="Sufficiency Strategy 2023-28: about 40% now, national average 62%",
            ),
            NewTarget(
                metric=MetricKey.APPROVALS,
                kind=Kind.ANNUAL_COUNT,
                name="Approve 33 fostering households a year",
                target_value=33.0,
                start_date=date(2023, 4, 1),
                target_date=date(2028, 3, 31),
                notes="Placement Sufficiency Strategy 2020-23: 33 approvals in 2020/21",
            ),
            NewTarget(
                metric=MetricKey.INHOUSE_OCCUPANCY,
                kind=Kind.FLOOR,
                name="Keep in-house foster care occupancy at 85% or more",
                lower=85.0,
                start_date=date(2023, 4, 1),
                target_date=date(2028, 3, 31),
                notes="Sufficiency Strategy 2023-28: average occupancy is now 85%",
            ),
        ]
    if code == STAFFORDSHIRE:
        return [
            NewTarget(
                metric=MetricKey.SUPPORTED_LODGINGS_HOSTS,
                kind=Kind.LEVEL_BY_DATE,
                name="Recruit 5 more supported lodgings hosts a year for three years",
                baseline_date=date(2023, 3, 31),
                baseline_value=29.0,
                target_value=44.0,
                target_date=date(2026, 3, 31),
                notes="Sufficiency Strategy 2023-26: 29 active hosts, 5 more a year",
            )
        ]
    return []
