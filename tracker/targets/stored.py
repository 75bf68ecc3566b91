"""Stored trajectories: each target's trajectory computed once and served from the
`target_trajectory` table while its basis holds, so the overview and targets pages read one
row per target instead of rebuilding every trajectory from the council's records.

A stored trajectory is stale, and computed and stored again when next asked for, if:
- the target changed (its version or update time differ from those it was computed on);
- a newer forecast run of the council succeeded (another latest successful run id);
- a newer change of the council's data was audited (another latest audit id, leaving out
  audited reads such as exports and the targets' own entries, which the version covers);
- the day changed (it was computed as at another day);
- the placement mapping differs from the one it was computed with; or
- it was computed more than `MAX_AGE` (1 hour) ago, which bounds how stale figures written
  without an audit entry can be.

`tracker.targets.trajectories` stays the reference: a stored trajectory is exactly what it
returned, encoded as msgspec JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.children.mapping import Mapping, load_mapping, mapping_digest
from tracker.core.audit import READ_ACTIONS, AuditEntry
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.forecasting.tables import ForecastRun, RunStatus
from tracker.targets import service as targets
from tracker.targets import trajectories as fresh
from tracker.targets.schemas import TargetRecord
from tracker.targets.tables import TargetTrajectory

log = logging.getLogger("fostering.targets")

MAX_AGE = timedelta(hours=1)
"""A stored trajectory older than this is computed again, whatever its basis."""
OWN_ENTITY = "target"
"""Targets' own audit entries: a target's version already says when it changed."""


class Basis(msgspec.Struct, frozen=True, kw_only=True):
    """What the council's trajectories are computed on, besides each target itself."""

    forecast_run_id: int | None
    audit_id: int | None
    mapping_digest: str


class Stored(msgspec.Struct, frozen=True, kw_only=True):
    """A trajectory as served, with when it was computed."""

    trajectory: fresh.Trajectory
    computed_at: datetime


def basis(session: Session, code: str, mapping: Mapping) -> Basis:
    """The council's latest successful forecast run and latest audited change (two index
    lookups), with the mapping's fingerprint."""
    run_id = session.scalar(
        select(func.max(ForecastRun.id)).where(
            col(ForecastRun.authority_code) == code,
            col(ForecastRun.status) == RunStatus.SUCCEEDED.value,
        )
    )
    audit_id = session.scalar(
        select(func.max(AuditEntry.id)).where(
            col(AuditEntry.authority_code) == code,
            col(AuditEntry.entity) != OWN_ENTITY,
            col(AuditEntry.action).not_in(READ_ACTIONS),
        )
    )
    return Basis(forecast_run_id=run_id, audit_id=audit_id, mapping_digest=mapping_digest(mapping))


def is_valid(
    row: TargetTrajectory, record: TargetRecord, found: Basis, today: date, now: datetime
) -> bool:
    """Whether a stored trajectory still holds (the rules are in the module's docstring)."""
    return (
        row.target_version == record.version
        and row.target_updated_at == record.updated_at
        and row.forecast_run_id == found.forecast_run_id
        and row.audit_id == found.audit_id
        and row.mapping_digest == found.mapping_digest
        and row.as_at == today
        and now - row.computed_at <= MAX_AGE
    )


def _row(trajectory: fresh.Trajectory, found: Basis, today: date) -> TargetTrajectory:
    record = trajectory.target
    return TargetTrajectory(
        target_id=record.id,
        authority_code=record.authority_code,
        target_version=record.version,
        target_updated_at=record.updated_at,
        forecast_run_id=found.forecast_run_id,
        audit_id=found.audit_id,
        mapping_digest=found.mapping_digest,
        as_at=today,
        computed_at=utcnow(),
        body=msgspec.json.encode(trajectory),
    )


def decoded(row: TargetTrajectory) -> Stored:
    """The trajectory a stored row holds."""
    trajectory = msgspec.json.decode(row.body, type=fresh.Trajectory)
    return Stored(trajectory=trajectory, computed_at=row.computed_at)


