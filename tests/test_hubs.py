"""Regional recruitment hubs: routing, handover (accept, decline, reassign), working-day
clocks across bank holidays, each role's view of a handed-over enquiry, and cross-council
duplicates, on both backends."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from scripts.build_postcode_districts import district_counts
from tests.conftest import COVENTRY, STOCKTON, STOKE, bearer
from tracker import reference
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError
from tracker.hubs import queries, service
from tracker.hubs.routing import district_lookup, route
from tracker.hubs.rules import (
    Clock,
    RoutedBy,
    add_working_days,
    decision_due,
    first_contact_due,
    initial_visit_due,
)
from tracker.hubs.schemas import NewHub
from tracker.hubs.tables import HubEnquiry

RECEIVED = (date.today() - timedelta(days=3)).isoformat()


def _hub(client: TestClient, tokens: dict[str, str], **extra: object) -> tuple[int, str]:
    body = {"name": "West Midlands hub", "members": [STOKE, COVENTRY], **extra}
    made = client.post("/api/v1/hubs", json=body, headers=bearer(tokens["admin"]))
    assert made.status_code == 201, made.text
    hub_id = made.json()["id"]
    issued = client.post(
        "/api/v1/tokens",
        json={"role": "hub", "name": "hub officer", "hub_id": hub_id},
        headers=bearer(tokens["admin"]),
    )
    assert issued.status_code == 201, issued.text
    return hub_id, issued.json()["secret"]


def _log(client: TestClient, hub_id: int, secret: str, **fields: object) -> dict:
    body = {"received_on": RECEIVED, "channel": "phone", **fields}
    answer = client.post(f"/api/v1/hubs/{hub_id}/enquiries", json=body, headers=bearer(secret))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _to_application(client: TestClient, hub_id: int, secret: str, enquiry_id: int) -> None:
    for stage in ("first_contact", "initial_visit", "application"):
        moved = client.post(
            f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/stage",
            json={"stage": stage},
            headers=bearer(secret),
        )
        assert moved.status_code == 200, moved.text


# Routing ------------------------------------------------------------------------------


def test_routing_by_choice_district_and_lookup(authorities: Database) -> None:
    lookup = {"ST4": (STOKE,), "CV1": (COVENTRY,), "WS9": (STOKE, COVENTRY), "TS1": (STOCKTON,)}
    with authorities.writing() as session:
        hub = service.create_hub(session, SYSTEM, NewHub(name="WM", members=[STOKE, COVENTRY]))
        assert hub.id is not None
        assert route(session, hub.id, district="st4", chosen=None, lookup=lookup) == (
            STOKE,
            RoutedBy.POSTCODE,
        )
        # The enquirer's choice wins over the postcode.
        assert route(session, hub.id, district="ST4", chosen=COVENTRY, lookup=lookup) == (
            COVENTRY,
            RoutedBy.ENQUIRER,
        )
        with pytest.raises(InvalidValueError) as spans:
            route(session, hub.id, district="WS9", chosen=None, lookup=lookup)
        assert spans.value.field == "authority_code"
        assert STOKE in spans.value.message and COVENTRY in spans.value.message
        with pytest.raises(InvalidValueError) as outside:
            route(session, hub.id, district="TS1", chosen=None, lookup=lookup)
        assert outside.value.field == "postcode_district" and STOCKTON in outside.value.message
        with pytest.raises(InvalidValueError) as stranger:
            route(session, hub.id, district=None, chosen=STOCKTON, lookup=lookup)
        assert stranger.value.field == "authority_code"


def test_the_hub_chooses_for_a_district_spanning_councils(
    client: TestClient, tokens: dict[str, str]
) -> None:
    hub_id, secret = _hub(client, tokens)
    refused = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries",
        json={"received_on": RECEIVED, "channel": "web_form", "postcode_district": "WS9"},
        headers=bearer(secret),
    )
    assert refused.status_code == 422 and refused.json()["field"] == "postcode_district"
    chosen = client.put(
        f"/api/v1/hubs/{hub_id}/districts",
        json={"district": "ws9", "authority_code": COVENTRY},
        headers=bearer(secret),
    )
    assert chosen.status_code == 200, chosen.text
    logged = _log(client, hub_id, secret, postcode_district="WS9")
    assert logged["enquiry"]["authority_code"] == COVENTRY
    assert logged["routed_by"] == "hub_district"
    outsider = client.put(
        f"/api/v1/hubs/{hub_id}/districts",
        json={"district": "TS1", "authority_code": STOCKTON},
        headers=bearer(secret),
    )
    assert outsider.status_code == 422 and outsider.json()["field"] == "authority_code"


def test_the_build_script_counts_live_english_postcodes_by_council(tmp_path: Path) -> None:
    source = tmp_path / "onspd.csv"
    source.write_text(
        "pcds,doterm,lad25cd\n"
        "ST4 1AA,,E06000021\nST4 1AB,,E06000021\nST4 9ZZ,,E07000198\n"
        "ST4 2XX,202001,E06000021\nCF10 1AA,,W06000015\nS70 1AA,,E08000038\n"
    )
    # A county district (Staffordshire Moorlands) counts under its county, the council.
    counts = district_counts(source, {"E07000198": "E10000028"})
    assert counts == {("ST4", STOKE): 2, ("ST4", "E10000028"): 1, ("S70", "E08000016"): 1}


def test_the_shipped_lookup_names_every_council_by_its_reference_code() -> None:
    lookup = district_lookup()
    with (Path(reference.__file__).parent / "authorities.csv").open() as handle:
        known = {row["code"] for row in csv.DictReader(handle)}
    councils = {code for codes in lookup.values() for code in codes}
    assert len(councils) == 153 and councils <= known
    assert lookup["ST4"] == (STOKE, "E10000028")  # most postcodes first
    assert lookup["CV1"] == (COVENTRY,)
    assert len(lookup) > 2000


# Handover -----------------------------------------------------------------------------


def test_handover_accepted_then_the_hub_sees_by_agreement(
    client: TestClient, tokens: dict[str, str]
) -> None:
    hub_id, secret = _hub(client, tokens)
    logged = _log(
        client, hub_id, secret, authority_code=STOKE, enquirer_name="A Person", email="a@b.uk"
    )
    enquiry_id = logged["enquiry"]["id"]
    assert logged["routed_by"] == "enquirer" and logged["handover"] == "with_hub"
    too_soon = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret)
    )
    assert too_soon.status_code in (409, 422), too_soon.text
    _to_application(client, hub_id, secret, enquiry_id)
    beyond = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/stage",
        json={"stage": "stage_1"},
        headers=bearer(secret),
    )
    assert beyond.status_code in (409, 422) and beyond.json()["field"] == "stage"
    offered = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret)
    )
    assert offered.status_code == 200 and offered.json()["handover"] == "offered"
    assert offered.json()["decision_due"] == decision_due(date.today(), 5).isoformat()
    # Stoke sees the offer; Coventry's staff do not reach Stoke's handovers.
    stoke = client.get(
        f"/api/v1/authorities/{STOKE}/handovers", headers=bearer(tokens["recruiter_stoke"])
    )
    assert [o["enquiry"]["id"] for o in stoke.json()] == [enquiry_id]
    assert stoke.json()[0]["handover"] == "offered"
    coventry = client.get(
        f"/api/v1/authorities/{STOKE}/handovers", headers=bearer(tokens["recruiter_coventry"])
    )
    assert coventry.status_code == 403
    client.put(
        f"/api/v1/authorities/{STOKE}/hub-agreement",
        json={"shared_stages": ["application", "approved"], "shared_fields": ["channel"]},
        headers=bearer(tokens["manager_stoke"]),
    ).raise_for_status()
    accepted = client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/accept",
        headers=bearer(tokens["recruiter_stoke"]),
    )
    assert accepted.status_code == 200 and accepted.json()["handover"] == "accepted"
    again = client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/accept",
        headers=bearer(tokens["recruiter_stoke"]),
    )
    assert again.status_code in (409, 422)
    # The hub can no longer work it.
    locked = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/reassign",
        json={"authority_code": COVENTRY},
        headers=bearer(secret),
    )
    assert locked.status_code in (409, 422)


def test_each_role_sees_a_handed_over_enquiry_as_it_may(
    client: TestClient, tokens: dict[str, str]
) -> None:
    hub_id, secret = _hub(client, tokens)
    enquiry_id = _log(
        client, hub_id, secret, authority_code=STOKE, enquirer_name="B Person", email="b@c.uk"
    )["enquiry"]["id"]
    _to_application(client, hub_id, secret, enquiry_id)
    client.post(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret))
    client.put(
        f"/api/v1/authorities/{STOKE}/hub-agreement",
        json={"shared_stages": ["application"], "shared_fields": ["channel"]},
        headers=bearer(tokens["manager_stoke"]),
    ).raise_for_status()
    client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/accept",
        headers=bearer(tokens["recruiter_stoke"]),
    ).raise_for_status()

    hub_view = client.get(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}", headers=bearer(secret))
    assert hub_view.status_code == 200
    assert hub_view.json()["fields"] == {"channel": "phone"}
    assert set(hub_view.json()["stages"]) == {"application"}
    assert "B Person" not in hub_view.text and "b@c.uk" not in hub_view.text

    stoke = client.get(
        f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}",
        headers=bearer(tokens["recruiter_stoke"]),
    )
    assert stoke.status_code == 200 and stoke.json()["enquirer_name"] == "B Person"
    for other in ("recruiter_coventry", "regional_wm"):
        denied = client.get(
            f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}", headers=bearer(tokens[other])
        )
        assert denied.status_code == 403, other
        hub_denied = client.get(
            f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}", headers=bearer(tokens[other])
        )
        assert hub_denied.status_code == 403, other
    # A hub token reaches no council route, and another hub's token not this hub.
    assert (
        client.get(
            f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}", headers=bearer(secret)
        ).status_code
        == 403
    )
    other_hub = client.post(
        "/api/v1/hubs",
        json={"name": "North East hub", "members": [STOCKTON]},
        headers=bearer(tokens["admin"]),
    ).json()["id"]
    other_secret = client.post(
        "/api/v1/tokens",
        json={"role": "hub", "name": "ne", "hub_id": other_hub},
        headers=bearer(tokens["admin"]),
    ).json()["secret"]
    assert (
        client.get(
            f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}", headers=bearer(other_secret)
        ).status_code
        == 403
    )
    admin = client.get(
        f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}", headers=bearer(tokens["admin"])
    )
    assert admin.status_code == 200 and admin.json()["email"] == "b@c.uk"
    # Every hub read is in the audit log.
    audit = client.get(
        "/api/v1/audit",
        params={"entity": "enquiry", "entity_id": str(enquiry_id)},
        headers=bearer(tokens["admin"]),
    )
    actions = [(e["action"], e["detail"].get("view")) for e in audit.json()]
    assert ("read", "agreement") in actions and ("accept", None) in actions


def test_decline_with_a_reason_then_reassign(client: TestClient, tokens: dict[str, str]) -> None:
    hub_id, secret = _hub(client, tokens)
    enquiry_id = _log(client, hub_id, secret, authority_code=STOKE)["enquiry"]["id"]
    _to_application(client, hub_id, secret, enquiry_id)
    client.post(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret))
    no_reason = client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/decline",
        json={},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "reason"
    declined = client.post(
        f"/api/v1/authorities/{STOKE}/handovers/{enquiry_id}/decline",
        json={"reason": "out_of_area", "note": "lives in Coventry"},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["handover"] == "declined"
    assert declined.json()["decline_reason"] == "out_of_area"
    back = client.get(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}", headers=bearer(secret))
    assert back.json()["handover"] == "declined"
    moved = client.post(
        f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/reassign",
        json={"authority_code": COVENTRY},
        headers=bearer(secret),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["enquiry"]["authority_code"] == COVENTRY
    assert moved.json()["routed_by"] == "reassigned" and moved.json()["handover"] == "with_hub"
    assert (
        client.get(
            f"/api/v1/authorities/{STOKE}/enquiries/{enquiry_id}",
            headers=bearer(tokens["recruiter_stoke"]),
        ).status_code
        == 404
    )
    summary = client.get(f"/api/v1/hubs/{hub_id}/summary", headers=bearer(secret)).json()
    assert summary["declines"] == [{"key": "out_of_area", "count": None}]  # 1 is withheld
    audit = client.get(
        "/api/v1/audit",
        params={"entity": "enquiry", "entity_id": str(enquiry_id)},
        headers=bearer(tokens["admin"]),
    ).json()
    reassigned = [e for e in audit if e["action"] == "reassign"]
    assert {e["authority_code"] for e in reassigned} == {STOKE, COVENTRY}


# Clocks -------------------------------------------------------------------------------


def test_working_day_clocks_skip_bank_holidays() -> None:
    # Christmas 2025: Thu 25 and Fri 26 December are bank holidays, then the weekend.
    assert first_contact_due(date(2025, 12, 24)) == date(2025, 12, 29)
    # Five working days from Christmas Eve: 29, 30, 31 Dec, 2 Jan (1 Jan is a holiday), 5 Jan.
    assert initial_visit_due(date(2025, 12, 24)) == date(2026, 1, 5)
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
    assert decision_due(date(2026, 4, 2), 2) == date(2026, 4, 8)
    assert add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 7)


def test_overdue_items_on_both_trays(authorities: Database) -> None:
    from tracker.enquiries.schemas import StageMove
    from tracker.enquiries.stages import Stage
    from tracker.enquiries.vocabulary import Channel
    from tracker.hubs.schemas import HubNewEnquiry

    received = date(2025, 12, 22)
    with authorities.writing() as session:
        hub = service.create_hub(
            session,
            SYSTEM,
            NewHub(name="WM", members=[STOKE, COVENTRY], handover_stage=Stage.FIRST_CONTACT),
        )
        assert hub.id is not None
        late, _ = service.log_enquiry(
            session,
            SYSTEM,
            hub.id,
            HubNewEnquiry(received_on=received, channel=Channel.PHONE, authority_code=STOKE),
            received,
            b"k",
        )
        offered, _ = service.log_enquiry(
            session,
            SYSTEM,
            hub.id,
            HubNewEnquiry(received_on=received, channel=Channel.WEB_FORM, authority_code=COVENTRY),
            received,
            b"k",
        )
        assert late.id and offered.id
        service.advance(
            session,
            SYSTEM,
            hub.id,
            offered.id,
            StageMove(stage=Stage.FIRST_CONTACT, on=received),
            received,
        )
        service.offer(session, SYSTEM, hub.id, offered.id, date(2025, 12, 23))
        # Offered Tue 23 Dec with 5 working days: 24, 29, 30, 31 Dec, 2 Jan.
        link = session.get(HubEnquiry, offered.id)
        assert link is not None and link.decision_due == date(2026, 1, 2)
        # On 29 Dec (first working day after Christmas) first contact of the 22nd is late,
        # the initial visit (due 29 Dec) not yet, the decision not yet.
        hub_items = queries.hub_tray(session, hub.id, date(2025, 12, 29))
        assert {(i.enquiry_id, i.clock) for i in hub_items} == {(late.id, Clock.FIRST_CONTACT)}
        on_5_jan = queries.hub_tray(session, hub.id, date(2026, 1, 5))
        assert {(i.enquiry_id, i.clock) for i in on_5_jan} == {
            (late.id, Clock.FIRST_CONTACT),
            (late.id, Clock.INITIAL_VISIT),
            (offered.id, Clock.INITIAL_VISIT),
            (offered.id, Clock.DECISION),
        }
        council = queries.council_tray(session, COVENTRY, date(2026, 1, 5))
        assert {(i.enquiry_id, i.clock) for i in council} == {
            (offered.id, Clock.INITIAL_VISIT),
            (offered.id, Clock.DECISION),
        }
        assert queries.council_tray(session, STOKE, date(2026, 1, 5)) == []


# Duplicates ---------------------------------------------------------------------------


def test_the_same_person_with_two_councils_is_flagged_without_the_other_record(
    client: TestClient, tokens: dict[str, str]
) -> None:
    hub_id, secret = _hub(client, tokens)
    own = client.post(
        f"/api/v1/authorities/{COVENTRY}/enquiries",
        json={
            "received_on": RECEIVED,
            "channel": "web_form",
            "email": "Sam.Carer@Example.org",
            "external_ref": "COV-77",
        },
        headers=bearer(tokens["recruiter_coventry"]),
    )
    assert own.status_code == 201
    logged = _log(
        client,
        hub_id,
        secret,
        authority_code=STOKE,
        email="SAM.carer@example.ORG",
        phone="+44 7700 900123",
    )
    assert logged["other_councils"] == 1
    fresh = _log(client, hub_id, secret, authority_code=STOKE, email="other@example.org")
    assert fresh["other_councils"] == 0
    # Same phone, written differently, logged for Coventry by the hub: flagged by phone.
    by_phone = _log(client, hub_id, secret, authority_code=COVENTRY, phone="07700 900123")
    assert by_phone["other_councils"] == 1
    enquiry_id = logged["enquiry"]["id"]
    _to_application(client, hub_id, secret, enquiry_id)
    client.post(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret))
    stoke = client.get(
        f"/api/v1/authorities/{STOKE}/handovers", headers=bearer(tokens["recruiter_stoke"])
    )
    assert stoke.json()[0]["with_other_councils"] is True
    assert COVENTRY not in stoke.text and "COV-77" not in stoke.text
    stored = client.get(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}", headers=bearer(secret))
    assert "SAM.carer" in stored.text  # the hub holds its own record in full


def test_erasure_removes_the_contact_keys(client: TestClient, tokens: dict[str, str]) -> None:
    hub_id, secret = _hub(client, tokens)
    first = _log(client, hub_id, secret, authority_code=STOKE, email="pat@example.org")
    second = _log(client, hub_id, secret, authority_code=COVENTRY, email="PAT@example.org")
    assert second["other_councils"] == 1
    erased = client.delete(
        f"/api/v1/authorities/{STOKE}/enquiries/{first['enquiry']['id']}/personal-data",
        headers=bearer(tokens["manager_stoke"]),
    )
    assert erased.status_code == 200
    again = client.get(
        f"/api/v1/hubs/{hub_id}/enquiries/{second['enquiry']['id']}", headers=bearer(secret)
    )
    assert again.json()["other_councils"] == 0


def test_who_saw_an_enquiry_includes_the_hubs_and_the_councils_lists(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """`GET /audit?enquiry_id=` answers who saw a person: a hub's list and a council's list
    of handovers name the enquiries they showed, as a council's own lists do."""
    hub_id, secret = _hub(client, tokens)
    enquiry_id = _log(client, hub_id, secret, authority_code=STOKE, enquirer_name="C Person")[
        "enquiry"
    ]["id"]
    _to_application(client, hub_id, secret, enquiry_id)
    client.post(f"/api/v1/hubs/{hub_id}/enquiries/{enquiry_id}/offer", headers=bearer(secret))
    assert client.get(f"/api/v1/hubs/{hub_id}/enquiries", headers=bearer(secret)).status_code == 200
    offers = client.get(
        f"/api/v1/authorities/{STOKE}/handovers", headers=bearer(tokens["recruiter_stoke"])
    )
    assert offers.status_code == 200
    seen = client.get(
        "/api/v1/audit", params={"enquiry_id": enquiry_id}, headers=bearer(tokens["admin"])
    )
    listings = {(e["entity"], e["action"]) for e in seen.json() if e["action"] == "list"}
    assert listings == {("hub_enquiry", "list"), ("handover", "list")}
    # A manager of the council sees the council's listing (the hub's is the hub's).
    own = client.get(
        "/api/v1/audit",
        params={"enquiry_id": enquiry_id},
        headers=bearer(tokens["manager_stoke"]),
    )
    assert ("handover", "list") in {(e["entity"], e["action"]) for e in own.json()}
