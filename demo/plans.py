"""The demo's plans: the seed strategies' targets and Stoke-on-Trent's section 7 and Appendix 1
scenarios, read from `demo/data/` and saved as a manager would, so the dashboard has every seed
target and scenario to show."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from tracker.core.access import SYSTEM
from tracker.core.errors import ConflictError, InvalidValueError
from tracker.scenarios.from_actuals import scenario_inputs_from_actuals
from tracker.scenarios.schemas import ScenarioInputs
from tracker.scenarios.service import create_scenario
from tracker.targets.schemas import NewTarget
from tracker.targets.service import create_target

STAFFORDSHIRE = "E10000028"


@cache
def _seeds(name: str) -> dict[str, Any]:
    return tomllib.loads((files("demo") / "data" / name).read_text(encoding="utf-8"))


def demo_targets(code: str) -> list[NewTarget]:
    """The targets the authority's own strategy sets (none for most authorities)."""
    return [
        msgspec.convert({k: v for k, v in target.items() if k != "authority"}, NewTarget)
        for target in _seeds("targets.toml")["targets"]
        if target["authority"] == code
    ]


def appendix1_inputs(change_percent: float) -> ScenarioInputs:
    """Stoke-on-Trent's Appendix 1 (2023-28): 1,109 children in March 2023 changing by
    `change_percent` a year (the seed's -2, 0 and +2)."""
    base = _seeds("scenarios.toml")["appendix1"]
    name = f"Appendix 1: {change_percent:+g}% a year"
    return msgspec.convert({**base, "name": name, "change_percent": change_percent}, ScenarioInputs)


def stoke_planning_inputs() -> ScenarioInputs:
    """Stoke-on-Trent's planning scenario (section 7): 150 fewer children over the first two
    years (75 a year), then 2% fewer a year."""
    seeds = _seeds("scenarios.toml")
    return msgspec.convert({**seeds["appendix1"], **seeds["section7"]}, ScenarioInputs)


def seed_scenarios(session: Session, code: str, *, today: date) -> int:
    """Stoke-on-Trent's section 7 and Appendix 1 scenarios and, when the authority has SSDA903
    figures, one started from its own latest 31 March; returns how many were saved."""
    saved = 0
    seeds = _seeds("scenarios.toml")
    if code == seeds["authority"]:
        planned = [stoke_planning_inputs()]
        planned += [appendix1_inputs(change) for change in seeds["appendix1_changes"]]
        for inputs in planned:
            create_scenario(session, SYSTEM, code, inputs, today=today)
            saved += 1
    try:
        suggestion = scenario_inputs_from_actuals(session, code, today)
    except ConflictError:
        return saved
    inputs = msgspec.structs.replace(
        suggestion.inputs,
        name=f"From our SSDA903 figures, {suggestion.baseline_date:%-d %B %Y}, -2% a year",
        change_percent=-2.0,
        changes=None,
    )
    create_scenario(session, SYSTEM, code, inputs, today=today)
    return saved + 1


def seed_targets(session: Session, code: str, *, today: date) -> int:
    """The authority's targets from its own strategy (`demo_targets`); a target whose baseline
    the demo's data does not reach (a short demo) is left out. Returns how many were saved."""
    saved = 0
    for new in demo_targets(code):
        try:
            create_target(session, SYSTEM, code, new, today=today)
        except InvalidValueError:
            continue
        saved += 1
    return saved
