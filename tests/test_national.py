"""The national capacity view: every region's roll-up and England's, for admins and
regional tokens only."""

import pytest
from sqlalchemy import event

from tests.conftest import STOKE, bearer

BASE = f"/api/v1/authorities/{STOKE}"


@pytest.fixture
def households(client, tokens):
    headers = bearer(tokens["manager_stoke"])
    for reference, places in (("H1", 2), ("H2", 3)):
        body = {
            "reference": reference,
            "care_type": "in_house",
            "approved_places": places,
            "approved_on": "2024-01-10",
        }
        response = client.post(f"{BASE}/households", json=body, headers=headers)
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
    assert (wm["all"]["households"], wm["all"]["approved_places"]) == (2, 5)
    england = {row["care_type"]: row for row in view["england"]["rows"]}
    assert england["all"]["approved_places"] == 5
    assert "authorities" not in view


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
    assert england["all"]["approved_places"] == 5 + 4
    stoke = next(a for a in after_regional["authorities"] if a["code"] == STOKE)
    assert {r["care_type"]: r for r in stoke["rows"]}["all"]["approved_places"] == 9
