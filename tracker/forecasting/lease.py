"""The lease that lets one forecast run at a time per authority.

A run holds its authority's lease (`forecast_lease`) from the moment it is claimed until it
finishes or fails; the lease expires `LEASE_TTL` after its last renewal, so a run whose process
died stops blocking the next one, which marks it failed ("abandoned") when it takes over.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, TooSoonError
from tracker.forecasting.tables import (
    ACTIVE,
    ForecastRun,
    RunLease,
    RunStatus,
    Trigger,
)

# A running job renews its lease every LEASE_TTL / 4; a lease not renewed for LEASE_TTL is
# free, so a crashed run blocks its authority for at most two minutes.
LEASE_TTL = timedelta(minutes=2)


class LeaseHeldError(ConflictError):
    """Another run of the authority holds the lease."""

    rule = "forecast_running"

    def __init__(self, authority_code: str, run_id: int | None, expires_at: datetime) -> None:
        super().__init__(
            f"a forecast run of {authority_code} is under way (run {run_id}, lease until "
            f"{expires_at:%Y-%m-%d %H:%M:%S} UTC)",
            field="authority",
        )
        self.run_id = run_id


class AlreadyForecastError(ConflictError):
    """A scheduled run has already forecast this cut-off month for the authority."""

    rule = "already_forecast"


def _ensure_lease_row(session: Session, code: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RunLease).values(authority_code=code).on_conflict_do_nothing()
    session.execute(statement)


def _locked_lease(session: Session, code: str) -> RunLease:
    """The authority's lease row, locked until the transaction ends (PostgreSQL; SQLite's
    writing session already holds the database's write lock)."""
    _ensure_lease_row(session, code)
    query = (
        select(RunLease)
        .where(RunLease.authority_code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one()


def abandon_run(session: Session, run_id: int, now: datetime) -> bool:
    """Mark a run still under way failed as abandoned (its process stopped renewing the
    lease); False when it had already ended."""
    run = session.get(ForecastRun, run_id, populate_existing=True)
    if run is None or run.status not in ACTIVE:
        return False
    last = run.heartbeat_at or run.created_at
    run.status = RunStatus.FAILED.value
    run.finished_at = now
    run.error = (
        "abandoned: the process running it stopped renewing its lease "
        f"(last heartbeat {last:%Y-%m-%d %H:%M:%S} UTC)"
    )
    return True


def _check_cooldown(session: Session, code: str, cooldown: timedelta, now: datetime) -> None:
    latest = session.scalar(
        select(func.max(ForecastRun.created_at)).where(
            ForecastRun.authority_code == code, ForecastRun.status != RunStatus.SKIPPED.value
        )
    )
    if latest is None:
        return
    wait = (latest if latest.tzinfo else latest.replace(tzinfo=UTC)) + cooldown - now
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooSoonError(
            f"a forecast run of {code} started less than {cooldown.total_seconds():.0f} s ago;"
            f" start another in {seconds} s",
            retry_after_s=seconds,
            field="authority",
        )


def claim_run(
    session: Session,
    code: str,
    *,
    trigger: Trigger,
    triggered_by: str,
    holder: str,
    cutoff: date,
    horizon: int,
    models: Sequence[str],
    attempt: int = 1,
    done_since: datetime | None = None,
    cooldown: timedelta | None = None,
    now: datetime | None = None,
    ttl: timedelta = LEASE_TTL,
) -> int:
    """Take the authority's lease and record a queued run; LeaseHeldError while another
    run holds it. A run left 'running' by a lease that expired is marked abandoned.

    With `cooldown` (runs people start), TooSoonError until that long after the authority's
    latest run was claimed, whatever started it: a run costs minutes of the machine.

    With `done_since` (scheduled runs), AlreadyForecastError when a scheduled run created
    since then has already succeeded for this cut-off month: checked under the lease's lock,
    so a schedule that fires in two processes one just after the other (the second having
    read the job as due before the first moved it on) still runs once.
    """
    get_authority(session, code)
    now = now or utcnow()
    cutoff = cutoff.replace(day=1)
    lease = _locked_lease(session, code)
    if lease.holder is not None and lease.expires_at is not None and lease.expires_at > now:
        raise LeaseHeldError(code, lease.run_id, lease.expires_at)
    if cooldown is not None:
        _check_cooldown(session, code, cooldown, now)
    if done_since is not None:
        done = session.scalars(
            select(ForecastRun.id)
            .where(
                ForecastRun.authority_code == code,
                ForecastRun.trigger == Trigger.SCHEDULE.value,
                ForecastRun.cutoff == cutoff,
                ForecastRun.status == RunStatus.SUCCEEDED.value,
                col(ForecastRun.created_at) >= done_since,
            )
            .limit(1)
        ).first()
        if done is not None:
            raise AlreadyForecastError(
                f"skipped: {cutoff:%Y-%m} is already forecast by scheduled run {done}"
            )
    if lease.run_id is not None:
        abandon_run(session, lease.run_id, now)
    run = ForecastRun(
        authority_code=code,
        trigger=trigger.value,
        triggered_by=triggered_by,
        status=RunStatus.QUEUED.value,
        attempt=attempt,
        cutoff=cutoff,
        horizon=horizon,
        models=list(models),
        created_at=now,
        heartbeat_at=now,
        holder=holder,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    lease.holder, lease.run_id, lease.expires_at = holder, run.id, now + ttl
    session.flush()
    return run.id


def renew_lease(
    session: Session,
    code: str,
    holder: str,
    *,
    now: datetime | None = None,
    ttl: timedelta = LEASE_TTL,
) -> bool:
    """Extend the lease this holder has; False when it no longer has it."""
    now = now or utcnow()
    result = session.execute(
        update(RunLease)
        .where(RunLease.authority_code == code, RunLease.holder == holder)
        .values(expires_at=now + ttl)
    )
    renewed = result.rowcount == 1  # type: ignore[attr-defined]
    if renewed:
        session.execute(
            update(ForecastRun)
            .where(col(ForecastRun.holder) == holder, col(ForecastRun.status).in_(ACTIVE))
            .values(heartbeat_at=now)
        )
    return renewed


def release_lease(session: Session, code: str, holder: str, now: datetime) -> None:
    """Free the authority's lease if this holder has it."""
    session.execute(
        update(RunLease)
        .where(RunLease.authority_code == code, RunLease.holder == holder)
        .values(holder=None, expires_at=now)
    )
