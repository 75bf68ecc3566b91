"""Reading forecast runs and their results: a run's record, every series' latest forecast,
and the stored sample paths.

Sample paths are stored per series as little-endian float32 bytes (paths x horizon), so a few
hundred paths of 24 months take some 50 kB and can be read back for "what is the chance of
reaching X" questions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from forecast.types import CandidateScore, ForecastPoint
from tracker.core.authorities import get_authority
from tracker.core.errors import NotFoundError
from tracker.forecasting.tables import (
    ForecastResult,
    ForecastRun,
    RunStatus,
    Trigger,
)


class RunRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A run as listed: status and progress (series done of total). `triggered_by` names the
    token that started it ("manager:name#id"), or to readers outside the authority only its
    role ("manager")."""

    id: int
    authority_code: str
    trigger: Trigger
    triggered_by: str
    status: RunStatus
    attempt: int
    cutoff: date
    horizon: int
    models: list[str]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    series_total: int
    series_done: int
    error: str | None


class SeriesResult(msgspec.Struct, frozen=True, kw_only=True):
    """The forecast of one series in one run; `paths` only when asked for. `withheld` says
    what is not shown to readers outside the authority (`tracker.forecasting.withheld`)."""

    run_id: int
    series_id: str
    metric: str
    breakdown: str
    cutoff: date
    model: str
    candidates: list[CandidateScore]
    notes: list[str]
    points: list[ForecastPoint]
    paths: list[list[float]] | None = None
    withheld: str | None = None


class LatestSeries(msgspec.Struct, frozen=True, kw_only=True):
    """A series with a stored forecast, and the run its latest forecast comes from."""

    series_id: str
    metric: str
    breakdown: str
    run_id: int
    run_created_at: datetime
    cutoff: date
    model: str


class RunResults(msgspec.Struct, frozen=True, kw_only=True):
    """A run and the forecast of every series it covered."""

    run: RunRecord
    results: list[SeriesResult]


def finite_or_none(value: float | None) -> float | None:
    """The value when it is a finite number, else None (stored JSON holds no NaN)."""
    return value if value is not None and math.isfinite(value) else None


def pack_paths(paths: Sequence[Sequence[float]]) -> tuple[bytes, int]:
    """Sample paths as float32 bytes and how many paths there are."""
    if not paths:
        return b"", 0
    array = np.asarray(paths, dtype="<f4")
    return array.tobytes(), int(array.shape[0])


def unpack_paths(blob: bytes, count: int) -> np.ndarray:
    """The paths x horizon array of stored sample paths."""
    if not count:
        return np.zeros((0, 0), dtype="<f4")
    return np.frombuffer(blob, dtype="<f4").reshape(count, -1)


def _run_record(row: ForecastRun, name_staff: bool = True) -> RunRecord:
    assert row.id is not None
    return RunRecord(
        id=row.id,
        authority_code=row.authority_code,
        trigger=Trigger(row.trigger),
        triggered_by=row.triggered_by if name_staff else row.triggered_by.partition(":")[0],
        status=RunStatus(row.status),
        attempt=row.attempt,
        cutoff=row.cutoff,
        horizon=row.horizon,
        models=list(row.models),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
        series_total=row.series_total,
        series_done=row.series_done,
        error=row.error,
    )


def _series_result(row: ForecastResult, with_paths: bool) -> SeriesResult:
    paths = None
    if with_paths:
        paths = [
            [round(float(v), 4) for v in path] for path in unpack_paths(row.paths, row.path_count)
        ]
    return SeriesResult(
        run_id=row.run_id,
        series_id=row.series_id,
        metric=row.metric,
        breakdown=row.breakdown,
        cutoff=row.cutoff,
        model=row.model,
        candidates=msgspec.convert(row.candidates, list[CandidateScore]),
        notes=list(row.notes),
        points=msgspec.convert(row.points, list[ForecastPoint]),
        paths=paths,
    )


def get_run(session: Session, code: str, run_id: int, *, name_staff: bool = True) -> RunRecord:
    """One run of the authority, with its status and progress (`name_staff=False`: who
    started it by role only, for readers outside the authority)."""
    row = session.get(ForecastRun, run_id)
    if row is None or row.authority_code != code:
        raise NotFoundError(f"no forecast run {run_id} for {code}", field="run_id")
    return _run_record(row, name_staff)


def list_runs(
    session: Session, code: str, *, limit: int = 50, offset: int = 0, name_staff: bool = True
) -> list[RunRecord]:
    """The authority's runs, newest first (`name_staff` as for `get_run`)."""
    get_authority(session, code)
    query = (
        select(ForecastRun)
        .where(ForecastRun.authority_code == code)
        .order_by(col(ForecastRun.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [_run_record(r, name_staff) for r in session.scalars(query)]


def run_results(session: Session, code: str, run_id: int, *, name_staff: bool = True) -> RunResults:
    """A run and the forecasts it stored (without sample paths; `name_staff` as for
    `get_run`)."""
    run = get_run(session, code, run_id, name_staff=name_staff)
    rows = session.scalars(
        select(ForecastResult)
        .where(col(ForecastResult.run_id) == run_id)
        .order_by(col(ForecastResult.id))
    )
    return RunResults(run=run, results=[_series_result(r, False) for r in rows])


def succeeded(code: str) -> list[Any]:
    """SQL conditions: a result of a succeeded run of the authority."""
    return [
        ForecastResult.run_id == ForecastRun.id,
        ForecastRun.authority_code == code,
        ForecastRun.status == RunStatus.SUCCEEDED.value,
    ]


def latest_series(session: Session, code: str) -> list[LatestSeries]:
    """Every series with a stored forecast and the latest succeeded run that covers it."""
    get_authority(session, code)
    latest = (
        select(ForecastResult.series_id, func.max(ForecastResult.run_id).label("run_id"))
        .where(*succeeded(code))
        .group_by(ForecastResult.series_id)
        .subquery()
    )
    query = (
        select(ForecastResult, ForecastRun.created_at)
        .join(
            latest,
            (latest.c.series_id == ForecastResult.series_id)
            & (latest.c.run_id == ForecastResult.run_id),
        )
        .join(ForecastRun, ForecastRun.id == ForecastResult.run_id)
        .order_by(ForecastResult.series_id)
    )
    return [
        LatestSeries(
            series_id=r.series_id,
            metric=r.metric,
            breakdown=r.breakdown,
            run_id=r.run_id,
            run_created_at=created_at,
            cutoff=r.cutoff,
            model=r.model,
        )
        for r, created_at in session.execute(query)
    ]


def latest_forecast(
    session: Session, code: str, series_id: str, *, with_paths: bool = False
) -> SeriesResult:
    """The forecast of a series from the latest succeeded run that covers it."""
    get_authority(session, code)
    row = session.scalars(
        select(ForecastResult)
        .where(ForecastResult.series_id == series_id, *succeeded(code))
        .order_by(col(ForecastResult.run_id).desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no forecast of {series_id} for {code}", field="series_id")
    return _series_result(row, with_paths)