def _store(session: Session, rows: Iterable[TargetTrajectory]) -> None:
    for row in rows:
        session.merge(row)
    session.flush()


def _store_apart(database: Database, rows: list[TargetTrajectory]) -> None:
    """Store in a transaction of its own (reads run in read sessions). Storing is a cache:
    when it fails (another request stored the same target first, the database is busy) the
    trajectory is still served and is stored on a later read."""
    if not rows:
        return
    try:
        with database.writing() as session:
            _store(session, rows)
    except (IntegrityError, DBAPIError) as exc:
        log.warning("stored trajectories not saved: %s", type(exc).__name__)


def _computed(
    session: Session,
    code: str,
    records: list[TargetRecord],
    stored: dict[int, TargetTrajectory],
    found: Basis,
    today: date,
    mapping: Mapping,
) -> tuple[list[Stored], list[TargetTrajectory]]:
    """Each record's trajectory, from storage when valid; and the rows to store."""
    now = utcnow()
    served_list, new_rows = [], []
    for record in records:
        row = stored.get(record.id)
        if row is not None and is_valid(row, record, found, today, now):
            served_list.append(decoded(row))
            continue
        trajectory = fresh.of_record(session, code, record, today=today, mapping=mapping)
        new_row = _row(trajectory, found, today)
        served_list.append(Stored(trajectory=trajectory, computed_at=new_row.computed_at))
        new_rows.append(new_row)
    return served_list, new_rows


def served(
    session: Session,
    code: str,
    *,
    today: date,
    mapping: Mapping | None = None,
    database: Database | None = None,
) -> list[Stored]:
    """Every target's trajectory, oldest target first: stored ones while valid, the others
    computed now and stored (apart, in `database`, when given; else in `session`, which the
    caller commits)."""
    mapping = mapping or load_mapping()
    records = targets.list_targets(session, code)
    if not records:
        return []
    found = basis(session, code, mapping)
    query = select(TargetTrajectory).where(col(TargetTrajectory.authority_code) == code)
    stored = {row.target_id: row for row in session.scalars(query)}
    result, new_rows = _computed(session, code, records, stored, found, today, mapping)
    _save(session, database, new_rows)
    return result


def served_one(
    session: Session,
    code: str,
    target_id: int,
    *,
    today: date,
    mapping: Mapping | None = None,
    database: Database | None = None,
) -> Stored:
    """One target's trajectory, stored while valid, else computed now and stored (as
    `served`)."""
    mapping = mapping or load_mapping()
    record = targets.get_target(session, code, target_id)
    found = basis(session, code, mapping)
    row = session.get(TargetTrajectory, target_id)
    stored = {target_id: row} if row is not None else {}
    result, new_rows = _computed(session, code, [record], stored, found, today, mapping)
    _save(session, database, new_rows)
    return result[0]


def _save(session: Session, database: Database | None, rows: list[TargetTrajectory]) -> None:
    if database is None:
        _store(session, rows)
    else:
        _store_apart(database, rows)


def refresh(
    session: Session, code: str, *, today: date, mapping: Mapping | None = None
) -> list[Stored]:
    """Compute and store every target's trajectory now, in `session` (the caller commits)."""
    mapping = mapping or load_mapping()
    records = targets.list_targets(session, code)
    found = basis(session, code, mapping)
    result, rows = _computed(session, code, records, {}, found, today, mapping)
    _store(session, rows)
    return result


def refresh_target(
    session: Session, code: str, target_id: int, *, today: date, mapping: Mapping | None = None
) -> Stored:
    """Compute and store one target's trajectory now, in `session` (the caller commits)."""
    mapping = mapping or load_mapping()
    record = targets.get_target(session, code, target_id)
    found = basis(session, code, mapping)
    result, rows = _computed(session, code, [record], {}, found, today, mapping)
    _store(session, rows)
    return result[0]


def forget(session: Session, target_id: int) -> None:
    """Drop a target's stored trajectory (when the target is deleted)."""
    session.execute(delete(TargetTrajectory).where(col(TargetTrajectory.target_id) == target_id))
