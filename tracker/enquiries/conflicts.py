"""What someone else changed: when an edit is made against a version of an enquiry that is
no longer the stored one, the changes recorded since and the fields where the edit and the
stored enquiry now differ."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from tracker.enquiries.queries import enquiry_history, get_enquiry
from tracker.enquiries.schemas import EnquiryChanges, EnquiryRecord, EventRecord
from tracker.enquiries.service import stored_value


class FieldDifference(msgspec.Struct, frozen=True, kw_only=True):
    """A field the edit would set to `yours` while the stored enquiry now holds `theirs`."""

    field: str
    yours: Any
    theirs: Any


class EditConflict(msgspec.Struct, frozen=True, kw_only=True):
    """The stored enquiry now, the history entries since the version the editor read, and
    where the edit differs from it."""

    current: EnquiryRecord
    since: list[EventRecord]
    differences: list[FieldDifference]


def changes_since(
    session: Session, authority_code: str, enquiry_id: int, version: int
) -> list[EventRecord]:
    """The history entries after `version`: every change adds one entry and one version
    (created is version 1), so those past the first `version` entries came later."""
    return enquiry_history(session, authority_code, enquiry_id)[max(version, 0) :]


def edit_conflict(
    session: Session,
    authority_code: str,
    enquiry_id: int,
    seen_version: int,
    proposed: EnquiryChanges,
    today: date,
) -> EditConflict:
    """How an edit made against `seen_version` stands against the enquiry as stored now."""
    current = get_enquiry(session, authority_code, enquiry_id, today)
    differences = []
    for name in proposed.__struct_fields__:
        yours = getattr(proposed, name)
        if yours is msgspec.UNSET:
            continue
        theirs = getattr(current, name)
        if stored_value(name, yours) != stored_value(name, theirs):
            differences.append(FieldDifference(field=name, yours=yours, theirs=theirs))
    return EditConflict(
        current=current,
        since=changes_since(session, authority_code, enquiry_id, seen_version),
        differences=differences,
    )
