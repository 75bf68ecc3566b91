"""Moving enquiries through the funnel: logging one, advancing, closing and reopening it,
editing it, and erasing its personal data; every change audited and kept in its history."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import stored_authorities
from tracker.core.clock import utcnow
from tracker.core.db import checkpoint_after_commit
from tracker.core.errors import (
    ConflictError,
    DomainError,
    InvalidValueError,
    NotFoundError,
    StageRuleError,
    check_version,
)
from tracker.core.monthly_upkeep import enquiries_created, enquiries_touched
from tracker.enquiries.monthly import enquiry_months
from tracker.enquiries.queries import load_enquiry, reached_stages, to_record
from tracker.enquiries.schemas import (
    EARLIEST_DATE,
    Closure,
    EnquiryChanges,
    EnquiryRecord,
    NewEnquiry,
    Reopening,
    StageMove,
)
from tracker.enquiries.stages import (
    STAGE_ORDER,
    Stage,
    check_advance,
    check_closure,
    check_history,
    check_stage_date,
)
from tracker.enquiries.tables import ERASED_FIELDS, PERSONAL_FIELDS, Enquiry, EnquiryEvent
from tracker.hubs.tables import HubEnquiry


def check_received_on(received_on: date, today: date, field: str = "received_on") -> None:
    """Refuse a receipt date in the future or implausibly old."""
    if received_on > today:
        raise InvalidValueError(f"{field} {received_on.isoformat()} is in the future", field=field)
    if received_on < EARLIEST_DATE:
        raise InvalidValueError(
            f"{field} {received_on.isoformat()} is before {EARLIEST_DATE.isoformat()}",
            field=field,
        )


def _changed(
    session: Session,
    row: Enquiry,
    caller: Caller,
    action: str,
    *,
    audited: str,
    detail: dict[str, Any] | None = None,
    stage: Stage | None = None,
    on: date | None = None,
    note: str | None = None,
    new: bool = False,
) -> None:
    """Bump the enquiry's version (unless `new`), add the change to its history (`action`)
    and to the audit log (`audited`, with `detail`: names and codes, never personal data)."""
    assert row.id is not None
    if not new:
        row.version += 1
        row.updated_at = utcnow()
    _log(
        session,
        row.id,
        row.authority_code,
        caller,
        action,
        audited=audited,
        detail=detail,
        stage=stage,
        on=on,
        note=note,
    )


def _log(
    session: Session,
    enquiry_id: int,
    authority_code: str,
    caller: Caller,
    action: str,
    *,
    audited: str,
    detail: dict[str, Any] | None = None,
    stage: Stage | None = None,
    on: date | None = None,
    note: str | None = None,
) -> None:
    """Write one change to the enquiry's history and to the audit log, each by a Core INSERT
    (one change per request: no ORM objects to build and flush)."""
    session.execute(
        insert(EnquiryEvent.__table__),  # type: ignore[arg-type]
        {
            "enquiry_id": enquiry_id,
            "action": action,
            "stage": stage.value if stage else None,
            "on_date": on,
            "note": note,
            "actor": caller.actor,
            "recorded_at": utcnow(),
        },
    )
    audit.record_now(
        session,
        caller,
        audited,
        "enquiry",
        enquiry_id,
        authority_code=authority_code,
        detail=detail,
    )


def _ensure_unique_ref(session: Session, authority_code: str, ref: str, own_id: int | None) -> None:
    query = select(Enquiry.id).where(
        Enquiry.authority_code == authority_code, Enquiry.external_ref == ref
    )
    found = session.scalars(query).first()
    if found is not None and found != own_id:
        raise _ref_taken(ref, found)


def _ref_taken(ref: str, found: int) -> ConflictError:
    return ConflictError(
        f"external_ref {ref!r} already belongs to enquiry {found}",
        rule="external_ref_taken",
        field="external_ref",
    )


def _stored_refs(session: Session, pending: Sequence[PendingEnquiry]) -> dict[tuple[str, str], int]:
    """The stored enquiry of each (council, external_ref) `pending` sends, where there is one:
    one query for them all."""
    sent = {
        (item.authority_code, item.new.external_ref)
        for item in pending
        if item.new.external_ref is not None
    }
    if not sent:
        return {}
    query = select(Enquiry.authority_code, Enquiry.external_ref, Enquiry.id).where(
        col(Enquiry.authority_code).in_(sorted({code for code, _ in sent})),
        col(Enquiry.external_ref).in_(sorted({ref for _, ref in sent})),
    )
    found: dict[tuple[str, str], int] = {}
    for code, ref, enquiry_id in session.execute(query):
        if (code, ref) in sent:
            found.setdefault((code, ref), enquiry_id)
    return found


class PendingEnquiry(msgspec.Struct, frozen=True):
    """An enquiry to log: who logs it, for which council, what was sent, and today."""

    caller: Caller
    authority_code: str
    new: NewEnquiry
    today: date


def create_enquiry(
    session: Session, caller: Caller, authority_code: str, new: NewEnquiry, today: date
) -> EnquiryRecord:
    """Log a new enquiry at the enquiry stage (`create_enquiries` of one; its refusal raised)."""
    (result,) = create_enquiries(session, [PendingEnquiry(caller, authority_code, new, today)])
    if isinstance(result, DomainError):
        raise result
    return result


def create_enquiries(
    session: Session, pending: Sequence[PendingEnquiry]
) -> list[EnquiryRecord | DomainError]:
    """Log new enquiries at the enquiry stage, in the session's transaction: for each, its
    record or the refusal that left it unwritten (a date in the future, an unknown council, an
    external_ref already taken), so that one refused enquiry never fails the others.

    Each statement writes every enquiry at once (the enquiries, their history rows, their
    audit entries, the prepared months' counts): many enquiries cost a few statements more
    than one. The statements are Core ones on the session's connection, and each record is
    built from the row the INSERT returns, as stored.
    """
    known = stored_authorities(session, {item.authority_code for item in pending})
    stored = _stored_refs(session, pending)
    taken: set[tuple[str, str]] = set()
    refusals = [_refusal(item, known, stored, taken) for item in pending]
    accepted = [item for item, refused in zip(pending, refusals, strict=True) if refused is None]
    records = iter(_write_new(session, accepted) if accepted else [])
    return [next(records) if refused is None else refused for refused in refusals]


def _refusal(
    item: PendingEnquiry,
    known: set[str],
    stored: dict[tuple[str, str], int],
    taken: set[tuple[str, str]],
) -> DomainError | None:
    """Why `item` may not be logged, if it may not: `known` holds the stored councils, `stored`
    the enquiries holding the external references sent, `taken` the external references of
    the enquiries accepted before it (it adds its own)."""
    try:
        check_received_on(item.new.received_on, item.today)
        if item.authority_code not in known:
            raise NotFoundError(f"no authority with code {item.authority_code}", field="code")
        if item.new.external_ref is not None:
            ref = (item.authority_code, item.new.external_ref)
            if ref in taken:
                raise ConflictError(
                    f"external_ref {ref[1]!r} is sent twice at once",
                    rule="external_ref_taken",
                    field="external_ref",
                )
            if ref in stored:
                raise _ref_taken(ref[1], stored[ref])
            taken.add(ref)
    except DomainError as refused:
        return refused
    return None


def _enquiry_values(item: PendingEnquiry, now: datetime) -> dict[str, Any]:
    new = item.new
    return {
        "authority_code": item.authority_code,
        "external_ref": new.external_ref,
        "received_on": new.received_on,
        "channel": new.channel.value,
        "campaign": new.campaign,
        "enquirer_name": new.enquirer_name,
        "email": new.email,
        "phone": new.phone,
        "postcode_district": new.postcode_district.upper() if new.postcode_district else None,
        "household_type": new.household_type.value if new.household_type else None,
        "ethnicity": new.ethnicity.value if new.ethnicity else None,
        "interests": sorted({i.value for i in new.interests}),
        "stage": Stage.ENQUIRY.value,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _write_new(session: Session, items: list[PendingEnquiry]) -> list[EnquiryRecord]:
    """Write accepted enquiries, their history and audit entries and their months' counts;
    their records, in the same order."""
    now = utcnow()
    add_enquiry, add_event = _create_statements()
    connection = session.connection()
    rows = connection.execute(add_enquiry, [_enquiry_values(i, now) for i in items]).all()
    connection.execute(
        add_event,
        [
            {
                "enquiry_id": row.id,
                "action": "created",
                "stage": Stage.ENQUIRY.value,
                "on_date": item.new.received_on,
                "note": item.new.note,
                "actor": item.caller.actor,
                "recorded_at": now,
            }
            for item, row in zip(items, rows, strict=True)
        ],
    )
    audit.record_many(
        session,
        [
            (item.caller, "create", "enquiry", row.id, item.authority_code)
            for item, row in zip(items, rows, strict=True)
        ],
    )
    enquiries_created(
        session, [(row.authority_code, row.received_on, row.channel, row.campaign) for row in rows]
    )
    return [to_record(row, item.today) for item, row in zip(items, rows, strict=True)]


@cache
def _create_statements() -> tuple[Any, Any]:
    """The INSERTs of new enquiries (returning the stored rows, in the order sent) and of
    their history rows, built once."""
    table: Any = Enquiry.__table__
    return (
        insert(table).returning(*table.c, sort_by_parameter_order=True),
        insert(EnquiryEvent.__table__),  # type: ignore[arg-type]
    )


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
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
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
    _changed(
        session,
        row,
        caller,
        "advanced",
        audited="stage",
        detail={"stage": move.stage.value},
        stage=move.stage,
        on=on,
        note=move.note,
    )
    session.flush()
    enquiries_touched(session, authority_code, enquiry_months(row))
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
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
    check_version("enquiry", row.id, row.version, expected_version)
    if row.closed_on is not None:
        raise StageRuleError(
            f"enquiry {enquiry_id} is already closed", rule="already_closed", field="reason"
        )
    current = Stage(row.stage)
    check_closure(current, closure.reason, closure.withdrawal_reason)
    on = closure.on or today
    check_stage_date(reached_stages(row), current, on, today)
    row.closed_on, row.closure_reason = on, closure.reason.value
    row.withdrawal_reason = closure.withdrawal_reason.value if closure.withdrawal_reason else None
    _changed(
        session,
        row,
        caller,
        "closed",
        audited="close",
        detail={"reason": closure.reason.value, "withdrawal_reason": row.withdrawal_reason},
        stage=current,
        on=on,
        note=closure.note,
    )
    session.flush()
    enquiries_touched(session, authority_code, enquiry_months(row))
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
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
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
    touched = enquiry_months(row)
    for stage in STAGE_ORDER[target.rank + 1 :]:
        setattr(row, stage.date_column, None)
    row.stage = target.value
    row.closed_on, row.closure_reason, row.withdrawal_reason = None, None, None
    _changed(
        session,
        row,
        caller,
        "reopened",
        audited="reopen",
        detail={"stage": target.value},
        stage=target,
        note=reopening.note,
    )
    session.flush()
    enquiries_touched(session, authority_code, touched)
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
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
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
    touched = enquiry_months(row)
    changed = []
    for name, value in given.items():
        stored = stored_value(name, value)
        if getattr(row, name) != stored:
            setattr(row, name, stored)
            changed.append(name)
    if changed:
        _changed(
            session,
            row,
            caller,
            "edited",
            audited="update",
            detail={"fields": sorted(changed)},
            note="changed: " + ", ".join(sorted(changed)),
        )
    session.flush()
    if changed:
        enquiries_touched(session, authority_code, touched | enquiry_months(row))
    return to_record(row, today)


def stored_value(name: str, value: Any) -> Any:
    """A field value as the enquiry table stores it (codes, sorted lists, upper-case postcode)."""
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

    Free text can hold personal details too (the campaign, notes in the history), so it is
    blanked as well.
    """
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
    had_campaign = row.campaign is not None
    for name in ERASED_FIELDS:
        setattr(row, name, None)
    row.erased_at = utcnow()
    for event in session.scalars(select(EnquiryEvent).where(EnquiryEvent.enquiry_id == row.id)):
        if event.note is not None:
            event.note = "[erased]"
    # A hub's keyed hashes of the contact details go too: they still match the person.
    session.execute(
        update(HubEnquiry)
        .where(HubEnquiry.enquiry_id == row.id)
        .values(email_key=None, phone_key=None)
    )
    _changed(session, row, caller, "erased", audited="erase")
    session.flush()
    # Of the prepared figures only the cohort's split by campaign moves (dates and stages
    # stay): its month of receipt, when it had a campaign.
    enquiries_touched(session, authority_code, [row.received_on] if had_campaign else [])
    # What the erasure overwrote must leave SQLite's write-ahead log too.
    checkpoint_after_commit(session)
    return to_record(row, today)
