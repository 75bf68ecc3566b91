"""Stored SSDA903 data: pseudonymous children, care episodes, care leavers, import runs and
monthly aggregates entered by councils without an extract."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.core.clock import utcnow


class ChildRecord(SQLModel, table=True):
    """A child under a keyed pseudonym: sex and month of birth only."""

    __tablename__ = "ssda903_child"
    __table_args__ = (UniqueConstraint("authority_code", "child_key", name="uq_903_child"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    child_key: str = Field(sa_type=String(64))
    sex: str | None = Field(default=None, sa_type=String(1))
    birth_month: date | None = None
    source_year: int


class CareEpisode(SQLModel, table=True):
    """One episode of care as one return (collection year `source_year`) gives it: where a
    child lived, under which status, from when to when.

    Each return is kept whole, so an episode open across two years is stored once for each
    return that carries it, and each return speaks for its own year (`tracker.children.returns`).
    Derived at import, while the full date of birth is at hand and then dropped:
    `age_at_start` (whole years at DECOM) and `ceased_at_18` (DEC is the 18th birthday).
    `period_start` is the DECOM of the episode that began the period of care (RNE S), found
    through earlier returns when the period began before this one. `source_row` is the row of
    the file the episode came from, so warnings can point a council at a child without
    naming one.
    """

    __tablename__ = "ssda903_episode"
    __table_args__ = (
        UniqueConstraint(
            "authority_code", "source_year", "child_key", "decom", name="uq_903_episode"
        ),
        Index("ix_903_episode_decom", "authority_code", "source_year", "decom"),
        Index("ix_903_episode_dec", "authority_code", "source_year", "dec"),
        Index("ix_903_episode_child", "authority_code", "child_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    child_key: str = Field(sa_type=String(64))
    decom: date
    rne: str = Field(sa_type=String(2))
    ls: str | None = Field(default=None, sa_type=String(3))
    cin: str | None = Field(default=None, sa_type=String(3))
    place: str = Field(sa_type=String(4))
    place_provider: str | None = Field(default=None, sa_type=String(4))
    dec: date | None = None
    rec: str | None = Field(default=None, sa_type=String(4))
    reason_place_change: str | None = Field(default=None, sa_type=String(6))
    pl_la: str | None = Field(default=None, sa_type=String(9))
    age_at_start: int | None = None
    ceased_at_18: bool = False
    period_start: date | None = None
    source_year: int
    source_row: int | None = None


class CareLeaverRecord(SQLModel, table=True):
    """An OC3 row: a care leaver's contact and accommodation around a birthday (17th to 21st)
    in a collection year."""

    __tablename__ = "ssda903_care_leaver"
    __table_args__ = (
        UniqueConstraint("authority_code", "child_key", "year", name="uq_903_care_leaver"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    child_key: str = Field(sa_type=String(64))
    year: int
    in_touch: str | None = Field(default=None, sa_type=String(10))
    activ: str | None = Field(default=None, sa_type=String(10))
    accom: str | None = Field(default=None, sa_type=String(4))


class ImportRun(SQLModel, table=True):
    """One SSDA903 import, replacement or withdrawal: who, when, which files (names and
    digests, never contents) and what it changed."""

    __tablename__ = "ssda903_import"

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    imported_at: datetime = Field(default_factory=utcnow)
    actor: str = Field(sa_type=String(200))
    # "import", "replace" (a year's return replaced by the files) or "withdraw".
    action: str = Field(default="import", sa_type=String(10))
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class MonthlyAggregate(SQLModel, table=True):
    """A monthly figure entered by hand by a council without an SSDA903 extract.

    `metric` is one of starters, ceased, children_in_care, staying_put_eligible,
    staying_put_stayed; `breakdown` is "" for the total, or an age band or a category.
    """

    __tablename__ = "ssda903_monthly_aggregate"
    __table_args__ = (
        UniqueConstraint(
            "authority_code", "month", "metric", "breakdown", name="uq_903_monthly_aggregate"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    month: date
    metric: str = Field(sa_type=String(30))
    breakdown: str = Field(default="", sa_type=String(30))
    value: int
    recorded_at: datetime = Field(default_factory=utcnow)
