"""Reading enquiries: one as the API shows it (stage, status, what is overdue), its history,
and a filtered page of an authority's enquiries."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

import msgspec
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core.authorities import get_authority
from tracker.core.records import owned, page_of
from tracker.enquiries.schemas import (
    EnquiryFilter,
    EnquiryPage,
    EnquiryRecord,
    EventRecord,
    Overdue,
)
from tracker.enquiries.search import EnquirySort, search_condition, sort_order
from tracker.enquiries.stages import (
    LATER_STAGES,
    ClosureReason,
    Stage,
    Status,
    WithdrawalReason,
)
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import (
    approval_due,
    approval_overdue_if_applied_by,
    first_contact_due,
    first_contact_overdue_if_received_by,
)
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest


def reached_stages(row: Enquiry) -> dict[Stage, date]:
    """Each stage reached so far, with its date (the enquiry's own included)."""
    reached = {Stage.ENQUIRY: row.received_on}
    for stage in LATER_STAGES:
        on = getattr(row, stage.date_column)
        if on is not None:
            reached[stage] = on
    return reached


EnquiryRow: TypeAlias = Enquiry | Row[Any]
"""A stored enquiry: the ORM object, or the row an INSERT or a Core query returned."""


def status_of(row: EnquiryRow) -> Status:
    """Open, closed or approved."""
    if row.closed_on is not None:
        return Status.CLOSED
    if row.approved_on is not None:
        return Status.APPROVED
    return Status.OPEN


def overdue_of(row: EnquiryRow, today: date) -> list[Overdue]:
    """The timeliness norms an open enquiry has missed on `today`."""
    if status_of(row) is not Status.OPEN:
        return []
    late = []
    if Stage(row.stage) is Stage.ENQUIRY and first_contact_due(row.received_on) < today:
        late.append(Overdue.FIRST_CONTACT)
    if row.application_on is not None and approval_due(row.application_on) < today:
        late.append(Overdue.APPROVAL)
    return late


def to_record(row: EnquiryRow, today: date) -> EnquiryRecord:
    """The API view of a stored enquiry."""
    assert row.id is not None
    return EnquiryRecord(
        id=row.id,
        authority_code=row.authority_code,
        external_ref=row.external_ref,
        received_on=row.received_on,
        channel=Channel(row.channel),
        campaign=row.campaign,
        enquirer_name=row.enquirer_name,
        email=row.email,
        phone=row.phone,
        postcode_district=row.postcode_district,
        household_type=HouseholdType(row.household_type) if row.household_type else None,
        ethnicity=Ethnicity(row.ethnicity) if row.ethnicity else None,
        interests=[Interest(i) for i in row.interests],
        stage=Stage(row.stage),
        status=status_of(row),
        first_contact_on=row.first_contact_on,
        initial_visit_on=row.initial_visit_on,
        application_on=row.application_on,
        stage_1_on=row.stage_1_on,
        stage_2_on=row.stage_2_on,
        panel_on=row.panel_on,
        approved_on=row.approved_on,
        closed_on=row.closed_on,
        closure_reason=ClosureReason(row.closure_reason) if row.closure_reason else None,
        withdrawal_reason=(
            WithdrawalReason(row.withdrawal_reason) if row.withdrawal_reason else None
        ),
        first_contact_due=first_contact_due(row.received_on),
        approval_due=approval_due(row.application_on) if row.application_on else None,
        overdue=overdue_of(row, today),
        version=row.version,
        erased=row.erased_at is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def load_enquiry(
    session: Session, authority_code: str, enquiry_id: int, *, lock: bool = False
) -> Enquiry:
    """The authority's enquiry with this id (NotFoundError naming id)."""
    return owned(
        session, Enquiry, authority_code, enquiry_id, noun="enquiry", field="id", lock=lock
    )


def get_enquiry(
    session: Session, authority_code: str, enquiry_id: int, today: date
) -> EnquiryRecord:
    """One enquiry of an authority."""
    return to_record(load_enquiry(session, authority_code, enquiry_id), today)


def enquiry_history(session: Session, authority_code: str, enquiry_id: int) -> list[EventRecord]:
    """Every change of one enquiry, oldest first."""
    load_enquiry(session, authority_code, enquiry_id)
    query = (
        select(EnquiryEvent)
        .where(col(EnquiryEvent.enquiry_id) == enquiry_id)
        .order_by(col(EnquiryEvent.id))
    )
    return [
        EventRecord(
            id=e.id or 0,
            action=e.action,
            stage=Stage(e.stage) if e.stage else None,
            on=e.on_date,
            note=e.note,
            actor=e.actor,
            recorded_at=e.recorded_at,
        )
        for e in session.scalars(query)
    ]


def filter_conditions(authority_code: str, filters: EnquiryFilter, today: date) -> list[Any]:
    """SQL conditions for the list filters (shared by the list and the export)."""
    conditions: list[Any] = [Enquiry.authority_code == authority_code]
    if filters.stage is not None:
        conditions.append(Enquiry.stage == filters.stage.value)
    if filters.status is Status.OPEN:
        conditions += [col(Enquiry.closed_on).is_(None), col(Enquiry.approved_on).is_(None)]
    elif filters.status is Status.CLOSED:
        conditions.append(col(Enquiry.closed_on).is_not(None))
    elif filters.status is Status.APPROVED:
        conditions += [col(Enquiry.approved_on).is_not(None), col(Enquiry.closed_on).is_(None)]
    if filters.channel is not None:
        conditions.append(Enquiry.channel == filters.channel.value)
    if filters.campaign is not None:
        conditions.append(Enquiry.campaign == filters.campaign)
    if filters.received_from is not None:
        conditions.append(Enquiry.received_on >= filters.received_from)
    if filters.received_to is not None:
        conditions.append(Enquiry.received_on <= filters.received_to)
    if filters.search is not None and filters.search.strip():
        conditions.append(search_condition(filters.search))
    if filters.overdue is not None:
        conditions += [col(Enquiry.closed_on).is_(None), col(Enquiry.approved_on).is_(None)]
        first_contact = (Enquiry.stage == Stage.ENQUIRY.value) & (
            Enquiry.received_on <= first_contact_overdue_if_received_by(today)
        )
        approval = col(Enquiry.application_on) <= approval_overdue_if_applied_by(today)
        conditions.append(
            {Overdue.FIRST_CONTACT: first_contact, Overdue.APPROVAL: approval}[filters.overdue]
        )
    return conditions


def any_overdue_conditions(authority_code: str, today: date) -> list[Any]:
    """SQL conditions for enquiries that have missed either norm."""
    first = filter_conditions(authority_code, EnquiryFilter(overdue=Overdue.FIRST_CONTACT), today)
    second = filter_conditions(authority_code, EnquiryFilter(overdue=Overdue.APPROVAL), today)
    return [*first[:-1], or_(first[-1], second[-1])]


def list_enquiries(
    session: Session,
    authority_code: str,
    filters: EnquiryFilter,
    today: date,
    *,
    limit: int,
    offset: int,
    any_overdue: bool = False,
    sort: EnquirySort = EnquirySort.NEWEST,
) -> EnquiryPage:
    """A page of an authority's enquiries in the order asked (newest first unless told), and
    how many match in all."""
    get_authority(session, authority_code)
    if any_overdue:
        conditions = any_overdue_conditions(authority_code, today)
    else:
        conditions = filter_conditions(authority_code, filters, today)
    if filters.search is not None and filters.search.strip() and not any_overdue:
        rows, total = _searched_page(session, conditions, sort, limit=limit, offset=offset)
    else:
        query = select(Enquiry).where(*conditions).order_by(*sort_order(sort))
        page, total = page_of(session, query, limit=limit, offset=offset)
        rows = [row for (row,) in page]
    items = [to_record(row, today) for row in rows]
    return EnquiryPage(items=items, total=total, limit=limit, offset=offset)


class OverdueContact(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry waiting for first contact past the norm, without its personal data."""

    id: int
    external_ref: str | None
    received_on: date
    first_contact_due: date


def overdue_first_contacts(
    session: Session, authority_code: str, today: date, *, limit: int
) -> tuple[list[OverdueContact], int]:
    """The newest `limit` open enquiries of an authority overdue for first contact on
    `today` (the list's `overdue=first_contact` filter), read as ids, references and dates
    only, and how many there are in all (counted only when the page is full)."""
    overdue = EnquiryFilter(overdue=Overdue.FIRST_CONTACT)
    conditions = filter_conditions(authority_code, overdue, today)
    rows = session.execute(
        select(Enquiry.id, Enquiry.external_ref, Enquiry.received_on)
        .where(*conditions)
        .order_by(*sort_order(EnquirySort.NEWEST))
        .limit(limit)
    ).all()
    items = [
        OverdueContact(
            id=enquiry_id,
            external_ref=ref,
            received_on=received_on,
            first_contact_due=first_contact_due(received_on),
        )
        for enquiry_id, ref, received_on in rows
    ]
    if len(items) < limit:
        return items, len(items)
    total = session.scalar(select(func.count()).select_from(Enquiry).where(*conditions))
    return items, total or 0


def _searched_page(
    session: Session, conditions: list[Any], sort: EnquirySort, *, limit: int, offset: int
) -> tuple[list[Enquiry], int]:
    """A page of a search and how many match: the page's ids and the count come from one
    scan of the search index (ix_enquiry_search: the searched fields and the sort keys),
    then only the page's rows are read (a page past the end counts on its own)."""
    found = session.execute(
        select(Enquiry.id, func.count().over())
        .where(*conditions)
        .order_by(*sort_order(sort))
        .limit(limit)
        .offset(offset)
    ).all()
    if not found:
        total = session.scalar(select(func.count()).select_from(Enquiry).where(*conditions))
        return [], total or 0
    ids = [enquiry_id for enquiry_id, _ in found]
    rows = session.scalars(select(Enquiry).where(col(Enquiry.id).in_(ids)))
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id], found[0][1]
