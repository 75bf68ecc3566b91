"""Tests for the synthetic demo data (`tracker.demo`)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tracker import schema
from tracker.access import Role, caller_for
from tracker.authorities import Authority
from tracker.db import Database
from tracker.demo import DEFAULT_AUTHORITIES, DemoSummary, generate_demo
from tracker.enquiries import Enquiry, EnquiryEvent, reached_stages
from tracker.errors import ConflictError, InvalidValueError
from tracker.reference import load_reference
from tracker.stages import ClosureReason, Stage, check_closure, check_history
from tracker.timeliness import first_contact_due

TODAY = date(2026, 3, 15)
STOKE = "E06000021"
DATE_COLUMNS = (
    "received_on", "first_contact_on", "initial_visit_on", "application_on", "stage_1_on",
    "stage_2_on", "panel_on", "approved_on", "closed_on",
)  # fmt: skip


def _database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}/t.db")
    schema.upgrade(database)
    return database


def _snapshot(database: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every enquiry and event, as plain tuples in id order."""
    with database.read_session() as session:
        enquiries = [
            tuple(row) for row in session.execute(select(*Enquiry.__table__.c).order_by(Enquiry.id))
        ]
        events = [
            tuple(row)
            for row in session.execute(select(*EnquiryEvent.__table__.c).order_by(EnquiryEvent.id))
        ]
    return enquiries, events


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, DemoSummary]:
    database = _database(tmp_path_factory.mktemp("demo"))
    with database.writing() as session:
        summary = generate_demo(session, today=TODAY)
    return database, summary


@pytest.fixture(scope="module")
def rows(demo: tuple[Database, DemoSummary]) -> list[Enquiry]:
    with demo[0].read_session() as session:
        return list(session.scalars(select(Enquiry).order_by(Enquiry.id)))


def test_default_authorities_exist_in_the_reference() -> None:
    reference = load_reference()
    assert DEFAULT_AUTHORITIES[0] == STOKE
    for code in DEFAULT_AUTHORITIES:
        assert reference[code].region == "West Midlands"
        assert reference[code].enquiries is not None


def test_summary_and_authorities(demo: tuple[Database, DemoSummary]) -> None:
    database, summary = demo
    assert summary.authorities == list(DEFAULT_AUTHORITIES)
    reference = load_reference()
    with database.read_session() as session:
        stored = {a.code: a for a in session.scalars(select(Authority))}
        counts = dict(
            session.execute(
                select(Enquiry.authority_code, func.count()).group_by(Enquiry.authority_code)
            ).all()
        )
        events = session.scalar(select(func.count()).select_from(EnquiryEvent))
    assert counts == summary.enquiries
    assert events == summary.events
    assert stored[STOKE].annual_approvals_target == 33
    for code in DEFAULT_AUTHORITIES:
        assert stored[code].name == reference[code].name
        assert stored[code].region == "West Midlands"
        assert (stored[code].annual_approvals_target or 0) >= 5
        # Six years at roughly the Ofsted 2018-19 volume.
        yearly = summary.enquiries[code] / 6
        assert (
            0.75 * (reference[code].enquiries or 0)
            < yearly
            < 1.25 * (reference[code].enquiries or 0)
        )


def test_same_seed_same_data(tmp_path: Path) -> None:
    snapshots = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        (tmp_path / name).mkdir()
        database = _database(tmp_path / name)
        with database.writing() as session:
            generate_demo(
                session, today=TODAY, authorities=(STOKE, "E06000020"), years=3, seed=seed
            )
        snapshots.append(_snapshot(database))
    assert snapshots[0][0]
    assert snapshots[0] == snapshots[1]
    assert snapshots[0][0] != snapshots[2][0]


def test_refuses_a_database_with_enquiries(demo: tuple[Database, DemoSummary]) -> None:
    database, summary = demo
    with pytest.raises(ConflictError), database.writing() as session:
        generate_demo(session, today=TODAY)
    with database.read_session() as session:
        total = session.scalar(select(func.count()).select_from(Enquiry))
    assert total == sum(summary.enquiries.values())


def test_refuses_unknown_or_repeated_authorities(tmp_path: Path) -> None:
    database = _database(tmp_path)
    with database.writing() as session:
        for authorities in (("E06999999",), (STOKE, STOKE), ()):
            with pytest.raises(InvalidValueError):
                generate_demo(session, today=TODAY, authorities=authorities)


def test_every_record_has_a_valid_history(
    demo: tuple[Database, DemoSummary], rows: list[Enquiry]
) -> None:
    with demo[0].read_session() as session:
        histories: dict[int, list[EnquiryEvent]] = {}
        for event in session.scalars(select(EnquiryEvent).order_by(EnquiryEvent.id)):
            histories.setdefault(event.enquiry_id, []).append(event)
    refs: set[str] = set()
    for row in rows:
        reached = reached_stages(row)
        check_history(reached, TODAY)
        stage = Stage(row.stage)
        assert stage is max(reached, key=lambda s: s.rank)
        assert (row.closed_on is None) == (row.closure_reason is None)
        if row.closure_reason is not None:
            assert row.closed_on is not None and row.closed_on >= reached[stage]
            check_closure(stage, ClosureReason(row.closure_reason))
        history = histories[row.id or 0]
        assert row.version == len(history)
        assert [e.actor for e in history] == ["demo"] * len(history)
        expected = [("created", Stage.ENQUIRY.value, row.received_on)] + [
            ("advanced", s.value, on) for s, on in reached.items() if s is not Stage.ENQUIRY
        ]
        if row.closed_on is not None:
            expected.append(("closed", stage.value, row.closed_on))
        assert [(e.action, e.stage, e.on_date) for e in history] == expected
        assert row.external_ref is not None
        assert re.fullmatch(rf"DEMO-{row.authority_code}-\d{{6}}", row.external_ref)
        refs.add(row.external_ref)
    assert len(refs) == len(rows)


