"""The history of each council's annual approvals target: every setting kept with the day it
was made, so a past year is measured against the target that applied then, not today's."""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from tracker.core.clock import london_today


class ApprovalsTargetSetting(SQLModel, table=True):
    """One setting of a council's annual approvals target (None: the target was cleared)."""

    __tablename__ = "approvals_target_setting"
    __table_args__ = (Index("ix_approvals_target_setting_authority", "authority_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    set_on: date
    target: int | None = None


class TargetInForce(msgspec.Struct, frozen=True, kw_only=True):
    """The target a year is measured against, with the day it was set (None when no setting
    is recorded); `of_the_year` is False when none was recorded by the year's end, so the
    earliest recorded one is shown in its place."""

    target: int | None
    set_on: date | None
    of_the_year: bool


def record_target(session: Session, code: str, target: int | None) -> None:
    """Keep a setting of the council's target, dated today in England (a change just after
    midnight in summer belongs to the new day, as the funnel's years count)."""
    session.add(ApprovalsTargetSetting(authority_code=code, set_on=london_today(), target=target))


def target_history(session: Session, code: str) -> list[tuple[date, int | None]]:
    """The council's settings, oldest first."""
    query = (
        select(ApprovalsTargetSetting.set_on, ApprovalsTargetSetting.target)
        .where(ApprovalsTargetSetting.authority_code == code)
        .order_by(col(ApprovalsTargetSetting.set_on), col(ApprovalsTargetSetting.id))
    )
    return [(on, target) for on, target in session.execute(query)]


def target_in_force(
    history: list[tuple[date, int | None]], current: int | None, on: date
) -> TargetInForce:
    """The target in force on `on` (the last set on or before it); when none was set by
    then, the earliest recorded one (or `current` when none is recorded at all), marked as
    not the year's own."""
    before = [(day, target) for day, target in history if day <= on]
    if before:
        day, target = before[-1]
        return TargetInForce(target=target, set_on=day, of_the_year=True)
    if history:
        day, target = history[0]
        return TargetInForce(target=target, set_on=day, of_the_year=False)
    return TargetInForce(target=current, set_on=None, of_the_year=False)
