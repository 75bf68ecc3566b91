"""The scenario form: a manager's assumptions read into the `ScenarioInputs` the JSON API
takes. Shares of children in care are entered as percentages (70 for 70%) and the yearly
path as a list ("-75, -75, -2%": 75 fewer, 75 fewer, then 2% fewer a year)."""

from __future__ import annotations

import re
from typing import Any

from api.dashboard.forms import Form, plain
from tracker.core.errors import DomainError
from tracker.scenarios.schemas import (
    LABELS,
    ChangeKind,
    ScenarioInputs,
    WeeklyCosts,
    YearChange,
)

WHOLE = ("baseline_year", "baseline_children", "inhouse_foster_baseline", "connected_baseline",
         "years", "inhouse_home_places_baseline")  # fmt: skip
COUNTS = ("baseline_children", "inhouse_foster_baseline", "connected_baseline",
          "inhouse_home_places_baseline")  # fmt: skip
MIX = ("foster", "childrens_homes", "supported_accommodation")
COSTS = tuple(WeeklyCosts.__struct_fields__)
PARTS = ("inhouse_foster_baseline", "connected_baseline")
INPUTS: dict[str, str] = {
    field: field.replace("care_mix.", "mix-").replace("weekly_costs.", "cost-") for field in LABELS
} | {"care_mix": "mix-foster"}
"""The form's input of each API field (a refusal of the whole mix is shown on its first)."""
WORDS: dict[str, str] = {
    INPUTS[field]: words.removeprefix("the ") for field, words in LABELS.items() if "." not in field
} | {INPUTS[field]: words.removeprefix("the ") for field, words in LABELS.items() if "." in field}
"""Each input in words, no article: "share in foster care"."""
STEP = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(%?)$")
ADDITION = re.compile(r"^(\d{4})\s*[:=]\s*(\d+)$")


def read_scenario(form: Form) -> ScenarioInputs | None:
    """The scenario's inputs from the form; None with errors on the inputs when a value
    cannot be read (the projection's own checks come from the domain when it is saved)."""
    values: dict[str, Any] = {"name": form.text("name")}
    if values["name"] is None:
        form.errors.add("name", _enter("name"))
    for name in WHOLE:
        number = form.number(name, WORDS[name])
        if number is not None and not number.is_integer():
            form.errors.add(name, f"{_sentence(name)} must be a whole number")
        values[name] = int(number) if number is not None and number.is_integer() else None
    for name in ("inhouse_growth_percent", "weeks_per_year"):
        values[name] = form.number(name, WORDS[name])
    if form.text("path") == "steps":
        values["changes"] = _steps(form)
    else:
        values["change_percent"] = form.number("change_percent", WORDS["change_percent"])
        if values["change_percent"] is None and "change_percent" not in form.errors:
            form.errors.add("change_percent", "Enter the change each year, like -2 for 2% fewer")
    mix = {part: form.number(f"mix-{part}", WORDS[f"mix-{part}"]) for part in MIX}
    values["care_mix"] = {k: v / 100 for k, v in mix.items() if v is not None}
    costs = {c: form.number(f"cost-{c}", WORDS[f"cost-{c}"]) for c in COSTS}
    values["weekly_costs"] = {k: v for k, v in costs.items() if v is not None}
    values["inhouse_home_additions"] = _additions(form)
    given = {k: v for k, v in values.items() if v is not None}
    for required in ("name", "baseline_year", "baseline_children", "inhouse_foster_baseline",
                     "connected_baseline"):  # fmt: skip
        if required not in given and required not in form.errors:
            form.errors.add(required, _enter(required))
    return form.check(ScenarioInputs, given, {k: f"Check {v}" for k, v in LABELS.items()})


def refused(form: Form, error: DomainError) -> None:
    """A refusal of the domain shown on the input it names (children with in-house and with
    connected carers who come to more than the children in care: on both)."""
    field = error.field or "name"
    if field.startswith("changes["):
        field = "changes"
    elif field.startswith("inhouse_home_additions."):
        field = "inhouse_home_additions"
    inputs = PARTS if error.rule == "baseline_parts" else (INPUTS.get(field, "name"),)
    for name in inputs:
        form.errors.add(name, plain(error.message))


def _sentence(field: str) -> str:
    """The field in words as a sentence starts: "The baseline year", "Children in care..."."""
    words = LABELS[field]
    return words[:1].upper() + words[1:]


def _enter(field: str) -> str:
    """What an empty required input says: "Enter the number of children in care at..."."""
    return f"Enter the number of {LABELS[field]}" if field in COUNTS else f"Enter {LABELS[field]}"


def _steps(form: Form) -> list[dict[str, Any]] | None:
    raw = form.text("changes") or ""
    steps = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        found = STEP.match(part)
        if found is None:
            form.errors.add(
                "changes",
                f"Write each year's change as a number or a percentage (-75 or -2%), not {part!r}",
            )
            return None
        kind = ChangeKind.PERCENT if found.group(2) else ChangeKind.ABSOLUTE
        steps.append(YearChange(kind=kind, value=float(found.group(1))))
    if not steps:
        form.errors.add("changes", "Enter the path, like -75, -75, -2%")
        return None
    return [{"kind": s.kind.value, "value": s.value} for s in steps]


def _additions(form: Form) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in filter(
        None, (p.strip() for p in (form.text("inhouse_home_additions") or "").split(","))
    ):
        match = ADDITION.match(part)
        if match is None:
            form.errors.add(
                "inhouse_home_additions",
                f"Write each year's places as year: places, like 2024: 10, not {part!r}",
            )
            return {}
        found[match.group(1)] = int(match.group(2))
    return found


def shown(form: Form, inputs: ScenarioInputs | None) -> dict[str, Any]:
    """What each input shows: what was sent, else the stored or suggested inputs."""
    if form.data:
        return {k: form.text(k) or "" for k in form.data}
    inputs = inputs or ScenarioInputs(name="", baseline_year=0, baseline_children=0,
                                      inhouse_foster_baseline=0, connected_baseline=0,
                                      change_percent=-2.0)  # fmt: skip
    values: dict[str, Any] = {
        "name": inputs.name,
        **{n: str(getattr(inputs, n)) if getattr(inputs, n) else "" for n in WHOLE},
        "years": str(inputs.years),
        "inhouse_growth_percent": f"{inputs.inhouse_growth_percent:g}",
        "weeks_per_year": f"{inputs.weeks_per_year:g}",
        "path": "steps" if inputs.changes else "percent",
        "change_percent": "" if inputs.change_percent is None else f"{inputs.change_percent:g}",
        "changes": ", ".join(
            f"{c.value:g}" + ("%" if c.kind is ChangeKind.PERCENT else "")
            for c in inputs.changes or []
        ),
        "inhouse_home_additions": ", ".join(
            f"{y}: {n}" for y, n in inputs.inhouse_home_additions.items()
        ),
    }
    values |= {f"mix-{p}": f"{getattr(inputs.care_mix, p) * 100:.3g}" for p in MIX}
    values |= {f"cost-{c}": f"{getattr(inputs.weekly_costs, c):g}" for c in COSTS}
    return values
