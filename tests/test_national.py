"""The national capacity view: every region's roll-up and England's, for admins and
regional tokens only."""

import pytest
from sqlalchemy import event

from tests.conftest import COVENTRY, STOKE, bearer

BASE = f"/api/v1/authorities/{STOKE}"


@pytest.fixture
def households(client, tokens):
    """Two households in Stoke-on-Trent (5 places), one in Coventry (1): a region of two."""
    for manager, code, reference, places in (
        ("manager_stoke", STOKE, "H1", 2),
        ("manager_stoke", STOKE, "H2", 3),
        ("manager_coventry", COVENTRY, "C1", 1),
    ):
        body = {
            "reference": reference,
            "care_type": "in_house",
            "approved_places": places,
            "approved_on": "2024-01-10",
        }
        response = client.post(
            f"/api/v1/authorities/{code}/households", json=body, headers=bearer(tokens[manager])
        )
        assert response.status_code == 201, response.text


def national(client, secret, **params):
    return client.get("/api/v1/national/capacity", headers=bearer(secret), params=params)


def test_national_view_sums_each_region_and_england(client, tokens, households):
    response = national(client, tokens["admin"], as_at="2025-01-31")
    assert response.status_code == 200, response.text
    view = response.json()
    regions = {r["region"]: r for r in view["regions"]}
    assert sorted(regions) == ["North East", "West Midlands"]
    assert regions["West Midlands"]["authorities"] == 2
    wm = {row["care_type"]: row for row in regions["West Midlands"]["rollup"]["rows"]}
    assert (wm["all"]["households"], wm["all"]["approved_places"]) == (3, 6)
    england = {row["care_type"]: row for row in view["england"]["rows"]}
    assert england["all"]["approved_places"] == 6
    assert "authorities" not in view


def test_a_sum_over_one_council_is_withheld_and_england_with_it(client, tokens, households):
    # Stockton is the North East's only council with figures: its "region" would be its own
    # figures, and England less the West Midlands would give them back.
    returns = (
        "authority_code,as_at,care_type,households,approved_places,children_in_care\n"
        "E06000004,2024-12-31,in_house,7,11,\n"
        "E06000004,2024-12-31,all,7,11,90\n"
    )
    loaded = client.post(
        "/api/v1/capacity-returns",
        content=returns.encode(),
        headers=bearer(tokens["admin"]) | {"Content-Type": "text/csv"},
    )
    assert loaded.status_code == 200, loaded.text
    response = national(client, tokens["regional_wm"], as_at="2025-01-31")
    assert response.status_code == 200, response.text
    view = response.json()
    regions = {r["region"]: r["rollup"] for r in view["regions"]}
    for rollup in (regions["North East"], view["england"]):
        rows = {row["care_type"]: row for row in rollup["rows"]}
        for care_type in ("in_house", "all"):  # the North East's, and England's with them
            row = rows[care_type]
            assert row["suppressed"] is True, row
            assert row["households"] is row["approved_places"] is row["occupancy"] is None
        assert rollup["children_in_care"] is None and rollup["share_suppressed"] is True
    # No North East row of connected carers: England's is the West Midlands' two councils.
    assert "suppressed" not in {r["care_type"]: r for r in view["england"]["rows"]}["connected"]
    wm = {row["care_type"]: row for row in regions["West Midlands"]["rows"]}
    assert wm["in_house"]["approved_places"] == 6 and "suppressed" not in wm["in_house"]
    assert "11" not in response.text.replace("2025-01-31", "")


def test_regional_tokens_read_the_national_view_and_managers_do_not(client, tokens):
    assert national(client, tokens["regional_ne"]).status_code == 200
    assert national(client, tokens["manager_stoke"]).status_code == 403
    assert national(client, tokens["recruiter_stoke"]).status_code == 403


def test_a_bad_date_is_refused_naming_as_at(client, tokens):
    response = national(client, tokens["admin"], as_at="2025-13-01")
    assert response.status_code == 400
    assert "as_at" in response.text


def _statements(db):
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_kept_views_are_served_until_a_change_and_then_computed_afresh(
    authorities, client, tokens, households
):
    # A kept view costs its change marker only; a write moves the marker and the next read
    # shows it, nationally and in the region's view.
    seen = _statements(authorities)
    regional = "/api/v1/regions/West Midlands/capacity"

    def read() -> tuple[dict, dict]:
        first = national(client, tokens["admin"]).json()
        second = client.get(regional, headers=bearer(tokens["admin"])).json()
        return first, second

    before = read()
    computed = len(seen)
    seen.clear()
    assert read() == before
    assert len(seen) < computed  # served kept: no register queries this time
    body = {
        "reference": "H3",
        "care_type": "in_house",
        "approved_places": 4,
        "approved_on": "2024-02-01",
    }
    added = client.post(f"{BASE}/households", json=body, headers=bearer(tokens["manager_stoke"]))
    assert added.status_code == 201, added.text
    after_national, after_regional = read()
    england = {row["care_type"]: row for row in after_national["england"]["rows"]}
    assert england["all"]["approved_places"] == 6 + 4
    stoke = next(a for a in after_regional["authorities"] if a["code"] == STOKE)
    assert {r["care_type"]: r for r in stoke["rows"]}["all"]["approved_places"] == 9
