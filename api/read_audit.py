"""Audit of reads of enquirers' personal data: who saw which enquiry, and when.

A route that shows one enquirer's record writes one `read` entry naming the enquiry and the
view; a list, search or tray writes one `list` entry per page with how many enquiries it
showed, whether a search term was used (never the term) and the ids it showed (`shown`), so
`GET /audit?enquiry_id=` finds the pages that showed a person as well as the reads of their
record. Entries hold ids and counts only: erasure keeps them.

The entries of read routes are written by a group-commit writer (`state.read_audit`, one
transaction for every read waiting) and the route answers once its entry is written, so a
read the log misses fails rather than answers. Routes holding a write session write in it
instead (`in_session`): on SQLite a request holding the write lock must not wait for the
writer. Reads never move the council's revision (`audit.READ_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller

ENTITY = "enquiry"


def one(authority_code: str, enquiry_id: int, view: str, caller: Caller) -> audit.Entry:
    """The entry of one enquirer's record shown (`view` names the route's kind of page)."""
    return audit.Entry(caller, "read", ENTITY, enquiry_id, authority_code, {"view": view})


def listed(
    authority_code: str, view: str, ids: Iterable[int], caller: Caller, *, search: bool = False
) -> audit.Entry:
    """The entry of a page listing enquiries: how many, whether searched, which ids."""
    shown = sorted(set(ids))
    detail: dict[str, Any] = {"view": view, "count": len(shown), "search": search}
    detail[audit.SHOWN] = shown
    return audit.Entry(caller, "list", ENTITY, None, authority_code, detail)


def write(request: Request[Any, Any, Any], entry: audit.Entry) -> None:
    """Write the entry of a read route (one with a read session) before it answers."""
    state = request.app.state
    writer = state.get("read_audit")
    if writer is not None and writer.running:
        writer.submit(entry).result()
        return
    with state.database.writing() as session:  # an app not started (no writer thread)
        audit.write_entries(session, [entry])


def in_session(session: Session, entry: audit.Entry) -> None:
    """Write the entry in a write session's transaction and commit it (a form's page shown
    again after its change was refused and rolled back)."""
    audit.write_entries(session, [entry])
    session.commit()
