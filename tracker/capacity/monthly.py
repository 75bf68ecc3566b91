"""The register's prepared monthly rows: month-end households and places per care type, and
approvals and deregistrations per month; recomputed from the register for the months a write
touches (a change on a day moves every later month-end), and read back as monthly flows."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from forecast.months import add_months, month_end, month_label, month_start, parse_month
from tracker.capacity.register import PLACE_SUMS, TERM_AND_BAND_SUMS, _totals, stock_columns
from tracker.capacity.schemas import MonthFlows
from tracker.core.monthly_tables import RegisterMonth, RegisterMonthFlow
from tracker.core.sql import month_of
from tracker.households.care_types import DeregistrationReason, HouseholdStatus
from tracker.households.places import places_as_at
from tracker.households.tables import Household, HouseholdVersion


@cache
def _stock_query() -> Any:
    """A month-end's stock per care type: place, term and age band sums (bound "code" and
    "as_at")."""
    h = places_as_at(many=False)
    return select(*stock_columns(h)).group_by(h.c.care_type)


def first_register_day(session: Session, authority_code: str) -> date | None:
    """The earliest day the council's register has figures for (an approval or a version)."""
    approved = session.scalar(
        select(func.min(Household.approved_on)).where(Household.authority_code == authority_code)
    )
    versions = session.scalar(
        select(func.min(HouseholdVersion.valid_from)).where(
            HouseholdVersion.authority_code == authority_code
        )
    )
    days = [d for d in (approved, versions) if d is not None]
    return min(days) if days else None


def refresh_register_months(
    session: Session, authority_code: str, since: date, today: date
) -> None:
    """Recompute the council's prepared register months from `since`'s month to the later of
    `today`'s month and the last one stored."""
    last_stored = session.scalar(
        select(func.max(RegisterMonth.month)).where(RegisterMonth.authority_code == authority_code)
    )
    last = month_start(today)
    if last_stored is not None:
        last = max(last, parse_month(last_stored))
    first = month_start(since)
    if first > last:
        return
    low, high = month_label(first), month_label(last)
    for table in (RegisterMonth, RegisterMonthFlow):
        session.execute(
            delete(table).where(
                table.authority_code == authority_code, table.month >= low, table.month <= high
            )
        )
    end = month_end(last)
    flows: dict[str, dict[str, Any]] = {}

    def flow(label: str) -> dict[str, Any]:
        return flows.setdefault(label, {"approvals": 0, "deregistrations": {}})

    month = month_of(session, Household.approved_on)
    for label, n in session.execute(
        select(month, func.count())
        .where(
            Household.authority_code == authority_code,
            Household.approved_on >= first,
            Household.approved_on <= end,
        )
        .group_by(month)
    ):
        flow(label)["approvals"] = int(n)
    v = HouseholdVersion
    month = month_of(session, v.valid_from)
    for label, reason, n in session.execute(
        select(month, v.deregistration_reason, func.count())
        .where(
            v.authority_code == authority_code,
            v.status == HouseholdStatus.DEREGISTERED.value,
            v.valid_from >= first,
            v.valid_from <= end,
        )
        .group_by(month, v.deregistration_reason)
    ):
        reasons = flow(label)["deregistrations"]
        key = reason or DeregistrationReason.OTHER.value
        reasons[key] = reasons.get(key, 0) + int(n)
    if flows:
        session.execute(
            insert(RegisterMonthFlow),
            [{"authority_code": authority_code, "month": m, **f} for m, f in flows.items()],
        )
    stocks = []
    query = _stock_query()
    current = first
    while current <= last:
        label = month_label(current)
        for row in session.execute(
            query, {"code": authority_code, "as_at": month_end(current)}
        ).mappings():
            stocks.append(
                {"authority_code": authority_code, "month": label, "care_type": row["care_type"]}
                | {name: int(row[name] or 0) for name in PLACE_SUMS}
                | {"terms_and_bands": {n: int(row[n] or 0) for n in TERM_AND_BAND_SUMS}}
            )
        current = add_months(current, 1)
    if stocks:
        session.execute(insert(RegisterMonth), stocks)


def prepared_flows(
    session: Session, authority_code: str, ends: list[date], *, by_care_type: bool
) -> list[MonthFlows] | None:
    """Monthly flows read off the prepared rows; None when a month asked for is later than the
    last one stored (the caller computes those from the register)."""
    low, high = month_label(ends[0]), month_label(ends[-1])
    stored = session.scalars(
        select(RegisterMonth).where(
            RegisterMonth.authority_code == authority_code,
            RegisterMonth.month >= low,
            RegisterMonth.month <= high,
        )
    ).all()
    last_stored = session.scalar(
        select(func.max(RegisterMonth.month)).where(RegisterMonth.authority_code == authority_code)
    )
    if last_stored is None or last_stored < high:
        return None
    stocks: dict[str, dict[str, dict[str, int]]] = {}
    for row in stored:
        stocks.setdefault(row.month, {})[row.care_type] = {n: getattr(row, n) for n in PLACE_SUMS}
    flows = {
        f.month: f
        for f in session.scalars(
            select(RegisterMonthFlow).where(
                RegisterMonthFlow.authority_code == authority_code,
                RegisterMonthFlow.month >= low,
                RegisterMonthFlow.month <= high,
            )
        )
    }
    result = []
    for end in ends:
        key = month_label(end)
        total, by_type = _totals(stocks.get(key, {}))
        flow = flows.get(key)
        approvals = flow.approvals if flow else 0
        leavers = dict(sorted((flow.deregistrations or {}).items())) if flow else {}
        gone = sum(leavers.values())
        result.append(
            MonthFlows(
                month=key,
                approvals=approvals,
                deregistrations=gone,
                deregistrations_by_reason=leavers,
                net_change=approvals - gone,
                households=total.households,
                approved_places=total.approved_places,
                filled_places=total.filled_places,
                vacant_places=total.vacant_places,
                occupancy=total.occupancy,
                by_care_type={c.care_type: c for c in by_type} if by_care_type else None,
            )
        )
    return result
