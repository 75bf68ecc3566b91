"""The recruiters' list reads what it needs and no more, on SQLite and PostgreSQL: the work
tray's and the overview's overdue counts read the partial indexes of open enquiries
(migration 0014), and the list page runs the same statements however many enquiries there
are (no query per row)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert

from tests.conftest import STOKE
from tests.test_dashboard import sign_in
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.enquiries.queries import list_enquiries
from tracker.enquiries.schemas import EnquiryFilter, NewEnquiry, Overdue, StageMove
from tracker.enquiries.search import EnquirySort
from tracker.enquiries.service import advance_enquiry, create_enquiry
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.tray import work_tray
from tracker.enquiries.vocabulary import Channel

TODAY = date(2026, 11, 23)


@contextmanager
def statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) run inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def _log(database: Database, n: int, *, applied: int = 0) -> None:
    """`n` Stoke enquiries received over the last months, `applied` of them applicants."""
    with database.writing() as session:
        for i in range(n):
            record = create_enquiry(
                session,
                SYSTEM,
                STOKE,
                NewEnquiry(
                    received_on=TODAY - timedelta(days=400 - i % 390),
                    channel=Channel.PHONE,
                    enquirer_name=f"Person {i}",
                ),
                TODAY,
            )
            if i < applied:
                advance_enquiry(
                    session,
                    SYSTEM,
                    STOKE,
                    record.id,
                    StageMove(stage=Stage.APPLICATION, on=record.received_on),
                    TODAY,
                    expected_version=None,
                )


def _closed_history(database: Database, n: int) -> None:
    """`n` closed Stoke enquiries of earlier years, written in bulk, and the planner's
    statistics: a council's history, which the open enquiries' indexes leave out."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "authority_code": STOKE,
            "received_on": date(2016, 1, 1) + timedelta(days=i % 3000),
            "channel": Channel.PHONE.value,
            "interests": [],
            "stage": Stage.ENQUIRY.value,
            "closed_on": date(2025, 1, 1),
            "closure_reason": "no_response",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    with database.engine.begin() as conn:
        conn.execute(insert(Enquiry), rows)
    database.refresh_statistics()


def _plan(database: Database, statement: str, parameters: Any) -> str:
    """The backend's plan of one statement, as text."""
    with database.engine.connect() as conn:
        if database.is_sqlite:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
        return "\n".join(str(row[0]) for row in rows)


def _reads(database: Database, plan: str, index: str) -> bool:
    """Whether the plan reads `index`; on PostgreSQL, either index of the open enquiries
    (both hold the same dozen rows here, and its planner rightly takes either)."""
    return index in plan if database.is_sqlite else "ix_enquiry_open_" in plan


def test_the_work_tray_reads_the_open_enquiries_indexes(authorities: Database) -> None:
    _log(authorities, 12, applied=3)
    _closed_history(authorities, 3000)
    with authorities.read_session() as session, statements(authorities) as seen:
        tray = work_tray(session, STOKE, TODAY, limit=10)
    assert tray.first_contact_total == 9 and tray.approval_total == 3
    counts = [(s, p) for s, p in seen if re.match(r"\s*SELECT count", s)]
    assert len(counts) == 2
    plans = [_plan(authorities, s, p) for s, p in counts]
    wanted = ("ix_enquiry_open_stage", "ix_enquiry_open_application")
    for plan, index in zip(plans, wanted, strict=True):
        assert _reads(authorities, plan, index), plan


def test_the_overviews_overdue_count_reads_the_open_enquiries_index(
    authorities: Database,
) -> None:
    _log(authorities, 5)
    _closed_history(authorities, 3000)
    with authorities.read_session() as session, statements(authorities) as seen:
        page = list_enquiries(
            session,
            STOKE,
            EnquiryFilter(overdue=Overdue.FIRST_CONTACT),
            TODAY,
            limit=1,
            offset=0,
        )
    assert page.total == 5
    count = next((s, p) for s, p in seen if "count(" in s)
    plan = _plan(authorities, *count)
    assert _reads(authorities, plan, "ix_enquiry_open_stage"), plan


@pytest.mark.parametrize("path", ["/dashboard/enquiries", "/dashboard/enquiries?q=person"])
def test_the_list_page_costs_the_same_statements_however_many_enquiries(
    authorities: Database, tokens: dict[str, str], client: Any, path: str
) -> None:
    assert sign_in(client, tokens["recruiter_stoke"]).status_code == 303
    _log(authorities, 3)
    client.get(path)
    with statements(authorities) as few:
        assert client.get(path).status_code == 200
    _log(authorities, 60, applied=20)
    with statements(authorities) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few), [s for s, _ in many]


def test_a_search_reads_the_search_index_not_the_rows(authorities: Database) -> None:
    _log(authorities, 30)
    _closed_history(authorities, 3000)
    with authorities.read_session() as session, statements(authorities) as seen:
        page = list_enquiries(
            session,
            STOKE,
            EnquiryFilter(search="PERSON 1"),
            TODAY,
            limit=5,
            offset=0,
            sort=EnquirySort.NAME,
        )
    names = [f"Person {i}" for i in range(30) if str(i).startswith("1")]
    assert page.total == len(names)
    assert [e.enquirer_name for e in page.items] == sorted(names, key=str.lower)[:5]
    if not authorities.is_sqlite:
        return  # PostgreSQL's choice follows its statistics: SQLite's is fixed
    scan = next((s, p) for s, p in seen if "OVER ()" in s)
    plan = _plan(authorities, *scan)
    assert "COVERING INDEX ix_enquiry_search" in plan, plan


def test_a_search_page_past_the_end_still_counts_the_matches(authorities: Database) -> None:
    _log(authorities, 30)
    with authorities.read_session() as session:
        page = list_enquiries(
            session, STOKE, EnquiryFilter(search="person 2"), TODAY, limit=25, offset=50
        )
    assert page.items == [] and page.total == 11  # Person 2 and Person 20 to 29


@pytest.mark.parametrize("term", ["o'b", "a/b", "50%", "x_y"])
def test_a_search_matches_its_characters_literally_in_any_case(
    authorities: Database, term: str
) -> None:
    with authorities.writing() as session:
        for name in ("Anne O'Brien", "Sam A/B Test", "Up 50% off", "Max X_Y", "Ob Axb 50 XzY"):
            create_enquiry(
                session,
                SYSTEM,
                STOKE,
                NewEnquiry(received_on=TODAY, channel=Channel.PHONE, enquirer_name=name),
                TODAY,
            )
    with authorities.read_session() as session:
        page = list_enquiries(
            session, STOKE, EnquiryFilter(search=term.upper()), TODAY, limit=10, offset=0
        )
    assert [e.enquirer_name for e in page.items] == [
        n for n in ("Anne O'Brien", "Sam A/B Test", "Up 50% off", "Max X_Y") if term in n.lower()
    ]
