"""The household register and capacity figures, on a small hand-checked example."""

from datetime import date

import pytest

from tests.conftest import STOKE, bearer

BASE = f"/api/v1/authorities/{STOKE}"


@pytest.fixture
def manager(client, tokens):
    return bearer(tokens["manager_stoke"])


def post_household(client, manager, **fields):
    """The response to adding a household: in-house, 2 places from 10 Jan 2024 unless
    `fields` say otherwise."""
    body = {"care_type": "in_house", "approved_places": 2, "approved_on": "2024-01-10"}
    body.update(fields)
    return client.post(f"{BASE}/households", json=body, headers=manager)


def add(client, manager, **fields):
    response = post_household(client, manager, **fields)
    assert response.status_code == 201, response.text
    return response.json()


def place(client, manager, household_id, child_ref, start_on, end_on=None):
    body = {"child_ref": child_ref, "start_on": start_on}
    if end_on:
        body["end_on"] = end_on
    return client.post(f"{BASE}/households/{household_id}/placements", json=body, headers=manager)


@pytest.fixture
def register(client, manager):
    """H1 in-house, 2 places (0-10, short term + emergency), from 10 Jan 2024;
    H2 connected, 1 place, from 1 Mar 2025, deregistered (retired) 1 Jan 2026;
    H3 in-house, 3 places (5-17, long term), from 1 Jun 2024, on hold from 1 Sep 2025;
    H4 supported lodgings, 1 place, from 1 Feb 2025.
    Placements: C-001 in H1 from 1 Feb 2024; C-002 in H1 1 Mar 2024 - 1 Jan 2025;
    C-003 in H3 from 1 Jul 2024; C-004 in H4 1 Mar 2025 - 1 Oct 2025.
    H1 has 1 place unavailable (carer's circumstances) from 1 Jun 2025."""
    h1 = add(
        client,
        manager,
        reference="H1",
        age_min=0,
        age_max=10,
        terms=["short_term", "emergency"],
        carers_ethnicity="white_british",
    )
    h2 = add(
        client,
        manager,
        reference="H2",
        care_type="connected",
        approved_places=1,
        approved_on="2025-03-01",
    )
    h3 = add(
        client,
        manager,
        reference="H3",
        approved_places=3,
        approved_on="2024-06-01",
        age_min=5,
        age_max=17,
        terms=["long_term"],
    )
    h4 = add(
        client,
        manager,
        reference="H4",
        care_type="supported_lodgings",
        approved_places=1,
        approved_on="2025-02-01",
        age_min=16,
        age_max=21,
    )
    for household, child, start, end in [
        (h1, "C-001", "2024-02-01", None),
        (h1, "C-002", "2024-03-01", "2025-01-01"),
        (h3, "C-003", "2024-07-01", None),
        (h4, "C-004", "2025-03-01", "2025-10-01"),
    ]:
        assert place(client, manager, household["id"], child, start, end).status_code == 201
    response = client.post(
        f"{BASE}/households/{h1['id']}/unavailability",
        headers=manager,
        json={"places": 1, "reason": "carer_circumstances", "start_on": "2025-06-01"},
    )
    assert response.status_code == 201
    for household, change in [
        (h3, {"effective_on": "2025-09-01", "status": "on_hold", "note": "house move"}),
        (
            h2,
            {
                "effective_on": "2026-01-01",
                "status": "deregistered",
                "deregistration_reason": "retired",
            },
        ),
    ]:
        response = client.post(
            f"{BASE}/households/{household['id']}/changes", json=change, headers=manager
        )
        assert response.status_code == 200, response.text
    client.post(
        f"{BASE}/children-in-care",
        headers=manager,
        json={
            "as_at": "2025-03-31",
            "counts": {
                "in_house_foster": 200,
                "connected_foster": 100,
                "ifa_foster": 300,
                "childrens_home": 80,
                "other": 20,
            },
        },
    )
    return {"H1": h1, "H2": h2, "H3": h3, "H4": h4}


