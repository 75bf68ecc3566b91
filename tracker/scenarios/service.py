"""Saved scenarios: creating, changing, deleting (audited), reading and comparing an
authority's scenarios, each with the projection computed from its inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError, NotFoundError, check_version
from tracker.core.records import delete_versioned, owned
from tracker.enquiries.timeliness import london_today
from tracker.scenarios.projection import compare_projections, project, validate_new_inputs
from tracker.scenarios.schemas import (
    ComparedScenario,
    Comparison,
    Projection,
    ScenarioInputs,
    ScenarioRecord,
    ScenarioSummary,
)
from tracker.scenarios.tables import Scenario

MAX_COMPARED = 6


# --- storage --------------------------------------------------------------------------------


def _inputs_of(row: Scenario) -> ScenarioInputs:
    return msgspec.convert(row.inputs, ScenarioInputs)


def _record(row: Scenario) -> ScenarioRecord:
    inputs = _inputs_of(row)
    assert row.id is not None
    return ScenarioRecord(
        id=row.id,
        authority_code=row.authority_code,
        name=row.name,
        inputs=inputs,
        projection=project(inputs),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def preview_scenario(inputs: ScenarioInputs, *, today: date | None = None) -> Projection:
    """The projection of inputs not saved, checked as a saved scenario's are."""
    validate_new_inputs(inputs, today or london_today())
    return project(inputs)


def create_scenario(
    session: Session,
    caller: Caller,
    code: str,
    inputs: ScenarioInputs,
    *,
    today: date | None = None,
) -> ScenarioRecord:
    """Save a scenario (its inputs checked first by `validate_new_inputs`, as of `today`,
    default today in London)."""
    get_authority(session, code)
    validate_new_inputs(inputs, today or london_today())
    row = Scenario(
        authority_code=code,
        name=inputs.name.strip(),
        inputs=msgspec.to_builtins(inputs),
        created_by=caller.actor[:120],
    )
    session.add(row)
    session.flush()
    audit.record(session, caller, "create", "scenario", row.id, authority_code=code)
    session.flush()
    return _record(row)


def _load(session: Session, code: str, scenario_id: int, *, lock: bool = False) -> Scenario:
    return owned(
        session, Scenario, code, scenario_id, noun="scenario", field="scenario_id", lock=lock
    )


def update_scenario(
    session: Session,
    caller: Caller,
    code: str,
    scenario_id: int,
    inputs: ScenarioInputs,
    expected_version: int | None = None,
    *,
    today: date | None = None,
) -> ScenarioRecord:
    """Replace a scenario's inputs (refused when `expected_version` is not the stored one;
    checked as `create_scenario` checks them)."""
    row = _load(session, code, scenario_id, lock=True)
    check_version("scenario", row.id, row.version, expected_version)
    validate_new_inputs(inputs, today or london_today())
    stored = row.inputs
    new = msgspec.to_builtins(inputs)
    changed = sorted(k for k in set(stored) | set(new) if stored.get(k) != new.get(k))
    if changed:
        row.inputs = new
        row.name = inputs.name.strip()
        audit.record_update(session, caller, "scenario", row, authority_code=code, changed=changed)
    return _record(row)


def delete_scenario(
    session: Session,
    caller: Caller,
    code: str,
    scenario_id: int,
    expected_version: int | None = None,
) -> None:
    """Delete a saved scenario."""
    row = _load(session, code, scenario_id, lock=True)
    delete_versioned(
        session,
        caller,
        row,
        entity="scenario",
        authority_code=code,
        expected_version=expected_version,
    )


def get_scenario(session: Session, code: str, scenario_id: int) -> ScenarioRecord:
    """A saved scenario with its projection."""
    return _record(_load(session, code, scenario_id))


def list_scenarios(
    session: Session, code: str, *, limit: int = 100, offset: int = 0
) -> list[ScenarioSummary]:
    """The authority's saved scenarios, oldest first."""
    get_authority(session, code)
    query = (
        select(Scenario)
        .where(Scenario.authority_code == code)
        .order_by(Scenario.id)
        .limit(limit)
        .offset(offset)
    )
    summaries = []
    for row in session.scalars(query):
        inputs = row.inputs
        assert row.id is not None
        summaries.append(
            ScenarioSummary(
                id=row.id,
                name=row.name,
                baseline_year=int(inputs["baseline_year"]),
                baseline_children=int(inputs["baseline_children"]),
                years=int(inputs.get("years", 5)),
                created_by=row.created_by,
                updated_at=row.updated_at,
                version=row.version,
            )
        )
    return summaries


def compare_scenarios(session: Session, code: str, ids: Sequence[int]) -> Comparison:
    """Two to six saved scenarios side by side, in the order of `ids`."""
    if len(set(ids)) != len(ids):
        raise InvalidValueError("A scenario is named twice: choose each once", field="ids")
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise InvalidValueError(
            f"Choose 2 to {MAX_COMPARED} scenarios to compare, not {len(ids)}", field="ids"
        )
    rows = {
        row.id: row
        for row in session.scalars(
            select(Scenario).where(
                Scenario.authority_code == code,
                col(Scenario.id).in_(ids),
            )
        )
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFoundError(f"no scenario {missing[0]} in authority {code}", field="ids")
    named = []
    for i in ids:
        row = rows[i]
        scenario = ComparedScenario(id=row.id, name=row.name, version=row.version)
        named.append((scenario, project(_inputs_of(row))))
    return compare_projections(named)


# --- starting from the authority's own figures ----------------------------------------------
