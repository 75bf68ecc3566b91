"""Strategy targets over the API, on both backends: setting, reading, replacing (If-Match) and
deleting them, each step audited by field name; who may reach them; each kind's refusals of
bad input (4xx naming the field, nothing stored); the metric registry; trajectories as JSON;
and the demo's seed targets."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from demo.plans import STAFFORDSHIRE, demo_targets
from tests.conftest import STOKE, bearer
from tracker.children.figures import Metric, MonthlyFigure, record_monthly_figures
from tracker.core.access import SYSTEM
from tracker.core.audit import AuditEntry
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.errors import InvalidValueError
from tracker.targets.metrics import METRICS
from tracker.targets.service import create_target

BASE = f"/api/v1/authorities/{STOKE}"
LEVEL = {
    "metric": "supported_lodgings_hosts",
    "kind": "level_by_date",
    "name": "Five more supported lodgings hosts a year",
    "baseline_date": "2023-03-31",
    "baseline_value": 29,
    "target_value": 44,
    "target_date": "2026-03-31",
}
COUNT = {
    "metric": "approvals",
    "kind": "annual_count",
    "name": "Approve 33 households a year",
    "target_value": 33,
    "start_date": "2023-06-01",
    "target_date": "2027-12-31",
}


@pytest.fixture
def manager(client, tokens):
    return bearer(tokens["manager_stoke"])


def stored(db, entity: str = "target") -> list[AuditEntry]:
    with db.read_session() as session:
        query = select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
        return list(session.scalars(query))


def test_a_manager_sets_reads_replaces_and_deletes_a_target_each_step_audited(client, manager, db):
    created = client.post(f"{BASE}/targets", json=LEVEL, headers=manager)
    assert created.status_code == 201, created.text
    target = created.json()
    assert created.headers["etag"] == '"1"'
    assert target["summary"] == (
        "supported lodgings hosts: up to 44 by 31 March 2026, from 29 on 31 March 2023"
    )
    url = f"{BASE}/targets/{target['id']}"
    assert client.get(url, headers=manager).json() == target
    assert [t["id"] for t in client.get(f"{BASE}/targets", headers=manager).json()] == [
        target["id"]
    ]

    changed = {**LEVEL, "target_value": 50, "notes": "raised after the review"}
    assert client.put(url, json=changed, headers=manager).status_code == 428
    stale = client.put(url, json=changed, headers={**manager, "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["field"] == "If-Match"
    replaced = client.put(url, json=changed, headers={**manager, "If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.headers["etag"] == '"2"'
    assert replaced.json()["target_value"] == 50 and replaced.json()["version"] == 2

    assert client.delete(url, headers={**manager, "If-Match": '"1"'}).status_code == 412
    assert client.delete(url, headers={**manager, "If-Match": '"2"'}).status_code == 204
    assert client.get(url, headers=manager).status_code == 404

    entries = stored(db)
    assert [(e.action, e.entity_id, e.authority_code) for e in entries] == [
        ("create", str(target["id"]), STOKE),
        ("update", str(target["id"]), STOKE),
        ("delete", str(target["id"]), STOKE),
    ]
    assert entries[1].detail == {"fields": ["notes", "target_value"]}
    assert "target_value" in entries[0].detail["fields"]
    # Field names only: no value, not even the raised target or the note, is in the log.
    logged = json.dumps([e.detail for e in entries])
    assert "50" not in logged and "review" not in logged and "44" not in logged


def test_an_annual_count_runs_over_whole_years_ending_31_march(client, manager):
    target = client.post(f"{BASE}/targets", json=COUNT, headers=manager).json()
    assert (target["start_date"], target["target_date"]) == ("2023-04-01", "2028-03-31")
    assert target["summary"] == (
        "households approved: at least 33 a year (years ending 31 March), 2023-24 to 2027-28"
    )


ROUTES = {
    "metrics": ("GET", "/api/v1/metrics", None),
    "list": ("GET", f"{BASE}/targets", None),
    "set": ("POST", f"{BASE}/targets", LEVEL),
    "trajectories": ("GET", f"{BASE}/trajectories", None),
}
# What each caller gets: managers and admins only, and only for their own authority (the
# registry names no authority, so any manager reads it).
EXPECTED = {
    "manager_stoke": {"metrics": 200, "list": 200, "set": 201, "trajectories": 200},
    "admin": {"metrics": 200, "list": 200, "set": 201, "trajectories": 200},
    "manager_coventry": {"metrics": 200, "list": 403, "set": 403, "trajectories": 403},
    "recruiter_stoke": {"metrics": 403, "list": 403, "set": 403, "trajectories": 403},
    "regional_wm": {"metrics": 403, "list": 403, "set": 403, "trajectories": 403},
}


def test_only_managers_and_admins_of_the_authority_reach_targets(client, tokens):
    answers = {
        role: {
            name: client.request(method, path, json=body, headers=bearer(tokens[role])).status_code
            for name, (method, path, body) in ROUTES.items()
        }
        for role in EXPECTED
    }
    assert answers == EXPECTED


def test_a_target_of_another_authority_is_not_found_through_ones_own(client, tokens, manager):
    created = client.post(f"{BASE}/targets", json=LEVEL, headers=manager).json()
    coventry = bearer(tokens["manager_coventry"])
    response = client.get(
        f"/api/v1/authorities/E08000026/targets/{created['id']}", headers=coventry
    )
    assert response.status_code == 404 and response.json()["field"] == "target_id"


BAD = [
    # (what is changed from a valid target, status, field named)
    ({**LEVEL, "metric": "happiness"}, 400, "metric"),
    ({**LEVEL, "kind": "vibes"}, 400, "kind"),
    ({**LEVEL, "colour": "blue"}, 400, "colour"),
    ({**LEVEL, "name": ""}, 400, "name"),
    ({**LEVEL, "name": "   "}, 422, "name"),
    ({**LEVEL, "target_value": -1}, 400, "target_value"),
    ({**LEVEL, "target_date": "2026-02-30"}, 400, "target_date"),
    # compound growth
    (
        {"metric": "inhouse_households", "kind": "compound_growth", "name": "g",
         "baseline_date": "2023-03-31", "baseline_value": 150, "target_date": "2028-03-31"},
        422, "annual_rate",
    ),
    (
        {"metric": "inhouse_households", "kind": "compound_growth", "name": "g",
         "baseline_date": "2023-03-31", "baseline_value": 150, "annual_rate": -100,
         "target_date": "2028-03-31"},
        400, "annual_rate",
    ),
    (
        {"metric": "inhouse_households", "kind": "compound_growth", "name": "g",
         "baseline_date": "2023-03-31", "annual_rate": 2, "target_date": "2028-03-31"},
        422, "baseline_value",
    ),
    (
        {"metric": "inhouse_households", "kind": "compound_growth", "name": "g",
         "baseline_date": "2023-03-31", "baseline_value": 150, "annual_rate": 2,
         "target_date": "2023-03-01"},
        422, "target_date",
    ),
    # level by date
    ({k: v for k, v in LEVEL.items() if k != "target_value"}, 422, "target_value"),
    ({**LEVEL, "annual_rate": 2}, 422, "annual_rate"),
    ({**LEVEL, "baseline_date": "2099-03-31"}, 422, "baseline_date"),
    ({**LEVEL, "target_date": "2199-03-31"}, 422, "target_date"),
    ({**LEVEL, "metric": "staying_put_rate", "target_value": 162}, 422, "target_value"),
    # a percentage written as a fraction: 0.62 read as 0.62% would show as met at once
    ({**LEVEL, "metric": "staying_put_rate", "target_value": 0.62}, 422, "target_value"),
    ({"metric": "inhouse_occupancy", "kind": "floor", "name": "f", "lower": 0.85}, 422, "lower"),
    # annual count
    ({**COUNT, "target_date": "2022-12-31"}, 422, "target_date"),
    ({k: v for k, v in COUNT.items() if k != "start_date"}, 422, "start_date"),
    ({**COUNT, "metric": "staying_put_rate"}, 422, "kind"),
    ({**COUNT, "metric": "inhouse_households"}, 422, "kind"),
    # floor and band
    ({"metric": "inhouse_occupancy", "kind": "floor", "name": "f"}, 422, "lower"),
    ({"metric": "inhouse_occupancy", "kind": "floor", "name": "f", "lower": 85, "upper": 95},
     422, "upper"),
    ({"metric": "inhouse_occupancy", "kind": "floor", "name": "f", "direction": "at_most",
      "lower": 85}, 422, "upper"),
    ({"metric": "inhouse_occupancy", "kind": "band", "name": "b", "lower": 90, "upper": 80},
     422, "upper"),
    ({"metric": "inhouse_occupancy", "kind": "band", "name": "b", "lower": 80, "upper": 90,
      "direction": "at_most"}, 422, "direction"),
    ({"metric": "inhouse_occupancy", "kind": "floor", "name": "f", "lower": 85,
      "start_date": "2026-04-01", "target_date": "2026-01-31"}, 422, "target_date"),
    # a count is whole (a percentage keeps its decimals: see below)
    ({**COUNT, "target_value": 2.5}, 422, "target_value"),
    ({**LEVEL, "baseline_value": 29.5}, 422, "baseline_value"),
    ({"metric": "approvals", "kind": "band", "name": "b", "lower": 32.5, "upper": 40},
     422, "lower"),
    # growth (at least) on a falling rate
    (
        {"metric": "inhouse_households", "kind": "compound_growth", "name": "Grow CIC",
         "baseline_date": "2023-03-31", "baseline_value": 150, "annual_rate": -5,
         "target_date": "2028-03-31"},
        422, "annual_rate",
    ),
]  # fmt: skip


def test_each_kind_refuses_bad_input_naming_the_field_and_stores_nothing(client, manager, db):
    outcomes = []
    for body, _, _ in BAD:
        response = client.post(f"{BASE}/targets", json=body, headers=manager)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        named = [problem["field"]] if problem.get("field") else []
        named += [e["field"] for e in problem.get("errors") or []]
        outcomes.append((response.status_code, named))
    assert outcomes == [(status, [field]) for _, status, field in BAD]
    assert client.get(f"{BASE}/targets", headers=manager).json() == []
    assert stored(db) == []


def test_every_missing_field_of_a_kind_is_named_at_once(client, manager):
    body = {"metric": "staying_put_rate", "kind": "level_by_date", "name": "Raise Staying Put"}
    refused = client.post(f"{BASE}/targets", json=body, headers=manager)
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["rule"], problem["field"]) == ("missing_fields", "target_value")
    assert problem["detail"] == "a target of kind level_by_date needs target_value and target_date"


def test_rules_new_to_targets_keep_decimals_for_percentages_and_falls_for_reductions(
    client, manager
):
    percent = {**LEVEL, "metric": "staying_put_rate", "target_value": 62.5, "baseline_value": 40.5}
    assert client.post(f"{BASE}/targets", json=percent, headers=manager).status_code == 201
    fall = {
        "metric": "inhouse_households", "kind": "compound_growth", "name": "Fewer",
        "direction": "at_most", "baseline_date": "2023-03-31", "baseline_value": 150,
        "annual_rate": -5, "target_date": "2028-03-31",
    }  # fmt: skip
    assert client.post(f"{BASE}/targets", json=fall, headers=manager).status_code == 201
    count = client.post(f"{BASE}/targets", json={**COUNT, "target_value": 2.5}, headers=manager)
    assert count.json()["rule"] == "whole_number"
    assert "give a whole number, not 2.5" in count.json()["detail"]


def test_a_percentage_under_1_is_refused_with_the_percent_it_meant(client, manager):
    body = {**LEVEL, "metric": "staying_put_rate", "target_value": 0.62}
    refused = client.post(f"{BASE}/targets", json=body, headers=manager)
    assert refused.status_code == 422
    assert "0.62 would mean 0.62%; for 62% give 62" in refused.json()["detail"]
    accepted = client.post(f"{BASE}/targets", json={**body, "target_value": 62}, headers=manager)
    assert accepted.status_code == 201, accepted.text


def test_a_replacement_is_checked_like_a_new_target(client, manager):
    target = client.post(f"{BASE}/targets", json=LEVEL, headers=manager).json()
    url = f"{BASE}/targets/{target['id']}"
    response = client.put(
        url, json={**LEVEL, "kind": "annual_count"}, headers={**manager, "If-Match": '"1"'}
    )
    assert response.status_code == 422 and response.json()["field"] == "kind"
    assert client.get(url, headers=manager).json()["version"] == 1


def test_the_metric_registry_lists_keys_labels_units_and_shapes(client, manager):
    listed = client.get("/api/v1/metrics", headers=manager).json()
    assert [m["key"] for m in listed] == list(METRICS)
    by_key = {m["key"]: m for m in listed}
    assert by_key["staying_put_rate"]["shape"] == "proportion_flow"
    assert by_key["staying_put_rate"]["unit"] == "percentage points"
    assert by_key["inhouse_occupancy"]["shape"] == "proportion_stock"
    assert by_key["approvals"]["kinds"][0] == "annual_count"
    assert by_key["inhouse_foster_children"]["label"] == (
        "children cared for by in-house foster carers"
    )


def test_trajectories_are_served_as_json(client, manager):
    target = client.post(f"{BASE}/targets", json=LEVEL, headers=manager).json()
    one = client.get(f"{BASE}/targets/{target['id']}/trajectory", headers=manager)
    assert one.status_code == 200, one.text
    body = one.json()
    # No households, no forecast: the actuals are unknown and so is the status.
    assert body["status"] == "no_forecast" and body["forecast"] is None
    assert body["target"]["id"] == target["id"]
    assert [m["label"] for m in body["milestones"]] == ["March 2024", "March 2025", "March 2026"]
    assert body["months"][0]["target"] == 29
    assert set(body["months"][0]) == {
        "month", "target", "target_upper", "actual", "median", "lo80", "hi80", "lo95", "hi95",
    }  # fmt: skip
    listed = client.get(f"{BASE}/trajectories", headers=manager).json()
    assert [t["target"]["id"] for t in listed] == [target["id"]]
    missing = client.get(f"{BASE}/targets/999999/trajectory", headers=manager)
    assert missing.status_code == 404


def test_the_seed_targets_validate(authorities):
    # Staffordshire's states its baseline; Stoke-on-Trent's take theirs from the actuals, so
    # without figures they ask for one by name.
    today = date(2026, 12, 1)
    with authorities.writing() as session:
        add_authority(
            session,
            NewAuthority(code=STAFFORDSHIRE, name="Staffordshire", region="West Midlands"),
        )
        [hosts] = demo_targets(STAFFORDSHIRE)
        record = create_target(session, SYSTEM, STAFFORDSHIRE, hosts, today=today)
        assert (record.baseline_value, record.target_value) == (29, 44)
        stoke = demo_targets(STOKE)
        assert [t.kind for t in stoke] == [
            "compound_growth",
            "level_by_date",
            "annual_count",
            "floor",
        ]
        assert demo_targets("E08000026") == []
        for target in stoke[2:]:
            create_target(session, SYSTEM, STOKE, target, today=today)
        for target in stoke[:2]:
            with pytest.raises(InvalidValueError) as refused:
                create_target(session, SYSTEM, STOKE, target, today=today)
            assert refused.value.field == "baseline_value"
        figures = [
            MonthlyFigure(month="2023-03", metric=Metric.CHILDREN_IN_CARE, value=211,
                          breakdown="in_house_foster"),
            *(MonthlyFigure(month=f"{month:%Y-%m}", metric=metric, value=value)
              for month in (date(2025, m, 1) for m in range(4, 13))
              for metric, value in ((Metric.STAYING_PUT_ELIGIBLE, 5),
                                    (Metric.STAYING_PUT_STAYED, 2))),
            *(MonthlyFigure(month=f"2026-{m:02d}", metric=metric, value=value)
              for m in range(1, 4)
              for metric, value in ((Metric.STAYING_PUT_ELIGIBLE, 5),
                                    (Metric.STAYING_PUT_STAYED, 2))),
        ]  # fmt: skip
        record_monthly_figures(session, SYSTEM, STOKE, figures, today)
        growth = create_target(session, SYSTEM, STOKE, stoke[0], today=today)
        staying = create_target(session, SYSTEM, STOKE, stoke[1], today=today)
    assert (growth.baseline_date, growth.baseline_value) == (date(2023, 3, 31), 211)
    # The latest year of figures, April 2025 to March 2026: 24 of 60 stayed.
    assert (staying.baseline_date, staying.baseline_value) == (date(2026, 3, 31), 40.0)
