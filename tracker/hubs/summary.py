"""The hub's figures: its enquiries by council, source and campaign; conversion to
application and approval per council and for the hub against the national 12%; time to
handover and to approval; declines by reason. Aggregates only: counts from 1 to 4 are
withheld (`tracker.core.disclosure`), and small campaigns are summed without their names."""

from __future__ import annotations

from collections import Counter
from datetime import date
from statistics import median

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core.authorities import Authority
from tracker.core.disclosure import SMALL_COUNT
from tracker.enquiries.tables import Enquiry
from tracker.hubs.rules import NATIONAL_APPLICATION_RATE, HandoverStatus
from tracker.hubs.service import get_hub_row
from tracker.hubs.tables import HubEnquiry, HubMember

SMALL_CAMPAIGNS = f"campaigns with fewer than {SMALL_COUNT} enquiries"


class Conversion(msgspec.Struct, frozen=True, kw_only=True):
    """A group's enquiries and how many reached application and approval (None: withheld)."""

    key: str
    name: str
    enquiries: int | None
    applications: int | None
    approvals: int | None
    application_rate: float | None
    approval_rate: float | None


class Count(msgspec.Struct, frozen=True, kw_only=True):
    """A count of one group (None: withheld)."""

    key: str
    count: int | None


class HubSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The hub's figures for enquiries received in [received_from, received_to]."""

    hub_id: int
    received_from: date | None
    received_to: date | None
    hub: Conversion
    councils: list[Conversion]
    sources: list[Count]
    campaigns: list[Count]
    declines: list[Count]
    median_days_to_handover: float | None
    median_days_to_approval: float | None
    national_application_rate: float
    difference_from_national: float | None
    """The hub's application rate less the national rate, in percentage points."""


def shown(count: int) -> int | None:
    """A count as shown: withheld when from 1 to `SMALL_COUNT` - 1."""
    return count if count == 0 or count >= SMALL_COUNT else None


def _conversion(key: str, name: str, rows: list[tuple[HubEnquiry, Enquiry]]) -> Conversion:
    total = len(rows)
    applied = sum(1 for _, e in rows if e.application_on is not None)
    approved = sum(1 for _, e in rows if e.approved_on is not None)
    rated = total >= SMALL_COUNT
    return Conversion(
        key=key,
        name=name,
        enquiries=shown(total),
        applications=shown(applied),
        approvals=shown(approved),
        application_rate=round(applied / total, 4) if rated else None,
        approval_rate=round(approved / total, 4) if rated else None,
    )


def _counts(counter: Counter[str], *, combine_small: bool = False) -> list[Count]:
    found, small = [], 0
    for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
        if combine_small and n < SMALL_COUNT:
            small += n
        else:
            found.append(Count(key=key, count=shown(n)))
    if small:
        found.append(Count(key=SMALL_CAMPAIGNS, count=shown(small)))
    return found


def hub_summary(
    session: Session,
    hub_id: int,
    *,
    received_from: date | None = None,
    received_to: date | None = None,
) -> HubSummary:
    """The hub's figures over the enquiries it logged in the period."""
    hub = get_hub_row(session, hub_id)
    query = (
        select(HubEnquiry, Enquiry)
        .join(Enquiry, col(Enquiry.id) == col(HubEnquiry.enquiry_id))
        .where(HubEnquiry.hub_id == hub_id)
    )
    if received_from is not None:
        query = query.where(col(Enquiry.received_on) >= received_from)
    if received_to is not None:
        query = query.where(col(Enquiry.received_on) <= received_to)
    rows = [(link, row) for link, row in session.execute(query).all()]
    names = dict(
        session.execute(
            select(Authority.code, Authority.name)
            .join(HubMember, col(HubMember.authority_code) == col(Authority.code))
            .where(HubMember.hub_id == hub_id)
        ).all()
    )
    councils = [
        _conversion(code, name, [r for r in rows if r[1].authority_code == code])
        for code, name in sorted(names.items(), key=lambda kv: kv[1])
    ]
    whole = _conversion(str(hub_id), hub.name, rows)
    handover_days = [
        (link.decided_on - row.received_on).days
        for link, row in rows
        if link.status == HandoverStatus.ACCEPTED and link.decided_on is not None
    ]
    approval_days = [(r.approved_on - r.received_on).days for _, r in rows if r.approved_on]
    total = len(rows)
    rate = sum(1 for _, e in rows if e.application_on) / total if total >= SMALL_COUNT else None
    return HubSummary(
        hub_id=hub_id,
        received_from=received_from,
        received_to=received_to,
        hub=whole,
        councils=councils,
        sources=_counts(Counter(row.channel for _, row in rows)),
        campaigns=_counts(
            Counter(row.campaign for _, row in rows if row.campaign), combine_small=True
        ),
        declines=_counts(Counter(link.decline_reason for link, _ in rows if link.decline_reason)),
        median_days_to_handover=(
            float(median(handover_days)) if len(handover_days) >= SMALL_COUNT else None
        ),
        median_days_to_approval=(
            float(median(approval_days)) if len(approval_days) >= SMALL_COUNT else None
        ),
        national_application_rate=NATIONAL_APPLICATION_RATE,
        difference_from_national=(
            round((rate - NATIONAL_APPLICATION_RATE) * 100, 1) if rate is not None else None
        ),
    )
