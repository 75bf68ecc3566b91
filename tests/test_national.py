"""The national capacity view: every region's roll-up and England's, for admins and
regional tokens only."""

import pytest

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
