"""A forecast run's life: started over its series, its progress (which renews the lease),
and its end: results stored, failed, skipped, or abandoned when its process died."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import msgspec
from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.types import MonthlySeries, SeriesForecast
from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, NotFoundError
from tracker.forecasting.accuracy import seasonal_scale
from tracker.forecasting.lease import LEASE_TTL, abandon_run, release_lease, renew_lease
from tracker.forecasting.results import finite_or_none, pack_paths
from tracker.forecasting.tables import (
    ACTIVE,
    MAX_ERROR_CHARS,
    ForecastResult,
    ForecastRun,
    RunLease,
    RunStatus,
    Trigger,
)
from tracker.series.keys import parse_series_id

SKIPPED_HELD = "skipped: another process holds the lease"


# --- the lease -------------------------------------------------------------------------------


def _active_run(session: Session, run_id: int) -> ForecastRun:
    run = session.get(ForecastRun, run_id, populate_existing=True)
    if run is None:
        raise NotFoundError(f"no forecast run {run_id}", field="run_id")
    if run.status not in ACTIVE:
        raise ConflictError(
            f"forecast run {run_id} is {run.status}, not under way", rule="run_not_active"
        )
    return run


# --- run life cycle --------------------------------------------------------------------------


def start_run(
    session: Session, run_id: int, series_total: int, *, now: datetime | None = None
) -> None:
    """Mark a claimed run running over `series_total` series."""
    run = _active_run(session, run_id)
    now = now or utcnow()
    run.status = RunStatus.RUNNING.value
    run.started_at = now
    run.heartbeat_at = now
    run.series_total = series_total
    run.series_done = 0
    session.flush()


def record_progress(
    session: Session,
    run_id: int,
    done: int,
    *,
    now: datetime | None = None,
    ttl: timedelta = LEASE_TTL,
) -> bool:
    """Store how many series are done and renew the lease; False when the lease is lost."""
    now = now or utcnow()
    run = _active_run(session, run_id)
    run.series_done = min(done, run.series_total) if run.series_total else done
    run.heartbeat_at = now
    session.flush()
    return renew_lease(session, run.authority_code, run.holder or "", now=now, ttl=ttl)


def _result_row(
    run_id: int, forecast: SeriesForecast, history: MonthlySeries | None
) -> ForecastResult:
    _, metric, breakdown = parse_series_id(forecast.series_id)
    notes = list(forecast.notes)
    points = msgspec.to_builtins(forecast.points)
    numbers = [v for p in forecast.points for v in (p.mean, p.lo80, p.hi80, p.lo95, p.hi95)]
    blob, count = pack_paths(forecast.paths)
    if not all(math.isfinite(v) for v in numbers):
        points, blob, count = [], b"", 0
        notes.append("the forecast held values that are not numbers; none were stored")
    candidates = [
        {
            "model": c.model,
            "mase": finite_or_none(c.mase),
            "coverage80": finite_or_none(c.coverage80),
            "note": c.note,
        }
        for c in forecast.candidates
    ]
    return ForecastResult(
        run_id=run_id,
        series_id=forecast.series_id,
        metric=metric[:40],
        breakdown=breakdown[:80],
        cutoff=forecast.cutoff,
        model=forecast.model,
        scale=seasonal_scale(history.values) if history is not None else None,
        candidates=candidates,
        notes=notes,
        points=points,
        path_count=count,
        paths=blob,
    )


def finish_run(
    session: Session,
    run_id: int,
    forecasts: Sequence[SeriesForecast],
    series: Sequence[MonthlySeries],
    *,
    now: datetime | None = None,
) -> None:
    """Store every series' forecast, mark the run succeeded and release the lease."""
    run = _active_run(session, run_id)
    now = now or utcnow()
    history = {s.series_id: s for s in series}
    session.add_all(_result_row(run_id, f, history.get(f.series_id)) for f in forecasts)
    run.status = RunStatus.SUCCEEDED.value
    run.series_total = max(run.series_total, len(forecasts))
    run.series_done = len(forecasts)
    run.finished_at = now
    run.heartbeat_at = now
    release_lease(session, run.authority_code, run.holder or "", now)
    session.flush()


def fail_run(session: Session, run_id: int, error: str, *, now: datetime | None = None) -> None:
    """Record a run's failure and its error, and release the lease."""
    now = now or utcnow()
    run = session.get(ForecastRun, run_id, populate_existing=True)
    if run is None:
        raise NotFoundError(f"no forecast run {run_id}", field="run_id")
    if run.status in ACTIVE:
        run.status = RunStatus.FAILED.value
        run.error = error[:MAX_ERROR_CHARS]
        run.finished_at = now
    release_lease(session, run.authority_code, run.holder or "", now)
    session.flush()


def record_skipped(
    session: Session,
    code: str,
    *,
    trigger: Trigger,
    triggered_by: str,
    cutoff: date,
    horizon: int,
    models: Sequence[str],
    reason: str = SKIPPED_HELD,
    attempt: int = 1,
    now: datetime | None = None,
) -> int:
    """Record a run that did not start (another process holds the lease)."""
    now = now or utcnow()
    run = ForecastRun(
        authority_code=code,
        trigger=trigger.value,
        triggered_by=triggered_by,
        status=RunStatus.SKIPPED.value,
        attempt=attempt,
        cutoff=cutoff.replace(day=1),
        horizon=horizon,
        models=list(models),
        created_at=now,
        finished_at=now,
        error=reason[:MAX_ERROR_CHARS],
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def abandon_runs_of(
    session: Session, gone: Callable[[str], bool], *, now: datetime | None = None
) -> list[int]:
    """Mark failed every queued or running run whose holder `gone` says has stopped (its
    process died before its lease lapsed) and release that holder's leases; their ids."""
    now = now or utcnow()
    active = session.execute(
        select(ForecastRun.id, ForecastRun.holder).where(col(ForecastRun.status).in_(ACTIVE))
    ).all()
    dead = {holder for _, holder in active if holder and gone(holder)}
    abandoned = [
        run_id for run_id, holder in active if holder in dead and abandon_run(session, run_id, now)
    ]
    for holder in dead:
        session.execute(
            update(RunLease).where(RunLease.holder == holder).values(holder=None, expires_at=now)
        )
    session.flush()
    return abandoned


def mark_abandoned(session: Session, *, now: datetime | None = None) -> list[int]:
    """Mark failed every queued or running run whose lease has lapsed or passed to another
    run (its process stopped); returns their ids."""
    now = now or utcnow()
    live = {
        run_id
        for (run_id,) in session.execute(
            select(RunLease.run_id).where(
                col(RunLease.holder).is_not(None),
                col(RunLease.expires_at) > now,
            )
        )
    }
    stale = [
        run_id
        for run_id in session.scalars(
            select(ForecastRun.id).where(col(ForecastRun.status).in_(ACTIVE))
        )
        if run_id not in live
    ]
    abandoned = [
        run_id for run_id in stale if run_id is not None and abandon_run(session, run_id, now)
    ]
    session.flush()
    return abandoned


# --- reading runs and results ----------------------------------------------------------------
