"""Strategy targets: what a council has committed to, measured on one of its metrics.

A target is stored with its kind and the fields that kind takes (see `NewTarget`); its
arithmetic (path, milestones, chances) is in `tracker.targets.kinds`, and its trajectory
against actuals and forecasts in `tracker.targets.trajectories`, stored by
`tracker.targets.stored` when a target is set or changed. Creating, changing and deleting a
target are audited by field name.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.months import (
    month_start,
)
from tracker.children.mapping import Mapping
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import check_version
from tracker.core.records import delete_versioned, owned
from tracker.targets import stored
from tracker.targets.kinds import FIELDS, Direction, Kind, TargetSpec, target_spec
from tracker.targets.metrics import MetricKey
from tracker.targets.schemas import NewTarget, TargetRecord
from tracker.targets.tables import Target
from tracker.targets.validation import OPTIONAL_FIELDS, _checked, _validated
from tracker.targets.wording import summary

# --- what a target is given as, and shown as ------------------------------------------------


# --- validation ------------------------------------------------------------------------------


# --- reading and writing ---------------------------------------------------------------------


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
    """The target's arithmetic: its kind's struct, starting at its baseline month (kinds with
    a baseline), else its start date's month (or the month it was set)."""
    if "baseline_date" in FIELDS[record.kind]:
        assert record.baseline_date is not None
        start = month_start(record.baseline_date)
    else:
        start = month_start(record.start_date or record.created_at.date())
    return target_spec(
        kind=record.kind,
        start=start,
        end=month_start(record.target_date) if record.target_date else None,
        direction=record.direction,
        baseline_value=record.baseline_value,
        annual_rate=record.annual_rate,
        target_value=record.target_value,
        lower=record.lower,
        upper=record.upper,
    )


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
    stored.refresh_target(session, code, row.id, today=today, mapping=mapping)
    return to_record(row)


def _load(session: Session, code: str, target_id: int, *, lock: bool = False) -> Target:
    return owned(session, Target, code, target_id, noun="target", field="target_id", lock=lock)


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
        stored.refresh_target(session, code, row.id, today=today, mapping=mapping)
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
    stored.forget(session, target_id)
    delete_versioned(
        session,
        caller,
        row,
        entity="target",
        authority_code=code,
        expected_version=expected_version,
    )


def get_target(session: Session, code: str, target_id: int) -> TargetRecord:
    """One target of the authority."""
    return to_record(_load(session, code, target_id))


def list_targets(session: Session, code: str) -> list[TargetRecord]:
    """The authority's targets, oldest first."""
    get_authority(session, code)
    query = select(Target).where(col(Target.authority_code) == code).order_by(col(Target.id))
    return [to_record(row) for row in session.scalars(query)]
