"""What the recruitment team's screens ask of the enquiries, on SQLite and PostgreSQL:
search by name, email, phone or reference; sorting; the work tray of overdue enquiries;
the duplicate-contact check; and what someone else changed before a stale edit."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import COVENTRY, STOKE
from tracker.core.access import SYSTEM
from tracker.core.audit import AuditEntry
from tracker.core.spreadsheets import FileFormat
from tracker.enquiries.conflicts import changes_since, edit_conflict
from tracker.enquiries.duplicates import MatchedOn, open_duplicates
from tracker.enquiries.files import export_enquiries, import_enquiries
from tracker.enquiries.queries import list_enquiries
from tracker.enquiries.schemas import (
    Closure,
    EnquiryChanges,
    EnquiryFilter,
    NewEnquiry,
    Overdue,
    StageMove,
)
from tracker.enquiries.search import EnquirySort
from tracker.enquiries.service import (
    advance_enquiry,
    close_enquiry,
    create_enquiry,
    edit_enquiry,
)
from tracker.enquiries.stages import ClosureReason, Stage
from tracker.enquiries.tray import work_tray
from tracker.enquiries.vocabulary import Channel

TODAY = date(2026, 11, 23)  # a Monday


def _log(session, code=STOKE, **fields):
    values = {"received_on": date(2026, 11, 2), "channel": Channel.PHONE} | fields
    return create_enquiry(session, SYSTEM, code, NewEnquiry(**values), TODAY)


@pytest.fixture
def team(authorities):
    """Five Stoke enquiries and one of Coventry's."""
    with authorities.writing() as session:
        ids = {
            "ada": _log(
                session,
                enquirer_name="Ada Lovelace",
                email="Ada@Example.org",
                phone="01782 234 567",
                external_ref="WEB-100",
                received_on=date(2026, 11, 20),
            ).id,
            "bob": _log(
                session,
                enquirer_name="bob brown",
                email="bob@example.org",
                phone="(01782) 999-000",
                external_ref="EVT-7",
                received_on=date(2026, 10, 1),
            ).id,
            "cy": _log(session, enquirer_name="Cy Young", received_on=date(2026, 11, 21)).id,
            "dee": _log(session, enquirer_name="Dee 100%", received_on=date(2025, 1, 6)).id,
            "anon": _log(session, received_on=date(2026, 11, 23)).id,
            "cov": _log(session, code=COVENTRY, enquirer_name="Ada Other", phone="01782234567").id,
        }
        for stage, on in (
            (Stage.FIRST_CONTACT, date(2025, 1, 7)),
            (Stage.APPLICATION, date(2025, 2, 3)),
        ):
            move = StageMove(stage=stage, on=on)
            advance_enquiry(session, SYSTEM, STOKE, ids["dee"], move, TODAY)
    return authorities, ids


def _found(database, **filters):
    sort = filters.pop("sort", EnquirySort.NEWEST)
    with database.read_session() as session:
        page = list_enquiries(
            session, STOKE, EnquiryFilter(**filters), TODAY, limit=50, offset=0, sort=sort
        )
    return [item.id for item in page.items]


def test_search_matches_name_email_and_reference_in_any_case(team):
    database, ids = team
    assert _found(database, search="ADA") == [ids["ada"]]  # Coventry's Ada is not Stoke's
    assert _found(database, search="example.ORG") == [ids["ada"], ids["bob"]]
    assert _found(database, search="evt-") == [ids["bob"]]


def test_search_matches_a_phone_number_by_its_digits_whatever_its_punctuation(team):
    database, ids = team
    assert _found(database, search="01782234567") == [ids["ada"]]
    assert _found(database, search="01782 999000") == [ids["bob"]]
    assert _found(database, search="999-0") == [ids["bob"]]


def test_search_by_id_and_wildcards_taken_literally(team):
    database, ids = team
    assert _found(database, search=str(ids["cy"])) == [ids["cy"]]
    assert _found(database, search="100%") == [ids["dee"]]  # not "100" followed by anything
    assert _found(database, search="_") == []


def test_sorting_by_name_reference_stage_and_age(team):
    database, ids = team
    assert _found(database, sort=EnquirySort.NAME) == [
        ids["ada"], ids["bob"], ids["cy"], ids["dee"], ids["anon"]
    ]  # fmt: skip
    assert _found(database, sort=EnquirySort.REFERENCE)[:2] == [ids["bob"], ids["ada"]]
    assert _found(database, sort=EnquirySort.STAGE)[0] == ids["dee"]  # application
    assert _found(database, sort=EnquirySort.OLDEST)[0] == ids["dee"]
    assert _found(database)[0] == ids["anon"]


