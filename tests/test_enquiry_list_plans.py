"""The recruiters' list reads what it needs and no more, on SQLite and PostgreSQL: the work
tray's and the overview's overdue counts read the partial indexes of open enquiries
(migration 0014), and the list page runs the same statements however many enquiries there
are (no query per row)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from tests.conftest import COVENTRY, STOKE
from tests.test_dashboard import sign_in
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.enquiries.queries import get_enquiry, list_enquiries
from tracker.enquiries.schemas import (
    EnquiryChanges,
    EnquiryFilter,
    NewEnquiry,
    Overdue,
    StageMove,
)
from tracker.enquiries.search import EnquirySort
from tracker.enquiries.service import (
    advance_enquiry,
    create_enquiry,
    edit_enquiry,
    erase_personal_data,
)
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.tray import work_tray
from tracker.enquiries.vocabulary import Channel
from tracker.hubs.queries import council_tray

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


def _closed_history(database: Database, n: int, *, named: bool = False, code: str = STOKE) -> None:
    """`n` closed enquiries of earlier years (Stoke's unless `code` says), written in bulk
    (`named`: with a name, email and reference each, none holding "person"), and the
    planner's statistics: a council's history, which the open enquiries' indexes leave
    out."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "authority_code": code,
            **(
                {
                    "enquirer_name": f"Closed Enquirer {i}",
                    "email": f"closed.enquirer.{i}@example.org",
                    "external_ref": f"OLD-{code}-{i}",
                    "phone": f"01782 {i:06d}",
                    "postcode_district": "ST4",
                    "campaign": "Spring radio and bus-stop campaign, second wave",
                }
                if named
                else {}
            ),
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
    # One statement per norm: its most overdue and, in the same scan, how many.
    reads = [(s, p) for s, p in seen if "FROM enquiry" in s]
    assert len(reads) == 2 and all("count(*) OVER ()" in s for s, _ in reads), reads
    plans = [_plan(authorities, s, p) for s, p in reads]
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


def _one_days_bulk(database: Database, n: int) -> None:
    """`n` Stoke enquiries all received on TODAY (a day's import), beside a history."""
    now = datetime(2026, 11, 23, tzinfo=UTC)
    row = {
        "authority_code": STOKE,
        "received_on": TODAY,
        "channel": Channel.PHONE.value,
        "interests": [],
        "stage": Stage.ENQUIRY.value,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    with database.engine.begin() as conn:
        conn.execute(insert(Enquiry), [row] * n)
    _closed_history(database, 3000)


@pytest.mark.parametrize("sort", [EnquirySort.NEWEST, EnquirySort.OLDEST])
def test_a_list_page_is_read_off_the_index_in_order_however_many_share_a_day(
    authorities: Database, sort: EnquirySort
) -> None:
    _one_days_bulk(authorities, 2000)
    with authorities.read_session() as session, statements(authorities) as seen:
        page = list_enquiries(
            session, STOKE, EnquiryFilter(), TODAY, limit=25, offset=50, sort=sort
        )
    with authorities.read_session() as session:
        everything = session.execute(
            select(Enquiry.received_on, Enquiry.id).where(Enquiry.authority_code == STOKE)
        ).all()
    ordered = sorted(everything, reverse=sort is EnquirySort.NEWEST)
    assert [e.id for e in page.items] == [i for _, i in ordered[50:75]]
    assert page.total == 5000
    read = next((s, p) for s, p in seen if "LIMIT" in s)
    plan = _plan(authorities, *read)
    assert "ix_enquiry_authority_received" in plan, plan
    # No sort of the day's 2,000 enquiries by id (migration 0019; SQLite's indexes end with
    # the id anyway).
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


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


@pytest.mark.parametrize("term", ["PERSON 1", "Person"])
def test_a_search_reads_the_search_indexes_not_the_rows(authorities: Database, term: str) -> None:
    _log(authorities, 30)
    # Stoke among other councils, as a council is among the national set's 155.
    _closed_history(authorities, 20_000, named=True)
    _closed_history(authorities, 20_000, named=True, code=COVENTRY)
    with authorities.read_session() as session, statements(authorities) as seen:
        page = list_enquiries(
            session,
            STOKE,
            EnquiryFilter(search=term),
            TODAY,
            limit=5,
            offset=0,
            sort=EnquirySort.NAME,
        )
    wanted = term.lower().removeprefix("person").strip()
    names = [f"Person {i}" for i in range(30) if str(i).startswith(wanted)]
    assert page.total == len(names)
    assert [e.enquirer_name for e in page.items] == sorted(names, key=str.lower)[:5]
    scan = next((s, p) for s, p in seen if "OVER ()" in s)
    plan = _plan(authorities, *scan)
    if authorities.is_sqlite:
        assert "COVERING INDEX ix_enquiry_search" in plan, plan
    elif term == "Person":
        # The council's trigrams of each searched field (migration 0016). ("person 1" holds
        # the trigrams of a lone "1", which every history row's number has: PostgreSQL then
        # rightly reads the council's rows instead.)
        for index in ("ix_enquiry_trgm_name", "ix_enquiry_trgm_email", "ix_enquiry_trgm_ref"):
            assert f"Bitmap Index Scan on {index}" in plan, plan


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


PEOPLE = (
    ("Jo Smith", "jo.smith@example.org", "REF-1"),
    ("Sam Smithson", None, "SMITH-77"),
    ("Ann Goldsmith", "ann@goldsmith.example", None),
    ("Lee Brown", "lee.brown@smithfield.example", "REF-2"),
    ("Kim Jones", "kim@example.org", "REF-3"),
    (None, None, None),
)


def _people(database: Database) -> dict[str, int]:
    """PEOPLE as Stoke's enquiries and one of Coventry's, ids by reference (or name)."""
    ids = {}
    with database.writing() as session:
        for name, email, ref in PEOPLE:
            record = create_enquiry(
                session,
                SYSTEM,
                STOKE,
                NewEnquiry(
                    received_on=TODAY,
                    channel=Channel.PHONE,
                    enquirer_name=name,
                    email=email,
                    external_ref=ref,
                ),
                TODAY,
            )
            ids[ref or name or "nobody"] = record.id
        create_enquiry(
            session,
            SYSTEM,
            COVENTRY,
            NewEnquiry(received_on=TODAY, channel=Channel.PHONE, enquirer_name="Al Smith"),
            TODAY,
        )
    return ids


def _found(database: Database, term: str) -> list[int]:
    with database.read_session() as session:
        page = list_enquiries(
            session,
            STOKE,
            EnquiryFilter(search=term),
            TODAY,
            limit=100,
            offset=0,
            sort=EnquirySort.NAME,
        )
    assert page.total == len(page.items)
    return sorted(e.id for e in page.items)


def _reference(database: Database, term: str) -> list[int]:
    """The raw reference: Stoke's enquiries whose name, email or reference holds `term` in
    any case, read row by row in Python."""
    wanted = term.strip().lower()
    with database.read_session() as session:
        rows = session.scalars(select(Enquiry).where(Enquiry.authority_code == STOKE)).all()
        return sorted(
            row.id
            for row in rows
            if row.id is not None
            and any(
                wanted in (value or "").lower()
                for value in (row.enquirer_name, row.email, row.external_ref)
            )
        )


TERMS = ("smith", "SMITH", "Smi", "example", "ref-", "gold", "jo.s", "nobody-at-all")


def test_search_matches_the_raw_reference_after_create_edit_and_erasure(
    authorities: Database,
) -> None:
    ids = _people(authorities)
    for term in TERMS:
        assert _found(authorities, term) == _reference(authorities, term), term
    assert len(_found(authorities, "smith")) == 4  # never Coventry's Al Smith
    with authorities.writing() as session:
        edited = get_enquiry(session, STOKE, ids["REF-1"], TODAY)
        edit_enquiry(
            session,
            SYSTEM,
            STOKE,
            edited.id,
            EnquiryChanges(enquirer_name="Jo Baker", email="jo.baker@example.org"),
            TODAY,
            expected_version=edited.version,
        )
    with authorities.writing() as session:
        erase_personal_data(session, SYSTEM, STOKE, ids["SMITH-77"], TODAY)
        erase_personal_data(session, SYSTEM, STOKE, ids["REF-2"], TODAY)
    for term in (*TERMS, "baker"):
        assert _found(authorities, term) == _reference(authorities, term), term
    # The erased Smithson is found by the reference erasure keeps, no longer by the name.
    assert _found(authorities, "smith") == sorted([ids["SMITH-77"], ids["Ann Goldsmith"]])
    assert _found(authorities, "smithson") == []
    assert ids["REF-1"] not in _found(authorities, "jo.smith")
    assert ids["REF-2"] not in _found(authorities, "smithfield")
    assert _found(authorities, "baker") == [ids["REF-1"]]


def test_the_handover_tray_reads_the_hubs_enquiries_not_the_councils(
    authorities: Database,
) -> None:
    _closed_history(authorities, 3000)
    with authorities.read_session() as session, statements(authorities) as seen:
        assert council_tray(session, STOKE, TODAY) == []
    read = next((s, p) for s, p in seen if "FROM hub_enquiry" in s)
    plan = _plan(authorities, *read)
    # Never the council's every enquiry (SQLite's planner, without statistics, once did).
    assert "ix_enquiry_authority" not in plan, plan
    if authorities.is_sqlite:
        assert "SCAN hub_enquiry" in plan, plan
