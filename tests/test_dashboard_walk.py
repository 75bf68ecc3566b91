"""Defects found walking through the dashboard as a manager: past years keep their approvals
target, an overview as at a past day keeps today's figures apart, cards say what their figure
is of, and pages speak plain words, through Litestar's test client on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import delete

from api.dashboard.forecasts import series_label
from api.dashboard.overview import _occupancy_words
from api.dashboard.tables import long_date
from tests.conftest import STOKE
from tests.test_dashboard_enquiries import _signed_in
from tracker.capacity.schemas import PlaceCounts
from tracker.core.approvals_targets import ApprovalsTargetSetting, target_in_force
from tracker.enquiries.timeliness import london_today

TODAY = london_today()


def _csv(client, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, path
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def test_the_target_in_force_is_the_last_set_by_the_day_else_the_earliest_recorded():
    history = [(date(2023, 1, 10), 33), (date(2025, 6, 1), 40)]
    assert target_in_force(history, 40, date(2024, 3, 31)).target == 33
    assert target_in_force(history, 40, date(2025, 6, 1)).target == 40
    before = target_in_force(history, 40, date(2022, 3, 31))
    assert (before.target, before.set_on, before.of_the_year) == (33, date(2023, 1, 10), False)
    unknown = target_in_force([], 40, date(2022, 3, 31))
    assert (unknown.target, unknown.set_on, unknown.of_the_year) == (40, None, False)


def test_changing_the_approvals_target_leaves_past_years_at_the_target_then(
    client, tokens, authorities
):
    set_on = date(TODAY.year - 4, 1, 10)
    with authorities.writing() as session:
        session.execute(delete(ApprovalsTargetSetting))
        session.add(ApprovalsTargetSetting(authority_code=STOKE, set_on=set_on, target=33))
    csrf = _signed_in(client, tokens["manager_stoke"])
    saved = client.post(
        "/dashboard/settings",
        data={"csrf_token": csrf, "annual_approvals_target": "40"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    start = TODAY.year - 2  # a whole year that ended before today, and the one before it
    rows = _csv(client, f"/dashboard/funnel?year={start}&download=csv&table=approvals")
    by_year = {r["year"]: r for r in rows}
    for year in (_year(start - 1), _year(start)):
        assert by_year[year]["target"] == "33"
        assert by_year[year]["target_set"] == f"set 10 Jan {set_on.year}"
    now = _csv(client, "/dashboard/funnel?download=csv&table=approvals")[-1]
    assert now["target"] == "40" and now["target_set"].startswith("set ")


def test_a_year_before_any_recorded_target_says_so(client, tokens, authorities):
    csrf = _signed_in(client, tokens["manager_stoke"])
    client.post(
        "/dashboard/settings",
        data={"csrf_token": csrf, "annual_approvals_target": "40"},
        follow_redirects=False,
    )
    start = TODAY.year - 3
    rows = _csv(client, f"/dashboard/funnel?year={start}&download=csv&table=approvals")
    assert {r["target"] for r in rows} == {"40"}
    assert all(r["target_set"].startswith("none recorded for this year") for r in rows)


def test_an_overview_of_a_past_day_keeps_today_s_figures_out_of_its_summary(
    client, tokens, authorities
):
    _signed_in(client, tokens["manager_stoke"])
    past = date(TODAY.year - 1, 3, 31)
    page = client.get(f"/dashboard?as_at={past.isoformat()}")
    assert page.status_code == 200
    assert f"(today, {long_date(TODAY)}, not {long_date(past)})" in page.text
    rows = _csv(client, f"/dashboard?as_at={past.isoformat()}&download=csv&table=summary")
    measures = [r["measure"] for r in rows]
    assert "First contacts overdue" not in measures
    assert not any(m.startswith("Targets") for m in measures)
    today_rows = _csv(client, "/dashboard?download=csv&table=summary")
    assert "First contacts overdue" in [r["measure"] for r in today_rows]


def test_the_occupancy_card_says_it_is_a_share_of_available_places():
    total = PlaceCounts(
        care_type="all",
        households=232,
        approved_places=433,
        filled_places=354,
        unavailable_places=42,
        vacant_places=37,
        occupancy=354 / 391,
    )
    assert _occupancy_words(total) == (
        "354 of 391 available places filled; 37 vacant; 42 not available (of 433 approved)"
    )


def test_forecast_series_are_named_in_words_not_codes():
    assert series_label(f"{STOKE}/children_in_care/category=childrens_home") == (
        "Children in care: Children's home"
    )
    assert series_label(f"{STOKE}/children_in_care/category=ifa_foster") == (
        "Children in care: Independent fostering agency"
    )
    assert series_label(f"{STOKE}/starters/age=10_15") == "Starters: Aged 10 to 15"
    assert series_label(f"{STOKE}/households/care_type=in_house") == (
        "Households: In-house fostering"
    )
    assert series_label(f"{STOKE}/enquiries/total") == "Enquiries"


def test_a_page_refused_to_a_role_says_so_in_words(client, tokens, authorities):
    _signed_in(client, tokens["recruiter_stoke"])
    page = client.get("/dashboard/capacity")
    assert page.status_code == 403
    assert "It is not one of the pages for the recruitment team." in page.text
    assert "role may not use this route" not in page.text


def test_the_occupancy_charts_floor_shows_a_month_below_half():
    from api.dashboard.capacity import _occupancy_floor

    assert _occupancy_floor([0.8, 0.9, None]) == 0.5
    assert _occupancy_floor([0.0, 0.51]) == 0.0  # placements not recorded yet
    assert _occupancy_floor([0.43, 0.9]) == 0.4
    assert _occupancy_floor([]) == 0.5
