"""The stored forecast runs (kept as vintages), their results per series, and the lease that
lets one run at a time per authority."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow

MAX_ERROR_CHARS = 2000


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
