"""The target form: one form for every kind of target (GOV.UK radios that reveal each kind's
own fields), read into the `NewTarget` the JSON API takes. Percentages are entered as
percentages (62 for 62%), as the API takes them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from api.dashboard.forms import Form, plain
from tracker.core.errors import DomainError
from tracker.targets.kinds import FIELDS, Direction, Kind
from tracker.targets.metrics import list_metrics
from tracker.targets.schemas import NewTarget, TargetRecord
from tracker.targets.validation import MissingFieldsError, required_fields

KIND_WORDS: dict[Kind, tuple[str, str]] = {
    Kind.COMPOUND_GROWTH: (
        "Grow (or shrink) by a percentage each year",
        "2% more a year from a baseline, to a date",
    ),
    Kind.LEVEL_BY_DATE: (
        "Reach a level by a date",
        "62% by March 2028, on a straight path from a baseline",
    ),
    Kind.ANNUAL_COUNT: (
        "At least a number each year",
        "30 households approved in each year ending 31 March",
    ),
    Kind.FLOOR: ("Stay above (or below) a level", "occupancy at or above 85% every month"),
    Kind.BAND: ("Stay between two levels", "between 80% and 95% every month"),
}
DATE_FIELDS = ("baseline_date", "start_date", "target_date")
NUMBER_FIELDS = ("baseline_value", "annual_rate", "target_value", "lower", "upper")
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "baseline_date": ("Baseline date", "The month the path starts from, for example 31 3 2023"),
    "baseline_value": ("Baseline value", "Leave empty to take the actual value that month"),
    "annual_rate": ("Change each year, in percent", "2 for 2% more a year, -2 for 2% fewer"),
    "target_value": ("Target", "A number, or a percentage as a percentage: 62, not 0.62"),
    "start_date": ("From", "The first month it applies, for example 1 4 2025"),
    "target_date": ("By", "For example, 31 3 2028"),
    "lower": ("Lowest level", "A number, or a percentage as a percentage: 85, not 0.85"),
    "upper": ("Highest level", "A number, or a percentage as a percentage: 95, not 0.95"),
}
NOUNS: dict[str, str] = {
    "baseline_date": "baseline date",
    "baseline_value": "baseline value",
    "annual_rate": "change each year",
    "target_value": "target",
    "start_date": "date it applies from",
    "target_date": "date it is due by",
    "lower": "lowest level",
    "upper": "highest level",
}
"""Each field in the words of a message: "Enter the date it is due by"."""
CODES = re.compile(r"\b(" + "|".join(sorted(NOUNS, key=len, reverse=True)) + r")\b")
"""The field names a message of the domain may hold, longest first."""
MESSAGES = {
    "metric": "Select what the target is measured on",
    "kind": "Select what kind of target it is",
    "name": "Enter a name for the target, of 200 characters or fewer",
    "direction": "Select whether the figure should be at least or at most the target",
    "notes": "Enter notes of 2,000 characters or fewer",
    "annual_rate": "Enter the change each year as a percentage between -100 and 100",
    "baseline_value": "Enter the baseline as a number of 0 or more",
    "target_value": "Enter the target as a number of 0 or more",
    "lower": "Enter the lowest level as a number of 0 or more",
    "upper": "Enter the highest level as a number of 0 or more",
}


def field_name(kind: Kind, field: str) -> str:
    """A kind's own input name (each kind's fields are apart, as GOV.UK's conditional radios
    keep every kind's inputs in the one form)."""
    return f"{kind.value}-{field}"


def read_target(form: Form) -> tuple[Kind | None, NewTarget | None]:
    """The kind chosen and the target the form asks for (its kind's fields only); None with
    errors on the inputs when a value cannot be read. Which fields a kind needs is the
    domain's rule: its refusals are shown with `refused`."""
    values: dict[str, Any] = {
        name: form.text(name) for name in ("metric", "kind", "name", "direction", "notes")
    }
    values = {k: v for k, v in values.items() if v is not None}
    kind = next((k for k in Kind if k.value == values.get("kind")), None)
    for field in sorted(FIELDS[kind]) if kind else []:
        name = field_name(kind, field)
        words = words_of(field)
        value = form.date(name, words) if field in DATE_FIELDS else form.number(name, words)
        if value is not None:
            values[field] = value
    target = form.check(NewTarget, values, MESSAGES)
    if kind is not None:
        for field in sorted(FIELDS[kind]):
            form.errors.move(field, field_name(kind, field))
    return kind, target


def words_of(field: str) -> str:
    """A kind's field as a sentence names it ("date it is due by")."""
    return NOUNS[field]


def label(kind: Kind, field: str) -> tuple[str, str]:
    """A kind's field's label and hint; "(optional)" when the kind can do without it (a
    level by date without a baseline date starts from the latest actual)."""
    words, hint = FIELD_WORDS[field]
    needed = {f for d in Direction for f in required_fields(kind, d)}
    return (words if field in needed else f"{words} (optional)"), hint


def refused(form: Form, kind: Kind, error: DomainError, direction: str | None) -> None:
    """A refusal of the domain in the form's words, on the kind's own input when it names
    one of its fields (every missing field at once)."""
    if isinstance(error, MissingFieldsError):
        for field in error.fields:
            form.errors.add(field_name(kind, field), f"Enter the {words_of(field)}")
        return
    field = error.field
    if field not in FIELDS[kind]:
        form.errors.add(field if field in MESSAGES else "name", plain(_in_words(error.message)))
        return
    if error.rule == "floor_one_level":
        message = (
            "Leave the lowest level empty: a target to stay at or below a level takes the "
            "highest level only"
            if direction == Direction.AT_MOST.value
            else "Leave the highest level empty: a target to stay at or above a level takes "
            "the lowest level only"
        )
    elif error.rule == "band_order":
        message = "The highest level must be above the lowest level"
    elif error.rule == "whole_number":
        message = f"Enter the {words_of(field)} as a whole number, like 30"
    elif error.rule == "growth_rate_negative":
        message = (
            "The change each year must be 0% or more for a target of at least the figure "
            "(growth); for a fall, choose at most the target (reduction)"
        )
    else:
        message = plain(_in_words(error.message))
    form.errors.add(field_name(kind, field), message)


def _in_words(message: str) -> str:
    """The domain's message with its field names as the form's words."""
    return CODES.sub(lambda found: NOUNS[found.group(1)], message)


def shown(form: Form, record: TargetRecord | None, today: date) -> dict[str, Any]:
    """What each input shows: what was sent, else the stored target, else empty."""
    values: dict[str, Any] = {}
    for name in ("metric", "kind", "name", "direction", "notes"):
        stored = getattr(record, name, None) if record else None
        values[name] = form.text(name) if form.data else _text(stored)
    for kind in Kind:
        for field in FIELDS[kind]:
            name = field_name(kind, field)
            stored = getattr(record, field) if record and record.kind is kind else None
            if field in DATE_FIELDS:
                values[name] = form.date_parts(name, None if form.data else stored)
            else:
                values[name] = form.text(name) if form.data else _number(stored)
    values["direction"] = values["direction"] or Direction.AT_LEAST.value
    return values


def metric_items(chosen: str | None) -> list[dict[str, Any]]:
    """The metric select's options (a percentage metric says so)."""
    items = [{"value": "", "text": "Choose a measure", "selected": not chosen}]
    for m in list_metrics():
        text = m.label[:1].upper() + m.label[1:] + (" (a percentage)" if m.percent else "")
        items.append({"value": m.key.value, "text": text, "selected": m.key.value == chosen})
    return items


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"
