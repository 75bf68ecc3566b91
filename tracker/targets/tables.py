"""The stored target: one metric of one authority, with the fields its kind takes; and its
stored trajectory with the basis it was computed on (see `tracker.targets.stored`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class Target(SQLModel, table=True):
    """A target on one metric of one authority; `kind` says which fields apply."""

    __tablename__ = "target"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(
        sa_type=String(9), sa_column_args=[ForeignKey("authority.code")], index=True
    )
    metric: str = Field(sa_type=String(40))
    kind: str = Field(sa_type=String(20))
    name: str = Field(sa_type=String(200))
    direction: str = Field(default="at_least", sa_type=String(10))
    baseline_date: date | None = None
    baseline_value: float | None = None
    annual_rate: float | None = None
    start_date: date | None = None
    target_date: date | None = None
    target_value: float | None = None
    lower: float | None = None
    upper: float | None = None
    notes: str | None = Field(default=None, sa_type=Text)
    created_by: str = Field(sa_type=String(120))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 1


class TargetTrajectory(SQLModel, table=True):
    """A target's trajectory as computed at `computed_at` (msgspec JSON in `body`), with the
    basis it was computed on: the target's version and update time, the council's latest
    successful forecast run and latest audited change, the day and the placement mapping."""

    __tablename__ = "target_trajectory"

    target_id: int = Field(
        sa_column=Column(Integer, ForeignKey("target.id", ondelete="CASCADE"), primary_key=True)
    )
    authority_code: str = Field(sa_type=String(9), index=True)
    target_version: int
    target_updated_at: datetime
    forecast_run_id: int | None = None
    audit_id: int | None = None
    mapping_digest: str = Field(sa_type=String(64))
    as_at: date
    computed_at: datetime = Field(default_factory=utcnow)
    body: bytes = Field(sa_type=LargeBinary)
