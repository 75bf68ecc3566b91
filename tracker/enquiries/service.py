"""Fostering enquiries: their table, history and the service functions that move them.

An enquiry holds the date each funnel stage was reached in its own column, so funnel
figures are plain SQL aggregates; the `enquiry_event` table keeps the full history of
every change (date, who, note).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import (
    ConflictError,
    InvalidValueError,
    NotFoundError,
    StageRuleError,
    check_version,
)
from tracker.enquiries.stages import (
    LATER_STAGES,
    STAGE_ORDER,
    ClosureReason,
    Stage,
    Status,
    check_advance,
    check_closure,
    check_history,
    check_stage_date,
)
from tracker.enquiries.timeliness import (
    approval_due,
    approval_overdue_if_applied_by,
    first_contact_due,
    first_contact_overdue_if_received_by,
)
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest

EARLIEST_DATE = date(2000, 1, 1)
PERSONAL_FIELDS = ("enquirer_name", "email", "phone", "postcode_district", "ethnicity")

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL, so no backend may take it
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
]
Phone = Annotated[str, msgspec.Meta(max_length=30, pattern=r"^\+?[0-9][0-9 ()-]{5,}$")]
PostcodeDistrict = Annotated[
    str, msgspec.Meta(max_length=4, pattern=r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$")
]
Campaign = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=NO_NUL)]
ExternalRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
Note = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]


class Enquiry(SQLModel, table=True):
    """One enquiry from a prospective fostering household, followed to approval or closure."""

    __tablename__ = "enquiry"
    __table_args__ = (
        UniqueConstraint("authority_code", "external_ref", name="uq_enquiry_external_ref"),
        Index("ix_enquiry_authority_received", "authority_code", "received_on"),
        Index("ix_enquiry_authority_stage", "authority_code", "stage"),
        Index("ix_enquiry_authority_application", "authority_code", "application_on"),
        Index("ix_enquiry_authority_approved", "authority_code", "approved_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    external_ref: str | None = Field(default=None, sa_type=String(64))
    received_on: date
    channel: str = Field(sa_type=String(20))
    campaign: str | None = Field(default=None, sa_type=String(80))
    enquirer_name: str | None = Field(default=None, sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(254))
    phone: str | None = Field(default=None, sa_type=String(30))
    postcode_district: str | None = Field(default=None, sa_type=String(4))
    household_type: str | None = Field(default=None, sa_type=String(20))
    ethnicity: str | None = Field(default=None, sa_type=String(40))
    interests: list[str] = Field(default_factory=list, sa_type=JSON)
    stage: str = Field(default=Stage.ENQUIRY.value, sa_type=String(20))
    first_contact_on: date | None = None
    initial_visit_on: date | None = None
    application_on: date | None = None
    stage_1_on: date | None = None
    stage_2_on: date | None = None
    panel_on: date | None = None
    approved_on: date | None = None
    closed_on: date | None = None
    closure_reason: str | None = Field(default=None, sa_type=String(30))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = None


class EnquiryEvent(SQLModel, table=True):
    """One entry in an enquiry's history: created, moved, closed, reopened, edited, erased."""

    __tablename__ = "enquiry_event"

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int = Field(
        sa_column_args=[ForeignKey("enquiry.id", ondelete="CASCADE")], index=True
    )
    action: str = Field(sa_type=String(20))
    stage: str | None = Field(default=None, sa_type=String(20))
    on_date: date | None = None
    note: str | None = Field(default=None, sa_type=String(2000))
    actor: str = Field(sa_type=String(200))
    recorded_at: datetime = Field(default_factory=utcnow)


