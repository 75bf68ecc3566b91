"""Forecast runs and their results: the series an authority's forecasts cover, the runs that
forecast them (kept as vintages), the lease that lets one run at a time per authority, and the
accuracy of past vintages against the actuals that have since arrived.

A run holds its authority's lease (`forecast_lease`) from the moment it is claimed until it
finishes or fails; the lease expires `LEASE_TTL` after its last renewal, so a run whose process
died stops blocking the next one, which marks it failed ("abandoned") when it takes over.

Sample paths are stored per series as little-endian float32 bytes (paths x horizon), so a few
hundred paths of 24 months take some 50 kB and can be read back for "what is the chance of
reaching X" questions.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from forecast.months import add_months, month_end
from forecast.types import CandidateScore, ForecastPoint, MonthlySeries, SeriesForecast
from tracker.capacity.figures import monthly_flows
from tracker.children import figures
from tracker.children.mapping import Mapping, load_mapping
from tracker.children.tables import CareEpisode, MonthlyAggregate
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import ConflictError, NotFoundError
from tracker.core.sql import month_of
from tracker.enquiries.funnel import monthly_series
from tracker.enquiries.service import Enquiry
from tracker.enquiries.vocabulary import Channel
from tracker.households.care_types import (
    AGE_BANDS,
    HouseholdCareType,
    HouseholdStatus,
    PlacementCategory,
)
from tracker.households.service import HouseholdVersion

# A running job renews its lease every LEASE_TTL / 4; a lease not renewed for LEASE_TTL is
# free, so a crashed run blocks its authority for at most two minutes.
LEASE_TTL = timedelta(minutes=2)
# The longest history a series is given: ten years of months.
MAX_HISTORY_MONTHS = 120
MAX_ERROR_CHARS = 2000
SKIPPED_HELD = "skipped: another process holds the lease"


class RunStatus(enum.StrEnum):
    """Where a forecast run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class Trigger(enum.StrEnum):
    """What started a run."""

    SCHEDULE = "schedule"
    API = "api"
    CLI = "cli"


ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)

# Each metric and the data it comes from: a source is only read when one of its metrics is
# wanted (for the accuracy of past vintages, say).
SOURCES: dict[str, str] = {
    "enquiries": "funnel",
    "applications": "funnel",
    "approvals": "funnel",
    "deregistrations": "register",
    "net_households": "register",
    "households": "register",
    "filled_places": "register",
    "starters": "ssda903",
    "ceased": "ssda903",
    "children_in_care": "ssda903",
    "staying_put": "ssda903",
}