def test_the_work_tray_puts_the_most_overdue_first_with_the_days_late(team):
    database, ids = team
    with database.read_session() as session:
        tray = work_tray(session, STOKE, TODAY)
    # Dee applied on 3 Feb 2025: approval was due 3 Oct 2025, 416 days before 23 Nov 2026.
    # Bob enquired on Thu 1 Oct 2026: first contact was due Fri 2 Oct, 52 days ago.
    # Ada enquired on Fri 20 Nov: due Mon 23 Nov (today), so not yet late; Cy on Sat 21 Nov
    # likewise; the one received today is not late.
    assert [(i.enquiry_id, i.norm, i.due, i.days_overdue) for i in tray.items] == [
        (ids["dee"], Overdue.APPROVAL, date(2025, 10, 3), 416),
        (ids["bob"], Overdue.FIRST_CONTACT, date(2026, 10, 2), 52),
    ]
    assert (tray.first_contact_total, tray.approval_total, tray.total) == (1, 1, 2)
    with database.writing() as session:
        close_enquiry(
            session, SYSTEM, STOKE, ids["bob"], Closure(reason=ClosureReason.NO_RESPONSE), TODAY
        )
    with database.read_session() as session:
        assert [i.enquiry_id for i in work_tray(session, STOKE, TODAY).items] == [ids["dee"]]


def test_the_work_tray_keeps_to_its_limit_but_counts_every_overdue_enquiry(team):
    database, ids = team
    with database.read_session() as session:
        tray = work_tray(session, STOKE, TODAY, limit=1)
    assert [i.enquiry_id for i in tray.items] == [ids["dee"]]
    assert tray.total == 2


def test_duplicates_are_open_enquiries_sharing_an_email_or_phone(team):
    database, ids = team
    with database.read_session() as session:
        by_email = open_duplicates(session, STOKE, email=" ada@EXAMPLE.org ", phone=None)
        by_phone = open_duplicates(session, STOKE, email=None, phone="+01782-234567")
        both = open_duplicates(session, STOKE, email="ada@example.org", phone="01782234567")
        itself = open_duplicates(
            session, STOKE, email="ada@example.org", phone=None, excluding=ids["ada"]
        )
        nothing = open_duplicates(session, STOKE, email="", phone="  ")
    assert [(d.enquiry_id, d.matched_on) for d in by_email] == [(ids["ada"], [MatchedOn.EMAIL])]
    assert [(d.enquiry_id, d.matched_on) for d in by_phone] == [(ids["ada"], [MatchedOn.PHONE])]
    assert both[0].matched_on == [MatchedOn.EMAIL, MatchedOn.PHONE]
    assert itself == [] and nothing == []


def test_a_closed_enquiry_is_no_duplicate(team):
    database, ids = team
    with database.writing() as session:
        close_enquiry(
            session, SYSTEM, STOKE, ids["bob"], Closure(reason=ClosureReason.OTHER_AGENCY), TODAY
        )
    with database.read_session() as session:
        assert open_duplicates(session, STOKE, email="bob@example.org", phone=None) == []


def test_a_stale_edit_sees_what_changed_since_and_where_it_differs(team):
    database, ids = team
    with database.writing() as session:
        seen = 1  # the editor opened the form at version 1
        edit_enquiry(
            session, SYSTEM, STOKE, ids["ada"], EnquiryChanges(email="ada@new.example"), TODAY,
            expected_version=1,
        )  # fmt: skip
        advance_enquiry(
            session, SYSTEM, STOKE, ids["ada"], StageMove(stage=Stage.FIRST_CONTACT), TODAY
        )
        mine = EnquiryChanges(email="ada@mine.example", enquirer_name="Ada Lovelace")
        conflict = edit_conflict(session, STOKE, ids["ada"], seen, mine, TODAY)
    assert [e.action for e in conflict.since] == ["edited", "advanced"]
    assert conflict.since[0].note == "changed: email"
    assert [(d.field, d.yours, d.theirs) for d in conflict.differences] == [
        ("email", "ada@mine.example", "ada@new.example")
    ]
    assert conflict.current.version == 3


def test_changes_since_counts_imported_changes_as_versions_too(team):
    database, ids = team
    csv = b"external_ref,received_on,channel,campaign\nWEB-100,2026-11-20,phone,Winter\n"
    with database.writing() as session:
        import_enquiries(session, SYSTEM, STOKE, csv, TODAY)
    with database.read_session() as session:
        since = changes_since(session, STOKE, ids["ada"], 1)
        assert [e.action for e in since] == ["imported"]
        assert (
            list_enquiries(
                session, STOKE, EnquiryFilter(search="WEB-100"), TODAY, limit=5, offset=0
            )
            .items[0]
            .version
            == 2
        )


def test_an_export_of_a_search_logs_that_there_was_one_but_not_the_term(team):
    database, _ = team
    with database.writing() as session:
        content = export_enquiries(
            session, SYSTEM, STOKE, EnquiryFilter(search="Lovelace"), TODAY, FileFormat.CSV
        )
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert b"Ada Lovelace" in content and b"bob" not in content
    assert logged.detail["filters"]["search"] is True
    assert "Lovelace" not in json.dumps(logged.detail)