class NewEnquiry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An enquiry as the recruitment team logs it."""

    received_on: date
    channel: Channel
    enquirer_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    postcode_district: PostcodeDistrict | None = None
    household_type: HouseholdType | None = None
    ethnicity: Ethnicity | None = None
    interests: list[Interest] = msgspec.field(default_factory=list)
    campaign: Campaign | None = None
    external_ref: ExternalRef | None = None
    note: Note | None = None


class EnquiryChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An edit: only the fields present change (null clears an optional field)."""

    received_on: date | msgspec.UnsetType = msgspec.UNSET
    channel: Channel | msgspec.UnsetType = msgspec.UNSET
    enquirer_name: Name | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    postcode_district: PostcodeDistrict | msgspec.UnsetType | None = msgspec.UNSET
    household_type: HouseholdType | msgspec.UnsetType | None = msgspec.UNSET
    ethnicity: Ethnicity | msgspec.UnsetType | None = msgspec.UNSET
    interests: list[Interest] | msgspec.UnsetType = msgspec.UNSET
    campaign: Campaign | msgspec.UnsetType | None = msgspec.UNSET
    external_ref: ExternalRef | msgspec.UnsetType | None = msgspec.UNSET


class StageMove(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Move an enquiry forward to `stage`, reached on `on` (default today)."""

    stage: Stage
    on: date | None = None
    note: Note | None = None


class Closure(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Close an open enquiry with a reason, on `on` (default today)."""

    reason: ClosureReason
    on: date | None = None
    note: Note | None = None


class Reopening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Reopen a closed enquiry, or move an enquiry back to an earlier `stage`."""

    stage: Stage | None = None
    note: Note | None = None


class Overdue(enum.StrEnum):
    """Which timeliness norm an enquiry has missed."""

    FIRST_CONTACT = "first_contact"
    APPROVAL = "approval"


class EnquiryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An enquiry as the API shows it."""

    id: int
    authority_code: str
    external_ref: str | None
    received_on: date
    channel: Channel
    campaign: str | None
    enquirer_name: str | None
    email: str | None
    phone: str | None
    postcode_district: str | None
    household_type: HouseholdType | None
    ethnicity: Ethnicity | None
    interests: list[Interest]
    stage: Stage
    status: Status
    first_contact_on: date | None
    initial_visit_on: date | None
    application_on: date | None
    stage_1_on: date | None
    stage_2_on: date | None
    panel_on: date | None
    approved_on: date | None
    closed_on: date | None
    closure_reason: ClosureReason | None
    first_contact_due: date
    approval_due: date | None
    overdue: list[Overdue]
    version: int
    erased: bool
    created_at: datetime
    updated_at: datetime


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of an enquiry's history."""

    id: int
    action: str
    stage: Stage | None
    on: date | None
    note: str | None
    actor: str
    recorded_at: datetime


class EnquiryFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of the enquiry list; every one optional."""

    stage: Stage | None = None
    status: Status | None = None
    channel: Channel | None = None
    campaign: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    overdue: Overdue | None = None


class EnquiryPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of enquiries and the total that match."""

    items: list[EnquiryRecord]
    total: int
    limit: int
    offset: int


def reached_stages(row: Enquiry) -> dict[Stage, date]:
    """Each stage reached so far, with its date (the enquiry's own included)."""
    reached = {Stage.ENQUIRY: row.received_on}
    for stage in LATER_STAGES:
        on = getattr(row, stage.date_column)
        if on is not None:
            reached[stage] = on
    return reached


def status_of(row: Enquiry) -> Status:
    """Open, closed or approved."""
    if row.closed_on is not None:
        return Status.CLOSED
    if row.approved_on is not None:
        return Status.APPROVED
    return Status.OPEN


def overdue_of(row: Enquiry, today: date) -> list[Overdue]:
    """The timeliness norms an open enquiry has missed on `today`."""
    if status_of(row) is not Status.OPEN:
        return []
    late = []
    if Stage(row.stage) is Stage.ENQUIRY and first_contact_due(row.received_on) < today:
        late.append(Overdue.FIRST_CONTACT)
    if row.application_on is not None and approval_due(row.application_on) < today:
        late.append(Overdue.APPROVAL)
    return late


def to_record(row: Enquiry, today: date) -> EnquiryRecord:
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
        first_contact_due=first_contact_due(row.received_on),
        approval_due=approval_due(row.application_on) if row.application_on else None,
        overdue=overdue_of(row, today),
        version=row.version,
        erased=row.erased_at is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def check_received_on(received_on: date, today: date, field: str = "received_on") -> None:
    """Refuse a receipt date in the future or implausibly old."""
    if received_on > today:
        raise InvalidValueError(f"{field} {received_on.isoformat()} is in the future", field=field)
    if received_on < EARLIEST_DATE:
        raise InvalidValueError(
            f"{field} {received_on.isoformat()} is before {EARLIEST_DATE.isoformat()}",
            field=field,
        )


def _load(session: Session, authority_code: str, enquiry_id: int, *, lock: bool = False) -> Enquiry:
    query = select(Enquiry).where(
        Enquiry.id == enquiry_id, Enquiry.authority_code == authority_code
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(f"no enquiry {enquiry_id} in authority {authority_code}", field="id")
    return row


def _touch(row: Enquiry) -> None:
    row.version += 1
    row.updated_at = utcnow()


def _event(
    session: Session,
    row: Enquiry,
    caller: Caller,
    action: str,
    *,
    stage: Stage | None = None,
    on: date | None = None,
    note: str | None = None,
) -> None:
    assert row.id is not None
    session.add(
        EnquiryEvent(
            enquiry_id=row.id,
            action=action,
            stage=stage.value if stage else None,
            on_date=on,
            note=note,
            actor=caller.actor,
        )
    )


def _ensure_unique_ref(session: Session, authority_code: str, ref: str, own_id: int | None) -> None:
    query = select(Enquiry.id).where(
        Enquiry.authority_code == authority_code, Enquiry.external_ref == ref
    )
    found = session.scalars(query).first()
    if found is not None and found != own_id:
        raise ConflictError(
            f"external_ref {ref!r} already belongs to enquiry {found}",
            rule="external_ref_taken",
            field="external_ref",
        )


def create_enquiry(
    session: Session, caller: Caller, authority_code: str, new: NewEnquiry, today: date
) -> EnquiryRecord:
    """Log a new enquiry at the enquiry stage."""
    get_authority(session, authority_code)
    check_received_on(new.received_on, today)
    if new.external_ref is not None:
        _ensure_unique_ref(session, authority_code, new.external_ref, None)
    row = Enquiry(
        authority_code=authority_code,
        external_ref=new.external_ref,
        received_on=new.received_on,
        channel=new.channel.value,
        campaign=new.campaign,
        enquirer_name=new.enquirer_name,
        email=new.email,
        phone=new.phone,
        postcode_district=new.postcode_district.upper() if new.postcode_district else None,
        household_type=new.household_type.value if new.household_type else None,
        ethnicity=new.ethnicity.value if new.ethnicity else None,
        interests=sorted({i.value for i in new.interests}),
    )
    session.add(row)
    session.flush()
    _event(session, row, caller, "created", stage=Stage.ENQUIRY, on=new.received_on, note=new.note)
    audit.record(session, caller, "create", "enquiry", row.id, authority_code=authority_code)
    session.flush()
    return to_record(row, today)


def get_enquiry(
    session: Session, authority_code: str, enquiry_id: int, today: date
) -> EnquiryRecord:
    """One enquiry of an authority."""
    return to_record(_load(session, authority_code, enquiry_id), today)


def advance_enquiry(
    session: Session,
    caller: Caller,
    authority_code: str,
    enquiry_id: int,
    move: StageMove,
    today: date,
    expected_version: int | None = None,
) -> EnquiryRecord:
    """Move an open enquiry forward to a later stage."""
    row = _load(session, authority_code, enquiry_id, lock=True)
    check_version("enquiry", row.id, row.version, expected_version)
    if row.closed_on is not None:
        raise StageRuleError(
            f"enquiry {enquiry_id} is closed: reopen it before moving it on",
            rule="closed_enquiry",
            field="stage",
        )
    on = move.on or today
    check_advance(reached_stages(row), Stage(row.stage), move.stage, on, today)
    setattr(row, move.stage.date_column, on)
    row.stage = move.stage.value
    _touch(row)
    _event(session, row, caller, "advanced", stage=move.stage, on=on, note=move.note)
    audit.record(
        session,
        caller,
        "stage",
        "enquiry",
        row.id,
        authority_code=authority_code,
        detail={"stage": move.stage.value},
    )
    session.flush()
    return to_record(row, today)


def close_enquiry(
    session: Session,
    caller: Caller,
    authority_code: str,
    enquiry_id: int,
    closure: Closure,
    today: date,
    expected_version: int | None = None,
) -> EnquiryRecord:
    """Close an open enquiry with a reason."""
    row = _load(session, authority_code, enquiry_id, lock=True)
    check_version("enquiry", row.id, row.version, expected_version)
    if row.closed_on is not None:
        raise StageRuleError(
            f"enquiry {enquiry_id} is already closed", rule="already_closed", field="reason"
        )
    current = Stage(row.stage)
    check_closure(current, closure.reason)
    on = closure.on or today
    check_stage_date(reached_stages(row), current, on, today)
    row.closed_on, row.closure_reason = on, closure.reason.value
    _touch(row)
    _event(session, row, caller, "closed", stage=current, on=on, note=closure.note)
    audit.record(
        session,
        caller,
        "close",
        "enquiry",
        row.id,
        authority_code=authority_code,
        detail={"reason": closure.reason.value},
    )
    session.flush()
    return to_record(row, today)


def reopen_enquiry(
    session: Session,
    caller: Caller,
    authority_code: str,
    enquiry_id: int,
    reopening: Reopening,
    today: date,
    expected_version: int | None = None,
) -> EnquiryRecord:
    """Reopen a closed enquiry and/or move it back to an earlier stage.

    Moving back clears the dates of the later stages (the history keeps them).
    """
    row = _load(session, authority_code, enquiry_id, lock=True)
    check_version("enquiry", row.id, row.version, expected_version)
    current = Stage(row.stage)
    target = reopening.stage or current
    if row.closed_on is None and target is current:
        raise StageRuleError(
            f"enquiry {enquiry_id} is open: give an earlier stage to move it back",
            rule="not_closed",
            field="stage",
        )
    if target.rank > current.rank:
        raise StageRuleError(
            f"reopening moves back only: {target} is after {current} (move it forward instead)",
            rule="reopen_backwards_only",
            field="stage",
        )
    if target not in reached_stages(row):
        raise StageRuleError(
            f"the enquiry never reached {target}: reopen it at a stage it reached",
            rule="stage_not_reached",
            field="stage",
        )
    for stage in STAGE_ORDER[target.rank + 1 :]:
        setattr(row, stage.date_column, None)
    row.stage = target.value
    row.closed_on, row.closure_reason = None, None
    _touch(row)
    _event(session, row, caller, "reopened", stage=target, note=reopening.note)
    audit.record(
        session,
        caller,
        "reopen",
        "enquiry",
        row.id,
        authority_code=authority_code,
        detail={"stage": target.value},
    )
    session.flush()
    return to_record(row, today)


def edit_enquiry(
    session: Session,
    caller: Caller,
    authority_code: str,
    enquiry_id: int,
    changes: EnquiryChanges,
    today: date,
    expected_version: int,
) -> EnquiryRecord:
    """Change an enquiry's details; the caller must name the version it read."""
    row = _load(session, authority_code, enquiry_id, lock=True)
    check_version("enquiry", row.id, row.version, expected_version)
    given = {
        f: getattr(changes, f)
        for f in changes.__struct_fields__
        if getattr(changes, f) is not msgspec.UNSET
    }
    if row.erased_at is not None and any(
        given.get(f) is not None for f in PERSONAL_FIELDS if f in given
    ):
        raise ConflictError(
            f"enquiry {enquiry_id} had its personal data erased: it cannot be added back",
            rule="erased",
            field=next(f for f in PERSONAL_FIELDS if given.get(f) is not None),
        )
    if "received_on" in given:
        check_received_on(given["received_on"], today)
        reached = reached_stages(row) | {Stage.ENQUIRY: given["received_on"]}
        check_history(reached, today)
    if given.get("external_ref") is not None:
        _ensure_unique_ref(session, authority_code, given["external_ref"], row.id)
    changed = []
    for name, value in given.items():
        stored = _stored_value(name, value)
        if getattr(row, name) != stored:
            setattr(row, name, stored)
            changed.append(name)
    if changed:
        _touch(row)
        _event(session, row, caller, "edited", note="changed: " + ", ".join(sorted(changed)))
        audit.record(
            session,
            caller,
            "update",
            "enquiry",
            row.id,
            authority_code=authority_code,
            detail={"fields": sorted(changed)},
        )
    session.flush()
    return to_record(row, today)


def _stored_value(name: str, value: Any) -> Any:
    if isinstance(value, list):
        return sorted({v.value if isinstance(v, enum.Enum) else v for v in value})
    if isinstance(value, enum.Enum):
        return value.value
    if name == "postcode_district" and value is not None:
        return value.upper()
    return value


def erase_personal_data(
    session: Session, caller: Caller, authority_code: str, enquiry_id: int, today: date
) -> EnquiryRecord:
    """Erase an enquirer's personal data; dates and stages stay for the statistics.

    Notes in the history can hold personal details too, so they are blanked as well.
    """
    row = _load(session, authority_code, enquiry_id, lock=True)
    for name in PERSONAL_FIELDS:
        setattr(row, name, None)
    row.erased_at = utcnow()
    _touch(row)
    for event in session.scalars(select(EnquiryEvent).where(EnquiryEvent.enquiry_id == row.id)):
        if event.note is not None:
            event.note = "[erased]"
    _event(session, row, caller, "erased")
    audit.record(session, caller, "erase", "enquiry", row.id, authority_code=authority_code)
    session.flush()
    return to_record(row, today)


def enquiry_history(session: Session, authority_code: str, enquiry_id: int) -> list[EventRecord]:
    """Every change of one enquiry, oldest first."""
    _load(session, authority_code, enquiry_id)
    query = (
        select(EnquiryEvent).where(EnquiryEvent.enquiry_id == enquiry_id).order_by(EnquiryEvent.id)  # type: ignore[arg-type]
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
        conditions += [Enquiry.closed_on.is_(None), Enquiry.approved_on.is_(None)]  # type: ignore[union-attr]
    elif filters.status is Status.CLOSED:
        conditions.append(Enquiry.closed_on.is_not(None))  # type: ignore[union-attr]
    elif filters.status is Status.APPROVED:
        conditions += [Enquiry.approved_on.is_not(None), Enquiry.closed_on.is_(None)]  # type: ignore[union-attr]
    if filters.channel is not None:
        conditions.append(Enquiry.channel == filters.channel.value)
    if filters.campaign is not None:
        conditions.append(Enquiry.campaign == filters.campaign)
    if filters.received_from is not None:
        conditions.append(Enquiry.received_on >= filters.received_from)
    if filters.received_to is not None:
        conditions.append(Enquiry.received_on <= filters.received_to)
    if filters.overdue is not None:
        conditions += [Enquiry.closed_on.is_(None), Enquiry.approved_on.is_(None)]  # type: ignore[union-attr]
        first_contact = (Enquiry.stage == Stage.ENQUIRY.value) & (
            Enquiry.received_on <= first_contact_overdue_if_received_by(today)
        )
        approval = Enquiry.application_on <= approval_overdue_if_applied_by(today)  # type: ignore[operator]
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
) -> EnquiryPage:
    """A page of an authority's enquiries, newest first, and how many match in all."""
    get_authority(session, authority_code)
    if any_overdue:
        conditions = any_overdue_conditions(authority_code, today)
    else:
        conditions = filter_conditions(authority_code, filters, today)
    total = session.scalar(select(func.count()).select_from(Enquiry).where(*conditions)) or 0
    query = (
        select(Enquiry)
        .where(*conditions)
        .order_by(Enquiry.received_on.desc(), Enquiry.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(limit)
        .offset(offset)
    )
    items = [to_record(r, today) for r in session.scalars(query)]
    return EnquiryPage(items=items, total=total, limit=limit, offset=offset)
