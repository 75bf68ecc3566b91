"""The demo's plans: the seed strategies' targets and Stoke-on-Trent's Appendix 1 scenarios,
saved as a manager would, so the dashboard has every seed target and scenario to show."""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy.orm import Session

from tracker.core.access import SYSTEM
from tracker.core.errors import ConflictError, InvalidValueError
from tracker.scenarios.service import (
    appendix1_inputs,
    create_scenario,
    scenario_inputs_from_actuals,
    stoke_planning_inputs,
)
from tracker.targets.service import create_target, demo_targets

STOKE = "E06000021"


def seed_scenarios(session: Session, code: str, *, today: date) -> int:
    """Stoke-on-Trent's section 7 and Appendix 1 scenarios and, when the authority has SSDA903
    figures, one started from its own latest 31 March; returns how many were saved."""
    saved = 0
    if code == STOKE:
        for inputs in (
            stoke_planning_inputs(),
            appendix1_inputs(-2.0),
            appendix1_inputs(0.0),
            appendix1_inputs(2.0),
        ):
            create_scenario(session, SYSTEM, code, inputs)
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
    create_scenario(session, SYSTEM, code, inputs)
    return saved + 1


def seed_targets(session: Session, code: str, *, today: date) -> int:
    """The authority's targets from its own strategy (`tracker.targets.demo_targets`); a target
    whose baseline the demo's data does not reach (a short demo) is left out. Returns how many
    were saved."""
    saved = 0
    for new in demo_targets(code):
        try:
            create_target(session, SYSTEM, code, new, today=today)
        except InvalidValueError:
            continue
        saved += 1
    return saved
