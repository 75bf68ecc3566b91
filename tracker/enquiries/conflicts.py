"""What someone else changed: when an edit is made against a version of an enquiry that is
no longer the stored one, the changes recorded since, the edit merged with them, and the
fields where the two clash.

Given the values the editor's form was opened with (`base`), the merge is three-way: a field
the editor left as it was takes the stored value (so another person's change is kept, not
undone), a field only the editor changed keeps the editor's value, and a field both changed
to different values is a clash, listed for the editor to settle. Without a base every field
where the edit and the stored enquiry differ is listed, and the edit's values are kept."""

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
    """The stored enquiry now, the history entries since the version the editor read, the
    edit merged with the stored enquiry, and the fields where the two clash."""

    current: EnquiryRecord
    since: list[EventRecord]
    differences: list[FieldDifference]
    merged: EnquiryChanges
    """The edit to offer again: the editor's changes over the stored enquiry (clashes: the
    editor's value)."""


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
    base: EnquiryChanges | None = None,
) -> EditConflict:
    """How an edit made against `seen_version` stands against the enquiry as stored now;
    `base` is what the editor's form held when opened (see the module's docstring)."""
    current = get_enquiry(session, authority_code, enquiry_id, today)
    differences = []
    merged: dict[str, Any] = {}
    for name in proposed.__struct_fields__:
        yours = getattr(proposed, name)
        if yours is msgspec.UNSET:
            continue
        theirs = getattr(current, name)
        mine, stored = stored_value(name, yours), stored_value(name, theirs)
        was = getattr(base, name) if base is not None else msgspec.UNSET
        known = was is not msgspec.UNSET
        if known and stored_value(name, was) == mine:
            merged[name] = theirs  # left as it was by the editor: theirs stands
            continue
        merged[name] = yours
        they_changed = not known or stored != stored_value(name, was)
        if mine != stored and they_changed:
            differences.append(FieldDifference(field=name, yours=yours, theirs=theirs))
    return EditConflict(
        current=current,
        since=changes_since(session, authority_code, enquiry_id, seen_version),
        differences=differences,
        merged=msgspec.structs.replace(proposed, **merged),
    )