def test_no_date_after_today(demo: tuple[Database, DemoSummary], rows: list[Enquiry]) -> None:
    start = TODAY.replace(year=TODAY.year - 6)
    for row in rows:
        assert row.received_on > start
        for column in DATE_COLUMNS:
            on = getattr(row, column)
            assert on is None or on <= TODAY, (row.external_ref, column)
    with demo[0].read_session() as session:
        latest = session.scalar(select(func.max(EnquiryEvent.on_date)))
    assert latest is not None and latest <= TODAY


def test_recent_enquiries_are_open_and_some_overdue(rows: list[Enquiry]) -> None:
    recent = [r for r in rows if r.received_on > TODAY - timedelta(days=60)]
    assert any(r.closed_on is None and r.approved_on is None for r in recent)
    overdue = [
        r
        for r in rows
        if r.stage == Stage.ENQUIRY.value
        and r.closed_on is None
        and first_contact_due(r.received_on) < TODAY
    ]
    assert 3 <= len(overdue) <= 60
    assert all(r.received_on > TODAY - timedelta(days=30) for r in overdue)
    # Nothing received in the last month is approved yet.
    assert not any(r.approved_on for r in recent)


def test_seasonality(rows: list[Enquiry]) -> None:
    by_month = Counter(r.received_on.month for r in rows)
    assert min(by_month[1], by_month[5]) > max(by_month[8], by_month[12])
    for code in DEFAULT_AUTHORITIES:
        months = Counter(r.received_on.month for r in rows if r.authority_code == code)
        assert months[1] + months[5] > months[8] + months[12]
    campaigns = {r.received_on.month for r in rows if r.campaign is not None}
    assert campaigns == {1, 5}
    assert any(r.campaign == "Foster Care Fortnight 2024" for r in rows)
    assert any(r.campaign == "New Year 2025" for r in rows)


def test_conversion_over_completed_years(rows: list[Enquiry]) -> None:
    cohort = [r for r in rows if r.received_on <= TODAY - timedelta(days=365)]
    applied = sum(1 for r in cohort if r.application_on is not None)
    assert 0.08 <= applied / len(cohort) <= 0.16
    for code in DEFAULT_AUTHORITIES:
        own = [r for r in cohort if r.authority_code == code]
        assert 0.08 <= sum(1 for r in own if r.application_on) / len(own) <= 0.16
    # Applications old enough to have been decided (the longest path is about 16 months).
    decided = [
        r for r in rows if r.application_on and r.application_on <= TODAY - timedelta(days=550)
    ]
    assert all(r.approved_on is not None or r.closed_on is not None for r in decided)
    approved = [r for r in decided if r.approved_on is not None]
    assert 0.45 <= len(approved) / len(decided) <= 0.75
    days = [(r.approved_on - r.application_on).days for r in approved if r.application_on]
    assert 240 <= statistics.mean(days) <= 310
    assert 8 * 30 <= statistics.median(days) <= 9.5 * 30


def test_closure_reasons_fit_their_stages(rows: list[Enquiry]) -> None:
    closed = Counter((r.stage, r.closure_reason) for r in rows if r.closure_reason)
    rejected = sum(n for (_, reason), n in closed.items() if reason == "rejected_after_panel")
    assert 0 < rejected < 0.01 * len(rows)
    assert {s for (s, reason) in closed if reason == "rejected_after_panel"} == {"panel"}
    early = sum(
        n
        for (stage, reason), n in closed.items()
        if stage in ("enquiry", "first_contact")
        and reason in ("no_response", "withdrawn_by_applicant")
    )
    assert early > 0.5 * sum(closed.values())
    assert any(
        s in ("stage_1", "stage_2") and reason == "withdrawn_by_service" for s, reason in closed
    )


def test_personal_data_is_plainly_fake(rows: list[Enquiry]) -> None:
    for row in rows:
        assert row.email is None or row.email.endswith("@example.org")
        assert row.phone is None or re.fullmatch(r"07700 900\d{3}", row.phone)
        if row.authority_code == STOKE and row.postcode_district is not None:
            assert row.postcode_district in {"ST1", "ST2", "ST3", "ST4", "ST6"}
    ethnicity = Counter(r.ethnicity for r in rows)
    assert 0.05 < ethnicity["not_stated"] / len(rows) < 0.15
    assert ethnicity[None] > 0
    channels = Counter(r.channel for r in rows)
    assert 0.40 < channels["web_form"] / len(rows) < 0.50
    assert set(channels) == {"web_form", "phone", "email", "event", "referral"}


def test_tokens_authenticate(demo: tuple[Database, DemoSummary]) -> None:
    database, summary = demo
    assert [(role, scope) for role, scope, _ in summary.tokens] == [
        (Role.ADMIN, None),
        (Role.RECRUITER, STOKE),
        (Role.MANAGER, STOKE),
        (Role.REGIONAL, "West Midlands"),
    ]
    with database.read_session() as session:
        for role, scope, secret in summary.tokens:
            caller = caller_for(session, secret)
            assert caller is not None
            assert caller.role is role
            if role in (Role.RECRUITER, Role.MANAGER):
                assert caller.authority_code == scope
            if role is Role.REGIONAL:
                assert caller.authority_code is None and caller.region == scope