class ForecastRun(SQLModel, table=True):
    """One forecast run of an authority: who or what started it, its cut-off and progress."""

    __tablename__ = "forecast_run"
    __table_args__ = (Index("ix_forecast_run_authority", "authority_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    trigger: str = Field(sa_type=String(12))
    triggered_by: str = Field(sa_type=String(200))
    status: str = Field(sa_type=String(12), index=True)
    attempt: int = 1
    # The last complete month the run forecasts from (its first day).
    cutoff: date
    horizon: int
    models: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    series_total: int = 0
    series_done: int = 0
    # The process (host:pid:token) that claimed the run.
    holder: str | None = Field(default=None, sa_type=String(120))
    error: str | None = Field(default=None, sa_type=String(MAX_ERROR_CHARS))


class ForecastResult(SQLModel, table=True):
    """The forecast of one series in one run: model, backtest scores, points and paths."""

    __tablename__ = "forecast_result"
    __table_args__ = (
        UniqueConstraint("run_id", "series_id", name="uq_forecast_result"),
        Index("ix_forecast_result_series", "series_id", "run_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(sa_column_args=[ForeignKey("forecast_run.id", ondelete="CASCADE")])
    series_id: str = Field(sa_type=String(200))
    metric: str = Field(sa_type=String(40))
    breakdown: str = Field(sa_type=String(80))
    # The series' last observed month, as the engine saw it.
    cutoff: date
    model: str = Field(sa_type=String(40))
    # Mean absolute seasonal-naive error in the history: scales this vintage's errors later.
    scale: float | None = None
    candidates: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    notes: list[str] = Field(default_factory=list, sa_type=JSON)
    points: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    path_count: int = 0
    paths: bytes = Field(default=b"", sa_type=LargeBinary)


class RunLease(SQLModel, table=True):
    """Which process may run forecasts for an authority now, and until when."""

    __tablename__ = "forecast_lease"

    authority_code: str = Field(
        sa_type=String(9), primary_key=True, sa_column_args=[ForeignKey("authority.code")]
    )
    holder: str | None = Field(default=None, sa_type=String(120))
    run_id: int | None = Field(
        default=None, sa_column_args=[ForeignKey("forecast_run.id", ondelete="SET NULL")]
    )
    expires_at: datetime | None = None


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


class RunRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A run as listed: status and progress (series done of total)."""

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
    """The forecast of one series in one run; `paths` only when asked for."""

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


class VintageAccuracy(msgspec.Struct, frozen=True, kw_only=True):
    """How a past run's forecast of one series compares with what happened since.

    mae is the mean absolute error of the mean forecast; scaled_error divides it by the
    series' in-sample seasonal-naive error (below 1: better than repeating last year); bias
    is the mean of forecast minus actual (above 0: over-forecast); coverage is the share of
    actuals inside the 80% and 95% intervals.
    """

    run_id: int
    run_created_at: datetime
    cutoff: date
    series_id: str
    model: str
    months_compared: int
    mae: float
    scaled_error: float | None
    bias: float
    coverage80: float
    coverage95: float


# --- months ----------------------------------------------------------------------------------


def last_complete_month(today: date) -> date:
    """The first day of the last month that has ended by `today`."""
    return add_months(today.replace(day=1), -1)


def _window(earliest: date | None, cutoff: date) -> date | None:
    """The first full month from `earliest`, at most MAX_HISTORY_MONTHS before the cutoff."""
    if earliest is None:
        return None
    first = earliest if earliest.day == 1 else add_months(earliest, 1)
    start = max(first, add_months(cutoff, -(MAX_HISTORY_MONTHS - 1)))
    return start if start <= cutoff else None


# --- the series of an authority --------------------------------------------------------------


def series_id_of(authority_code: str, metric: str, breakdown: str = "total") -> str:
    """The id of a series, e.g. "E06000021/enquiries/channel=phone"."""
    return f"{authority_code}/{metric}/{breakdown}"


def parse_series_id(series_id: str) -> tuple[str, str, str]:
    """(authority code, metric, breakdown) of a series id."""
    parts = series_id.split("/", 2)
    if len(parts) != 3:
        return "", series_id, "total"
    return parts[0], parts[1], parts[2]


def _series(
    code: str,
    metric: str,
    breakdown: str,
    start: date,
    values: Sequence[float | None],
    *,
    is_count: bool = True,
) -> MonthlySeries:
    return MonthlySeries(
        series_id=series_id_of(code, metric, breakdown),
        start=start,
        values=[None if v is None else float(v) for v in values],
        is_count=is_count,
    )


def _funnel_series(session: Session, code: str, cutoff: date) -> list[MonthlySeries]:
    earliest = session.scalar(
        select(func.min(Enquiry.received_on)).where(Enquiry.authority_code == code)
    )
    start = _window(earliest, cutoff)
    if start is None:
        return []
    end = month_end(cutoff)
    points = monthly_series(session, code, start, end).points
    result = [
        _series(code, name, "total", start, [getattr(p, name) for p in points])
        for name in ("enquiries", "applications", "approvals")
    ]
    month = month_of(session, Enquiry.received_on)
    query = (
        select(month, Enquiry.channel, func.count())
        .where(
            Enquiry.authority_code == code,
            Enquiry.received_on >= start,  # type: ignore[operator]
            Enquiry.received_on <= end,  # type: ignore[operator]
        )
        .group_by(month, Enquiry.channel)
    )
    by_channel: dict[str, dict[str, int]] = {}
    for label, channel, count in session.execute(query):
        by_channel.setdefault(channel, {})[label] = int(count)
    for channel in Channel:
        if channel.value in by_channel:
            counts = by_channel[channel.value]
            values = [counts.get(p.month, 0) for p in points]
            result.append(_series(code, "enquiries", f"channel={channel.value}", start, values))
    return result


# Care types whose month-end households (and, for in-house, filled places) are series of their
# own: the targets measured on in-house carers and supported lodgings hosts need them.
REGISTER_CARE_TYPES: tuple[HouseholdCareType, ...] = (
    HouseholdCareType.IN_HOUSE,
    HouseholdCareType.SUPPORTED_LODGINGS,
)


def register_start(session: Session, code: str) -> date | None:
    """The first day the register shows it records leavers (its first deregistration) or
    enquiries start, whichever is earlier: before that it holds only the households that are
    still there, so its stock and flows would be too low."""
    first_leaver = session.scalar(
        select(func.min(HouseholdVersion.valid_from)).where(
            HouseholdVersion.authority_code == code,
            HouseholdVersion.status == HouseholdStatus.DEREGISTERED.value,
        )
    )
    first_enquiry = session.scalar(
        select(func.min(Enquiry.received_on)).where(Enquiry.authority_code == code)
    )
    known = [d for d in (first_leaver, first_enquiry) if d is not None]
    return min(known) if known else None


def _register_series(session: Session, code: str, cutoff: date) -> list[MonthlySeries]:
    """Deregistrations, net change and month-end households of the household register, and
    month-end households of some care types and filled in-house places (when ever above zero).

    The series start with `register_start`.
    """
    start = _window(register_start(session, code), cutoff)
    if start is None:
        return []
    flows = monthly_flows(session, code, start, month_end(cutoff), by_care_type=True)
    by_type = [f.by_care_type or {} for f in flows]
    in_house = HouseholdCareType.IN_HOUSE.value
    parts = [
        *(
            _series(
                code,
                "households",
                f"care_type={care_type.value}",
                start,
                [counts[care_type.value].households for counts in by_type],
            )
            for care_type in REGISTER_CARE_TYPES
        ),
        _series(
            code,
            "filled_places",
            f"care_type={in_house}",
            start,
            [counts[in_house].filled_places for counts in by_type],
        ),
    ]
    return [
        _series(code, "deregistrations", "total", start, [f.deregistrations for f in flows]),
        _series(
            code,
            "net_households",
            "total",
            start,
            [f.net_change for f in flows],
            is_count=False,
        ),
        _series(code, "households", "total", start, [f.households for f in flows]),
        *(s for s in parts if any(s.values)),
    ]


def _ssda903_start(session: Session, code: str) -> date | None:
    """April of the first collection year imported, else the first month entered by hand."""
    first_year = session.scalar(
        select(func.min(CareEpisode.source_year)).where(CareEpisode.authority_code == code)
    )
    if first_year is not None:
        return date(first_year - 1, 4, 1)
    return session.scalar(
        select(func.min(MonthlyAggregate.month)).where(MonthlyAggregate.authority_code == code)
    )


def _ssda903_end(session: Session, code: str) -> date | None:
    """The last month the SSDA903 data covers: March of the latest collection year imported,
    else the latest month entered by hand. Later months are unknown, not zero."""
    last_year = session.scalar(
        select(func.max(CareEpisode.source_year)).where(CareEpisode.authority_code == code)
    )
    if last_year is not None:
        return date(last_year, 3, 1)
    return session.scalar(
        select(func.max(MonthlyAggregate.month)).where(MonthlyAggregate.authority_code == code)
    )


def _ssda903_series(
    session: Session, code: str, cutoff: date, mapping: Mapping
) -> list[MonthlySeries]:
    covered = _ssda903_end(session, code)
    if covered is not None:
        cutoff = min(cutoff, covered.replace(day=1))
    start = _window(_ssda903_start(session, code), cutoff)
    if start is None:
        return []
    end = month_end(cutoff)
    starters = figures.starters(session, code, start, end, mapping).months
    ceased = figures.ceased(session, code, start, end).months
    in_care = figures.children_in_care_monthly(session, code, start, end, mapping).months
    staying = figures.staying_put(session, code, start, end, mapping).months
    totals = [
        _series(code, "starters", "total", start, [m.starters for m in starters]),
        _series(code, "ceased", "total", start, [m.ceased for m in ceased]),
        _series(code, "children_in_care", "total", start, [m.children for m in in_care]),
        _series(code, "staying_put", "leavers", start, [m.eligible for m in staying]),
        _series(code, "staying_put", "stayed", start, [m.stayed for m in staying]),
    ]
    parts = [
        *(
            _series(code, "starters", f"age={band}", start, [m.by_age_band[band] for m in starters])
            for band, _, _ in AGE_BANDS
        ),
        *(
            _series(
                code,
                "children_in_care",
                f"category={category.value}",
                start,
                [m.by_category[category.value] for m in in_care],
            )
            for category in PlacementCategory
        ),
    ]
    # Totals stand when anything was recorded; a part only when it was ever above zero.
    return [s for s in totals if any(v is not None for v in s.values)] + [
        s for s in parts if any(v for v in s.values)
    ]


def series_for_authority(
    session: Session,
    code: str,
    cutoff: date,
    *,
    metrics: Collection[str] | None = None,
    mapping: Mapping | None = None,
) -> list[MonthlySeries]:
    """Every monthly series of an authority, full months only, ending with `cutoff`'s month.

    Funnel series from the enquiries, register series from the household register, and
    SSDA903 series (from the episodes, else the monthly figures entered) when there are
    any; `metrics` limits them to those metrics.
    """
    get_authority(session, code)
    cutoff = cutoff.replace(day=1)
    wanted = {SOURCES[m] for m in metrics if m in SOURCES} if metrics is not None else None
    result: list[MonthlySeries] = []
    if wanted is None or "funnel" in wanted:
        result += _funnel_series(session, code, cutoff)
    if wanted is None or "register" in wanted:
        result += _register_series(session, code, cutoff)
    if wanted is None or "ssda903" in wanted:
        result += _ssda903_series(session, code, cutoff, mapping or load_mapping())
    if metrics is not None:
        result = [s for s in result if parse_series_id(s.series_id)[1] in metrics]
    return result


def seasonal_scale(values: Sequence[float | None], season: int = 12) -> float | None:
    """Mean absolute difference between a month and the same month a year before (the
    month before, with under a year of pairs); None when there is nothing to compare."""
    for lag in (season, 1):
        pairs = [
            abs(b - a)
            for a, b in zip(values[:-lag], values[lag:], strict=True)
            if a is not None and b is not None
        ]
        if len(pairs) >= season or (lag == 1 and pairs):
            scale = sum(pairs) / len(pairs)
            return scale if scale > 0 else None
    return None


# --- the lease -------------------------------------------------------------------------------


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


def _abandon(session: Session, run_id: int, now: datetime) -> bool:
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
    now: datetime | None = None,
    ttl: timedelta = LEASE_TTL,
) -> int:
    """Take the authority's lease and record a queued run; LeaseHeldError while another
    run holds it. A run left 'running' by a lease that expired is marked abandoned.

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
    if done_since is not None:
        done = session.scalars(
            select(ForecastRun.id)
            .where(
                ForecastRun.authority_code == code,
                ForecastRun.trigger == Trigger.SCHEDULE.value,
                ForecastRun.cutoff == cutoff,
                ForecastRun.status == RunStatus.SUCCEEDED.value,
                ForecastRun.created_at >= done_since,  # type: ignore[operator]
            )
            .limit(1)
        ).first()
        if done is not None:
            raise AlreadyForecastError(
                f"skipped: {cutoff:%Y-%m} is already forecast by scheduled run {done}"
            )
    if lease.run_id is not None:
        _abandon(session, lease.run_id, now)
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
            .where(ForecastRun.holder == holder, ForecastRun.status.in_(ACTIVE))  # type: ignore[attr-defined]
            .values(heartbeat_at=now)
        )
    return renewed


def _release(session: Session, code: str, holder: str, now: datetime) -> None:
    session.execute(
        update(RunLease)
        .where(RunLease.authority_code == code, RunLease.holder == holder)
        .values(holder=None, expires_at=now)
    )


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


def _finite(value: float | None) -> float | None:
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
            "mase": _finite(c.mase),
            "coverage80": _finite(c.coverage80),
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
    _release(session, run.authority_code, run.holder or "", now)
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
    _release(session, run.authority_code, run.holder or "", now)
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
        select(ForecastRun.id, ForecastRun.holder).where(ForecastRun.status.in_(ACTIVE))  # type: ignore[attr-defined]
    ).all()
    dead = {holder for _, holder in active if holder and gone(holder)}
    abandoned = [
        run_id for run_id, holder in active if holder in dead and _abandon(session, run_id, now)
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
                RunLease.holder.is_not(None),  # type: ignore[union-attr]
                RunLease.expires_at > now,  # type: ignore[operator]
            )
        )
    }
    stale = [
        run_id
        for run_id in session.scalars(
            select(ForecastRun.id).where(ForecastRun.status.in_(ACTIVE))  # type: ignore[attr-defined]
        )
        if run_id not in live
    ]
    abandoned = [
        run_id for run_id in stale if run_id is not None and _abandon(session, run_id, now)
    ]
    session.flush()
    return abandoned


