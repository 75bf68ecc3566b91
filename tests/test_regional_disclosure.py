"""What free text and small counts reach readers outside an authority, and what erasure
leaves: a campaign's name is erased with the enquirer's personal data (and an import does
not write it back), regional tokens see campaigns of fewer than 5 enquiries only together
and unnamed, and see who started a forecast run by role, never by a staff token's name."""

from __future__ import annotations

from datetime import date
from typing import Any

from jobs.forecast_refresh import claim, forecast_options
from tests.conftest import STOKE, bearer
from tracker.capacity.figures import SMALL_REASONS
from tracker.core.settings import Settings
from tracker.enquiries.funnel import SMALL_CAMPAIGNS
from tracker.forecasting.tables import Trigger

BASE = f"/api/v1/authorities/{STOKE}"
REFERRAL = "Referred by Zephyrine Quillfeather"


def _log(client, token: str, campaign: str | None, count: int, ref: str = "") -> list[int]:
    ids = []
    for n in range(count):
        body = {"received_on": "2025-02-03", "channel": "phone", "campaign": campaign}
        if ref:
            body["external_ref"] = f"{ref}-{n}"
        created = client.post(f"{BASE}/enquiries", json=body, headers=bearer(token))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def test_erasure_blanks_the_campaign_and_an_import_does_not_write_it_back(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    [enquiry_id] = _log(client, tokens["manager_stoke"], REFERRAL, 1, ref="CAMP")
    erased = client.delete(f"{BASE}/enquiries/{enquiry_id}/personal-data", headers=manager)
    assert erased.status_code == 200, erased.text
    assert erased.json()["campaign"] is None
    sheet = f"external_ref,received_on,channel,campaign\nCAMP-0,2025-02-03,phone,{REFERRAL}\n"
    imported = client.post(
        f"{BASE}/enquiries/import", content=sheet, headers=manager | {"Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["erased_fields_ignored"] == 1
    again = client.get(f"{BASE}/enquiries/{enquiry_id}", headers=manager).json()
    assert again["campaign"] is None
    funnel = client.get(
        f"{BASE}/funnel",
        params={"by": "campaign", "date_from": "2025-01-01", "date_to": "2025-12-31"},
        headers=manager,
    )
    assert REFERRAL not in funnel.text


def test_regional_tokens_see_small_campaigns_together_and_unnamed(client, tokens):
    recruiter = tokens["recruiter_stoke"]
    _log(client, recruiter, "Spring radio", 5)
    _log(client, recruiter, REFERRAL, 1)
    _log(client, recruiter, "Church fair", 2)
    _log(client, recruiter, None, 1)
    params = {"by": "campaign", "date_from": "2025-01-01", "date_to": "2025-12-31"}

    def groups(token: str) -> dict[str | None, tuple[int, int]]:
        response = client.get(f"{BASE}/funnel", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        return {
            g["key"]: (g["figures"]["enquiries"], g["combined"]) for g in response.json()["groups"]
        }

    assert groups(tokens["manager_stoke"]) == {
        None: (1, 0),
        "Church fair": (2, 0),
        REFERRAL: (1, 0),
        "Spring radio": (5, 0),
    }
    regional = groups(tokens["regional_wm"])
    assert regional == {None: (1, 0), "Spring radio": (5, 0), SMALL_CAMPAIGNS: (3, 2)}
    response = client.get(f"{BASE}/funnel", params=params, headers=bearer(tokens["regional_wm"]))
    assert REFERRAL not in response.text and "Church fair" not in response.text


def test_regional_tokens_see_who_started_a_forecast_run_by_role_only(client, tokens, authorities):
    settings = Settings(database_url=authorities.url, forecast_models=("seasonal_naive",))
    run_id = claim(
        authorities,
        STOKE,
        trigger=Trigger.API,
        triggered_by="manager:Priya Staffname#7",
        options=forecast_options(settings),
        today=date(2026, 1, 15),
    )
    for path in ("forecasts/runs", f"forecasts/runs/{run_id}"):
        url = f"{BASE}/{path}"
        own = client.get(url, headers=bearer(tokens["manager_stoke"]))
        regional = client.get(url, headers=bearer(tokens["regional_wm"]))
        assert own.status_code == regional.status_code == 200, (own.text, regional.text)
        assert "Priya Staffname" in own.text
        assert "Priya Staffname" not in regional.text
        run = regional.json()[0] if isinstance(regional.json(), list) else regional.json()["run"]
        assert run["triggered_by"] == "manager"


def test_regional_tokens_see_small_deregistration_reasons_together_and_unnamed(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    reasons = ["standards_concern"] + ["resigned"] * 5
    for n, reason in enumerate(reasons):
        body = {
            "reference": f"D-{n}",
            "care_type": "in_house",
            "approved_places": 1,
            "approved_on": "2024-01-10",
        }
        added = client.post(f"{BASE}/households", json=body, headers=manager)
        assert added.status_code == 201, added.text
        change = {
            "effective_on": "2025-03-03",
            "status": "deregistered",
            "deregistration_reason": reason,
        }
        changed = client.post(
            f"{BASE}/households/{added.json()['id']}/changes", json=change, headers=manager
        )
        assert changed.status_code == 200, changed.text
    params = {"date_from": "2025-03-01", "date_to": "2025-03-31"}

    def march(token: str) -> dict[str, Any]:
        response = client.get(f"{BASE}/capacity/monthly", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert "standards_concern" not in response.text or token == tokens["manager_stoke"]
        [month] = response.json()
        return month

    assert march(tokens["manager_stoke"])["deregistrations_by_reason"] == {
        "resigned": 5,
        "standards_concern": 1,
    }
    regional = march(tokens["regional_wm"])
    assert regional["deregistrations_by_reason"] == {"resigned": 5, SMALL_REASONS: 1}
    assert regional["deregistrations"] == 6


def test_regional_tokens_see_small_childrens_counts_withheld(client, tokens):
    """A child or care leaver counted alone is withheld from regional tokens, with another
    count where a total would give it back; the council's managers see them all."""
    manager, regional = bearer(tokens["manager_stoke"]), bearer(tokens["regional_wm"])
    figures = [
        {"month": "2025-02", "metric": "starters", "value": 12},
        {"month": "2025-02", "metric": "starters", "breakdown": "in_house_foster", "value": 10},
        {"month": "2025-02", "metric": "starters", "breakdown": "ifa_foster", "value": 2},
        {"month": "2025-03", "metric": "starters", "value": 9},
        {"month": "2025-02", "metric": "staying_put_eligible", "value": 6},
        {"month": "2025-02", "metric": "staying_put_stayed", "value": 6},
        {"month": "2025-03", "metric": "staying_put_eligible", "value": 1},
        {"month": "2025-03", "metric": "staying_put_stayed", "value": 0},
    ]
    entered = client.post(f"{BASE}/children/monthly-figures", json=figures, headers=manager)
    assert entered.status_code == 200, entered.text
    params = {"date_from": "2025-02-01", "date_to": "2025-03-31"}

    def read(route: str, headers: dict[str, str]) -> dict[str, Any]:
        response = client.get(f"{BASE}/children/{route}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    mine = read("staying-put", manager)
    assert [(m["eligible"], m["stayed"]) for m in mine["months"]] == [(6, 6), (1, 0)]
    assert mine["withheld"] is None
    theirs = read("staying-put", regional)
    assert [(m["eligible"], m["stayed"]) for m in theirs["months"]] == [(6, 6), (None, None)]
    # The year's 7 less February's 6 would give March's 1 back.
    assert [(y["period"], y["eligible"]) for y in theirs["years"]] == [("2024-25", None)]
    assert "withheld" in theirs["withheld"]
    starters = read("starters", regional)
    february, march = starters["months"]
    assert (february["starters"], march["starters"]) == (12, 9)
    # 2 IFA starters withheld, and the 10 in-house ones with them (12 less 10 gives 2).
    assert february["by_category"]["ifa_foster"] is None
    assert february["by_category"]["in_house_foster"] is None
    assert starters["by_category"]["ifa_foster"] is None
    assert starters["starters"] == 21 and starters["withheld"]
    assert read("starters", manager)["months"][0]["by_category"]["ifa_foster"] == 2


def test_regional_tokens_see_small_counts_of_children_in_care_withheld(client, tokens):
    manager, regional = bearer(tokens["manager_stoke"]), bearer(tokens["regional_wm"])
    counts = {"in_house_foster": 20, "ifa_foster": 3, "childrens_home": 10}
    body = {"as_at": "2025-03-31", "counts": counts}
    entered = client.post(f"{BASE}/children-in-care", json=body, headers=manager)
    assert entered.status_code == 201, entered.text

    def read(headers: dict[str, str]) -> dict[str, Any]:
        response = client.get(f"{BASE}/capacity", params={"as_at": "2025-03-31"}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    mine = read(manager)
    assert {c["category"]: c["children"] for c in mine["children_in_care"]} == counts
    assert mine["withheld"] is None and mine["in_house_share_of_foster"] is not None
    theirs = read(regional)
    # 3 withheld, and the 10 with them: 33 less 20 would give the 3 back.
    assert {c["category"]: c["children"] for c in theirs["children_in_care"]} == {
        "in_house_foster": 20,
        "ifa_foster": None,
        "childrens_home": None,
    }
    assert theirs["children_in_care_total"] == 33 and theirs["withheld"]
    assert theirs["in_house_share_of_foster"] is None  # 20 of 23 would give the 3 back


def test_regional_tokens_see_a_council_with_few_children_in_care_withheld(client, tokens):
    manager = bearer(tokens["manager_stoke"])
    household = {
        "reference": "H1",
        "care_type": "in_house",
        "approved_places": 2,
        "approved_on": "2024-01-10",
    }
    added = client.post(f"{BASE}/households", json=household, headers=manager)
    assert added.status_code == 201, added.text
    body = {"as_at": "2025-03-31", "counts": {"in_house_foster": 3}}
    entered = client.post(f"{BASE}/children-in-care", json=body, headers=manager)
    assert entered.status_code == 201, entered.text

    def stoke(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        response = client.get(
            "/api/v1/regions/West Midlands/capacity",
            params={"as_at": "2025-03-31"},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text
        view = response.json()
        return next(a for a in view["authorities"] if a["code"] == STOKE), view

    assert stoke(tokens["manager_stoke"])[0]["children_in_care"] == 3
    theirs, view = stoke(tokens["regional_wm"])
    assert theirs["children_in_care"] is None and theirs["capacity_share_of_demand"] is None
    assert view["rollup"]["children_in_care"] is None and view["withheld"]
