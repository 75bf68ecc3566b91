"""Funnel analytics on a small hand-checked example (figures worked out by hand below)."""

from datetime import date

import pytest

from tests.conftest import STOKE, bearer
from tracker.core.access import SYSTEM
from tracker.core.authorities import AuthorityChanges, change_authority
from tracker.enquiries.funnel import Dimension, funnel_report, monthly_series
from tracker.enquiries.schemas import Closure, NewEnquiry, StageMove
from tracker.enquiries.service import advance_enquiry, close_enquiry, create_enquiry
from tracker.enquiries.stages import ClosureReason, Stage
from tracker.enquiries.vocabulary import Channel

TODAY = date(2026, 11, 23)
D = date

# received, channel, campaign, [(stage, date)], closure (reason, date) or None
EXAMPLE = [
    (
        D(2025, 4, 7),
        "web_form",
        "Spring",
        [
            ("first_contact", D(2025, 4, 8)),
            ("initial_visit", D(2025, 4, 20)),
            ("application", D(2025, 5, 10)),
            ("stage_1", D(2025, 6, 10)),
            ("stage_2", D(2025, 9, 10)),
            ("panel", D(2025, 12, 1)),
            ("approved", D(2025, 12, 11)),
        ],
        None,
    ),
    (
        D(2025, 5, 12),
        "event",
        "FCF",
        [
            ("first_contact", D(2025, 5, 13)),
            ("initial_visit", D(2025, 5, 30)),
            ("application", D(2025, 6, 30)),
        ],
        ("withdrawn_by_applicant", D(2025, 8, 1)),
    ),
    (
        D(2025, 5, 14),
        "event",
        "FCF",
        [("first_contact", D(2025, 5, 20))],
        ("no_response", D(2025, 6, 1)),
    ),
    (D(2025, 6, 2), "phone", None, [], ("no_response", D(2025, 6, 20))),
    (
        D(2025, 8, 15),
        "web_form",
        None,
        [
            ("first_contact", D(2025, 8, 18)),
            ("application", D(2025, 9, 1)),
            ("stage_1", D(2025, 10, 1)),
        ],
        None,
    ),
    # Outside the period: must not count in the cohort.
    (D(2026, 4, 2), "phone", None, [("first_contact", D(2026, 4, 3))], None),
]


@pytest.fixture
def example(authorities):
    with authorities.writing() as session:
        change_authority(session, STOKE, AuthorityChanges(annual_approvals_target=33))
        for received, channel, campaign, moves, closure in EXAMPLE:
            new = NewEnquiry(received_on=received, channel=Channel(channel), campaign=campaign)
            record = create_enquiry(session, SYSTEM, STOKE, new, TODAY)
            for stage, on in moves:
                advance_enquiry(
                    session, SYSTEM, STOKE, record.id, StageMove(stage=Stage(stage), on=on), TODAY
                )
            if closure:
                close_enquiry(
                    session,
                    SYSTEM,
                    STOKE,
                    record.id,
                    Closure(reason=ClosureReason(closure[0]), on=closure[1]),
                    TODAY,
                )
    return authorities


def test_stage_counts_and_conversions(example):
    with example.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
    reached = {s.stage.value: s.reached for s in report.overall.stages}
    assert reached == {
        "enquiry": 5,
        "first_contact": 4,
        "initial_visit": 3,
        "application": 3,
        "stage_1": 2,
        "stage_2": 1,
        "panel": 1,
        "approved": 1,
    }
    conversion = {s.stage.value: s.conversion_from_previous for s in report.overall.stages}
    assert conversion["first_contact"] == 0.8 and conversion["initial_visit"] == 0.75
    assert conversion["stage_1"] == pytest.approx(0.6667) and conversion["stage_2"] == 0.5
    assert report.overall.enquiry_to_application == 0.6
    assert report.overall.enquiry_to_approval == 0.2
    assert (report.overall.open, report.overall.closed, report.overall.approved) == (1, 3, 1)


def test_closures_by_stage_and_reason(example):
    with example.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
    assert [(c.stage.value, c.reason, c.count) for c in report.closures] == [
        ("enquiry", "no_response", 1),
        ("first_contact", "no_response", 1),
        ("application", "withdrawn_by_applicant", 1),
    ]


def test_days_between_stages(example):
    with example.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
    durations = {(d.from_stage.value, d.to_stage.value): d for d in report.durations}
    first = durations[("enquiry", "first_contact")]  # 1, 1, 6, 3 days
    assert (first.count, first.median_days) == (4, 2.0)
    assert first.p90_days == pytest.approx(5.1)
    visit = durations[("initial_visit", "application")]  # 20 and 31 days
    assert (visit.count, visit.median_days) == (2, 25.5)
    approval = durations[("application", "approved")]  # 10 May to 11 Dec 2025
    assert (approval.count, approval.median_days) == (1, 215.0)


def test_breakdown_by_channel(example):
    with example.read_session() as session:
        report = funnel_report(
            session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY, by=Dimension.CHANNEL
        )
    groups = {g.key: g.figures for g in report.groups}
    assert {k: v.enquiries for k, v in groups.items()} == {"event": 2, "phone": 1, "web_form": 2}
    assert groups["web_form"].approved == 1 and groups["web_form"].enquiry_to_approval == 0.5


def test_approvals_against_the_annual_target(example):
    with example.read_session() as session:
        report = funnel_report(session, STOKE, D(2025, 4, 1), D(2026, 3, 31), TODAY)
    (year,) = report.approvals_by_year
    assert (year.year, year.approvals, year.target, year.expected_to_date) == (
        "2025-26",
        1,
        33,
        33.0,
    )
    assert year.share_of_target == pytest.approx(1 / 33, abs=1e-4)


def test_monthly_series_counts_events_in_their_month(example):
    with example.read_session() as session:
        series = monthly_series(session, STOKE, D(2025, 4, 1), D(2026, 3, 31))
    points = {p.month: p for p in series.points}
    assert len(points) == 12 and points["2025-07"].enquiries == 0
    assert [points[m].enquiries for m in ("2025-04", "2025-05", "2025-06", "2025-08")] == [
        1,
        2,
        1,
        1,
    ]
    assert {m for m, p in points.items() if p.applications} == {"2025-05", "2025-06", "2025-09"}
    assert points["2025-12"].approvals == 1
    assert (points["2025-06"].closures, points["2025-08"].closures) == (2, 1)


def test_funnel_over_http_matches_and_regional_may_read_it(client, tokens, example):
    params = {"date_from": "2025-04-01", "date_to": "2026-03-31", "by": "month"}
    response = client.get(
        f"/api/v1/authorities/{STOKE}/funnel", params=params, headers=bearer(tokens["regional_wm"])
    )
    assert response.status_code == 200
    body = response.json()
    assert body["overall"]["enquiries"] == 5
    assert [g["key"] for g in body["groups"]] == ["2025-04", "2025-05", "2025-06", "2025-08"]
    assert "enquirer_name" not in response.text
    bad = client.get(
        f"/api/v1/authorities/{STOKE}/funnel",
        params={"date_from": "2026-01-01", "date_to": "2025-01-01"},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert bad.status_code == 400 and bad.json()["field"] == "date_from"
