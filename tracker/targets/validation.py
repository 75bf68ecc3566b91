"""Checking a target before it is stored: the fields its kind takes, its dates, percentages
in percent, and a baseline filled in from the actuals when none is given."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from forecast.months import (
    add_months,
    month_end,
    month_start,
    months_between,
    year_start,
)
from tracker.children.mapping import Mapping
from tracker.core.errors import InvalidValueError
from tracker.targets import metrics
from tracker.targets.kinds import FIELDS, Direction, Kind
from tracker.targets.measure import measure_actual
from tracker.targets.metrics import Metric
from tracker.targets.schemas import NewTarget

EARLIEST = date(2000, 1, 1)


FIELD_AT = re.compile(r"\$\.(\w+)")


MAX_YEARS_AHEAD = 30


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


class MissingFieldsError(InvalidValueError):
    """Fields the target's kind needs were not given: `fields` names every one (`field` the
    first), so a form can mark them all at once."""

    rule = "missing_fields"

    def __init__(self, kind: Kind, fields: list[str]) -> None:
        super().__init__(f"a target of kind {kind} needs {' and '.join(fields)}", field=fields[0])
        self.fields = fields


def required_fields(kind: Kind, direction: Direction) -> tuple[str, ...]:
    """The fields a target of `kind` must be given (a floor's one level follows its direction;
    a level by date without a baseline date starts from the latest actual)."""
    if kind is Kind.FLOOR:
        return ("upper",) if direction is Direction.AT_MOST else ("lower",)
    return REQUIRED[kind]


REQUIRED: dict[Kind, tuple[str, ...]] = {
    Kind.COMPOUND_GROWTH: ("baseline_date", "annual_rate", "target_date"),
    Kind.LEVEL_BY_DATE: ("target_value", "target_date"),
    Kind.ANNUAL_COUNT: ("target_value", "start_date", "target_date"),
    Kind.FLOOR: (),
    Kind.BAND: ("lower", "upper"),
}
"""What each kind needs, in the form's order (a floor's level: `required_fields`)."""


def _require_all(values: dict[str, Any], kind: Kind, direction: Direction) -> None:
    missing = [f for f in required_fields(kind, direction) if values.get(f) is None]
    if missing:
        raise MissingFieldsError(kind, missing)


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
    if not metric.percent:
        for field in ("baseline_value", "target_value", "lower", "upper"):
            value = values[field]
            if value is not None and not float(value).is_integer():
                raise InvalidValueError(
                    f"{field} counts {metric.unit}: give a whole number, not {value:g}",
                    rule="whole_number",
                    field=field,
                )
    rate = values["annual_rate"]
    if rate is not None and rate < 0 and new.direction is Direction.AT_LEAST:
        raise InvalidValueError(
            f"annual_rate {rate:g}% is a fall, and direction at_least asks for growth: give a "
            "rate of 0 or more, or direction at_most for a reduction",
            rule="growth_rate_negative",
            field="annual_rate",
        )
    if metric.percent:
        for field in ("baseline_value", "target_value", "lower", "upper"):
            value = values[field]
            if value is not None and value > 100:
                raise InvalidValueError(
                    f"{field} is a percentage for {metric.label}: give 0 to 100", field=field
                )
            # 0.62 is almost always 62% written as a fraction; no real target is under 1%.
            if value is not None and 0 < value < 1:
                raise InvalidValueError(
                    f"{field} is a percentage for {metric.label}, given in percent: {value:g}"
                    f" would mean {value:g}%; for {value * 100:g}% give {value * 100:g}",
                    field=field,
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
    _require_all(values, kind, new.direction)
    if kind in (Kind.COMPOUND_GROWTH, Kind.LEVEL_BY_DATE):
        target_date = values["target_date"]
        _baseline(session, code, metric, values, today, mapping)
        _after(values["baseline_date"], target_date, "baseline_date", "target_date")
    elif kind is Kind.ANNUAL_COUNT:
        first = year_start(month_start(values["start_date"]))
        last = year_start(month_start(values["target_date"]))
        if last < first:
            raise InvalidValueError(
                "target_date is in a year (ending 31 March) before start_date's",
                field="target_date",
            )
        values["start_date"], values["target_date"] = first, date(last.year + 1, 3, 31)
    else:
        if kind is Kind.FLOOR:
            [needed] = required_fields(kind, new.direction)
            other = "lower" if needed == "upper" else "upper"
            if values[other] is not None:
                raise InvalidValueError(
                    f"a floor with direction {new.direction} takes {needed} only: leave "
                    f"{other} empty",
                    rule="floor_one_level",
                    field=other,
                )
        elif values["upper"] <= values["lower"]:
            raise InvalidValueError(
                f"upper ({values['upper']:g}) must be above lower ({values['lower']:g})",
                rule="band_order",
                field="upper",
            )
        if values["start_date"] is None:
            values["start_date"] = month_start(today)
        if values["target_date"] is not None:
            _after(values["start_date"], values["target_date"], "start_date", "target_date")
    return values