# --- reading runs and results ----------------------------------------------------------------


def _run_record(row: ForecastRun) -> RunRecord:
    assert row.id is not None
    return RunRecord(
        id=row.id,
        authority_code=row.authority_code,
        trigger=Trigger(row.trigger),
        triggered_by=row.triggered_by,
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


def get_run(session: Session, code: str, run_id: int) -> RunRecord:
    """One run of the authority, with its status and progress."""
    row = session.get(ForecastRun, run_id)
    if row is None or row.authority_code != code:
        raise NotFoundError(f"no forecast run {run_id} for {code}", field="run_id")
    return _run_record(row)


def list_runs(session: Session, code: str, *, limit: int = 50, offset: int = 0) -> list[RunRecord]:
    """The authority's runs, newest first."""
    get_authority(session, code)
    query = (
        select(ForecastRun)
        .where(ForecastRun.authority_code == code)
        .order_by(ForecastRun.id.desc())  # type: ignore[union-attr]
        .limit(limit)
        .offset(offset)
    )
    return [_run_record(r) for r in session.scalars(query)]


def run_results(session: Session, code: str, run_id: int) -> RunResults:
    """A run and the forecasts it stored (without sample paths)."""
    run = get_run(session, code, run_id)
    rows = session.scalars(
        select(ForecastResult).where(ForecastResult.run_id == run_id).order_by(ForecastResult.id)  # type: ignore[arg-type]
    )
    return RunResults(run=run, results=[_series_result(r, False) for r in rows])


def _succeeded(code: str) -> list[Any]:
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
        .where(*_succeeded(code))
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
        .where(ForecastResult.series_id == series_id, *_succeeded(code))
        .order_by(ForecastResult.run_id.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no forecast of {series_id} for {code}", field="series_id")
    return _series_result(row, with_paths)


def _compare(
    points: Sequence[ForecastPoint], actual: dict[date, float | None], scale: float | None
) -> tuple[int, float, float | None, float, float, float] | None:
    pairs: list[tuple[ForecastPoint, float]] = []
    for point in points:
        value = actual.get(point.month)
        if value is not None:
            pairs.append((point, value))
    if not pairs:
        return None
    n = len(pairs)
    errors = [p.mean - a for p, a in pairs]
    mae = sum(abs(e) for e in errors) / n
    inside80 = sum(1 for p, a in pairs if p.lo80 <= a <= p.hi80)
    inside95 = sum(1 for p, a in pairs if p.lo95 <= a <= p.hi95)
    return (
        n,
        round(mae, 6),
        round(mae / scale, 6) if scale else None,
        round(sum(errors) / n, 6),
        round(inside80 / n, 6),
        round(inside95 / n, 6),
    )


def vintage_accuracy(
    session: Session,
    code: str,
    series_id: str | None,
    *,
    cutoff: date,
    mapping: Mapping | None = None,
) -> list[VintageAccuracy]:
    """For each succeeded run, its forecasts compared with the actuals up to `cutoff`'s month
    (the last complete month); series with no actual month yet are left out."""
    get_authority(session, code)
    query = (
        select(ForecastResult, ForecastRun.created_at)
        .join(ForecastRun, ForecastRun.id == ForecastResult.run_id)
        .where(*_succeeded(code))
        .order_by(ForecastResult.run_id, ForecastResult.series_id)
    )
    if series_id is not None:
        query = query.where(ForecastResult.series_id == series_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    metrics = {r.metric for r, _ in rows}
    actuals: dict[str, dict[date, float | None]] = {}
    for s in series_for_authority(session, code, cutoff, metrics=metrics, mapping=mapping):
        actuals[s.series_id] = {add_months(s.start, i): v for i, v in enumerate(s.values)}
    result = []
    for row, created_at in rows:
        points = msgspec.convert(row.points, list[ForecastPoint])
        compared = _compare(points, actuals.get(row.series_id, {}), row.scale)
        if compared is None:
            continue
        n, mae, scaled, bias, cover80, cover95 = compared
        result.append(
            VintageAccuracy(
                run_id=row.run_id,
                run_created_at=created_at,
                cutoff=row.cutoff,
                series_id=row.series_id,
                model=row.model,
                months_compared=n,
                mae=mae,
                scaled_error=scaled,
                bias=bias,
                coverage80=cover80,
                coverage95=cover95,
            )
        )
    return result