def capacity(client, headers, as_at):
    response = client.get(f"{BASE}/capacity", params={"as_at": as_at}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_capacity_as_at_a_past_date(client, manager, register):
    # 1 Jul 2025: H1 2 places, 1 filled (C-001), 1 unavailable; H2 1 vacant; H3 3 places,
    # 1 filled (C-003), 2 vacant; H4 1 place filled (C-004).
    figures = capacity(client, manager, "2025-07-01")
    total = figures["total"]
    assert (
        total["households"],
        total["approved_places"],
        total["filled_places"],
        total["unavailable_places"],
        total["vacant_places"],
    ) == (4, 7, 3, 1, 3)
    assert total["occupancy"] == 0.5  # 3 filled of 6 available
    by_type = {row["care_type"]: row for row in figures["by_care_type"]}
    assert (by_type["in_house"]["households"], by_type["in_house"]["approved_places"]) == (2, 5)
    assert by_type["in_house"]["vacant_places"] == 2
    assert by_type["connected"]["vacant_places"] == 1
    assert by_type["supported_lodgings"]["occupancy"] == 1.0
    terms = {row["term"]: row for row in figures["by_term"]}
    assert (terms["emergency"]["households"], terms["emergency"]["vacant_places"]) == (1, 0)
    assert (terms["long_term"]["approved_places"], terms["long_term"]["vacant_places"]) == (3, 2)
    bands = {row["age_band"]: row["vacant_places"] for row in figures["vacancies_by_age_band"]}
    # H2 (0-17, 1 vacant) meets every band; H3 (5-17, 2 vacant) meets 5-9 and up.
    assert bands == {"under_1": 1, "1_4": 1, "5_9": 3, "10_15": 3, "16_17": 3}
    assert figures["children_in_care_total"] == 700
    assert figures["in_house_share_of_foster"] == pytest.approx(200 / 600, abs=1e-4)
    assert figures["capacity_share_of_demand"] == pytest.approx(5 / 700, abs=1e-4)


def test_capacity_today_reflects_hold_and_deregistration(client, manager, register):
    # Today: H1 1 filled + 1 unavailable; H2 deregistered; H3 on hold: 1 filled, 2 unavailable;
    # H4 vacant since C-004 left.
    total = capacity(client, manager, date.today().isoformat())["total"]
    assert (
        total["households"],
        total["approved_places"],
        total["filled_places"],
        total["unavailable_places"],
        total["vacant_places"],
    ) == (3, 6, 2, 3, 1)


def test_monthly_flows_count_approvals_and_deregistrations(client, manager, register):
    response = client.get(
        f"{BASE}/capacity/monthly",
        headers=manager,
        params={"date_from": "2025-01-01", "date_to": "2026-01-31"},
    )
    months = {m["month"]: m for m in response.json()}
    assert months["2025-02"]["approvals"] == 1 and months["2025-03"]["approvals"] == 1
    assert months["2026-01"]["deregistrations_by_reason"] == {"retired": 1}
    assert months["2026-01"]["net_change"] == -1
    assert months["2025-12"]["households"] == 4 and months["2026-01"]["households"] == 3


def test_a_placement_beyond_the_approved_places_is_refused(client, manager, register):
    response = place(client, manager, register["H1"]["id"], "C-009", "2024-06-01")
    assert response.status_code == 409 and response.json()["rule"] == "capacity_exceeded"


def test_a_child_cannot_be_placed_twice_at_once(client, manager, register):
    response = place(client, manager, register["H4"]["id"], "C-003", "2025-11-01")
    assert response.status_code == 409 and response.json()["rule"] == "child_already_placed"


def test_no_new_placement_while_on_hold_or_after_deregistration(client, manager, register):
    on_hold = place(client, manager, register["H3"]["id"], "C-010", "2025-10-01")
    assert on_hold.status_code == 409 and on_hold.json()["rule"] == "household_not_active"
    gone = place(client, manager, register["H2"]["id"], "C-011", "2026-02-01")
    assert gone.status_code == 409 and gone.json()["rule"] == "household_not_active"


def test_places_cannot_drop_below_the_children_placed(client, manager, register):
    response = client.post(
        f"{BASE}/households/{register['H1']['id']}/changes",
        headers=manager,
        json={"effective_on": "2025-08-01", "approved_places": 0},
    )
    assert response.status_code == 409 and response.json()["rule"] == "capacity_exceeded"


def test_deregistration_needs_a_reason(client, manager, register):
    response = client.post(
        f"{BASE}/households/{register['H4']['id']}/changes",
        headers=manager,
        json={"status": "deregistered"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "deregistration_reason"


def test_history_keeps_every_period(client, manager, register):
    history = client.get(
        f"{BASE}/households/{register['H3']['id']}/history", headers=manager
    ).json()
    assert [(h["valid_from"], h["valid_to"], h["status"]) for h in history] == [
        ("2024-06-01", "2025-09-01", "active"),
        ("2025-09-01", None, "on_hold"),
    ]
    before = client.get(
        f"{BASE}/households/{register['H3']['id']}", params={"as_at": "2025-08-31"}, headers=manager
    ).json()
    assert before["status"] == "active" and before["vacant_places"] == 2


def test_an_approved_enquiry_offers_and_links_its_household(client, tokens, manager):
    recruiter = bearer(tokens["recruiter_stoke"])
    enquiry = client.post(
        f"{BASE}/enquiries",
        headers=recruiter,
        json={"received_on": "2025-01-06", "channel": "phone"},
    ).json()
    for stage, on in [("application", "2025-02-01"), ("approved", "2025-09-01")]:
        response = client.post(
            f"{BASE}/enquiries/{enquiry['id']}/stage",
            headers=recruiter,
            json={"stage": stage, "on": on},
        )
    assert 'rel="create-household"' in response.headers["link"]
    household = add(
        client, manager, reference="FROM-ENQ", enquiry_id=enquiry["id"], approved_on=None
    )
    assert household["approved_on"] == "2025-09-01" and household["enquiry_id"] == enquiry["id"]
    again = post_household(
        client,
        manager,
        reference="AGAIN",
        approved_places=1,
        approved_on=None,
        enquiry_id=enquiry["id"],
    )
    assert again.status_code == 409 and again.json()["rule"] == "enquiry_has_household"


@pytest.mark.parametrize("enquiry_id", [0, -1, 2**31, 2**70])
def test_an_enquiry_id_out_of_range_is_refused_naming_it(client, manager, enquiry_id):
    before = client.get(f"{BASE}/households", headers=manager).json()
    response = post_household(
        client,
        manager,
        reference="OUT-OF-RANGE",
        approved_places=1,
        approved_on=None,
        enquiry_id=enquiry_id,
    )
    assert response.status_code == 400, response.text
    assert "enquiry_id" in response.text
    assert client.get(f"{BASE}/households", headers=manager).json() == before


def test_regional_tokens_read_capacity_but_not_households(client, tokens, register):
    regional = bearer(tokens["regional_wm"])
    assert client.get(f"{BASE}/capacity", headers=regional).status_code == 200
    for path in (
        "households",
        f"households/{register['H1']['id']}",
        f"households/{register['H1']['id']}/placements",
    ):
        assert client.get(f"{BASE}/{path}", headers=regional).status_code == 403
    assert client.get(f"{BASE}/capacity", headers=bearer(tokens["regional_ne"])).status_code == 403
    assert (
        client.get(f"{BASE}/households", headers=bearer(tokens["recruiter_stoke"])).status_code
        == 403
    )


def test_carers_ethnicity_withholds_small_counts(client, manager, register):
    groups = client.get(f"{BASE}/capacity/carers-ethnicity", headers=manager).json()
    white = next(g for g in groups if g["group"] == "white")
    assert white == {"group": "white", "households": None, "suppressed": True}


def test_lengthening_a_placement_must_still_fit(client, manager, register):
    # C-002 left H1 on 1 Jan 2025; H1 then had C-001 only, and 1 place unavailable from June.
    placements = client.get(
        f"{BASE}/households/{register['H1']['id']}/placements", headers=manager
    ).json()
    ended = next(p for p in placements if p["child_ref"] == "C-002")
    assert place(client, manager, register["H1"]["id"], "C-020", "2025-02-01").status_code == 201
    longer = client.post(
        f"{BASE}/placements/{ended['id']}/end", json={"end_on": "2025-03-01"}, headers=manager
    )
    assert longer.status_code == 409 and longer.json()["rule"] == "capacity_exceeded"


def test_unavailable_places_cannot_exceed_the_approved(client, manager, register):
    # H3 has 3 places; 2 marked unavailable from 1 Jul 2024 leaves room for 1 more, not 2.
    url = f"{BASE}/households/{register['H3']['id']}/unavailability"
    body = {
        "places": 2,
        "reason": "matched_pending",
        "start_on": "2024-07-01",
        "end_on": "2024-08-01",
    }
    assert client.post(url, json=body, headers=manager).status_code == 201
    again = client.post(url, json=body | {"start_on": "2024-07-15"}, headers=manager)
    assert again.status_code == 422 and again.json()["field"] == "places"
    future = client.post(
        url,
        json=body | {"places": 1, "start_on": "2099-01-01", "end_on": "2099-02-01"},
        headers=manager,
    )
    assert future.status_code == 422 and future.json()["field"] == "start_on"


def test_a_deregistration_can_be_corrected_on_its_own_date(client, manager, register):
    url = f"{BASE}/households/{register['H2']['id']}/changes"
    fixed = client.post(
        url,
        headers=manager,
        json={
            "effective_on": "2026-01-01",
            "status": "deregistered",
            "deregistration_reason": "resigned",
        },
    )
    assert fixed.status_code == 200 and fixed.json()["deregistration_reason"] == "resigned"
    later = client.post(
        url, headers=manager, json={"effective_on": "2026-02-01", "approved_places": 2}
    )
    assert later.status_code == 409 and later.json()["rule"] == "deregistered"


def test_one_small_ethnic_group_cannot_be_worked_out_from_the_rest(client, manager):
    for n, ethnicity in enumerate(["white_british"] * 6 + ["black_african"] * 2):
        add(client, manager, reference=f"E{n}", carers_ethnicity=ethnicity)
    groups = {
        g["group"]: g
        for g in client.get(f"{BASE}/capacity/carers-ethnicity", headers=manager).json()
    }
    # Black (2) is withheld; showing white (6) would give it away, so white is withheld too.
    assert groups["black"]["suppressed"] and groups["white"]["suppressed"]
    assert groups["white"]["households"] is None and groups["asian"]["households"] == 0


def test_children_in_care_come_from_one_entry_not_a_mix_of_dates(client, manager, register):
    client.post(
        f"{BASE}/children-in-care",
        headers=manager,
        json={"as_at": "2026-03-31", "counts": {"in_house_foster": 150}},
    )
    figures = capacity(client, manager, "2026-06-30")
    assert figures["children_in_care_total"] == 150
    assert capacity(client, manager, "2025-07-01")["children_in_care_total"] == 700
