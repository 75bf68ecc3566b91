"""The hub's dashboard page and a council's handovers page (Litestar's test client, both
backends): the hub logs an enquiry, records stages to the handover stage, offers it; the
council declines with a reason or accepts; bad forms come back with their errors."""

from __future__ import annotations

from datetime import date, timedelta

from litestar.testing import TestClient

from tests.conftest import COVENTRY, STOKE, bearer
from tests.test_dashboard import CSRF, sign_in
from tracker.core.db import Database
from tracker.enquiries.timeliness import london_today
from tracker.hubs.tables import HubEnquiry


def _hub_token(client: TestClient, tokens: dict[str, str]) -> tuple[int, str]:
    made = client.post(
        "/api/v1/hubs",
        json={"name": "West Midlands hub", "members": [STOKE, COVENTRY]},
        headers=bearer(tokens["admin"]),
    )
    hub_id = made.json()["id"]
    issued = client.post(
        "/api/v1/tokens",
        json={"role": "hub", "name": "hub officer", "hub_id": hub_id},
        headers=bearer(tokens["admin"]),
    )
    return hub_id, issued.json()["secret"]


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def test_a_hub_officer_hands_over_and_the_council_declines_then_accepts(
    client: TestClient, tokens: dict[str, str], authorities: Database
) -> None:
    _, secret = _hub_token(client, tokens)
    assert sign_in(client, secret).status_code == 303
    home = client.get("/dashboard", follow_redirects=False)
    assert home.headers["location"].startswith("/dashboard/hub")
    csrf = _csrf(client, "/dashboard/hub")
    day = london_today() - timedelta(days=2)
    form = {
        "csrf_token": csrf,
        "received_on-day": str(day.day),
        "received_on-month": str(day.month),
        "received_on-year": str(day.year),
        "channel": "phone",
        "postcode_district": "TS1",  # Middlesbrough's, in none of the hub's councils
        "enquirer_name": "Jo Hub",
    }
    unrouted = client.post("/dashboard/hub/enquiries", data=form)
    assert unrouted.status_code == 400
    assert "There is a problem" in unrouted.text and "TS1" in unrouted.text
    logged = client.post("/dashboard/hub/enquiries", data={**form, "authority_code": STOKE})
    assert logged.status_code == 200 and "Enquiry logged and routed" in logged.text
    enquiry_id = int(logged.text.split('data-enquiry="')[1].split('"')[0])
    for stage in ("first_contact", "initial_visit", "application"):
        moved = client.post(
            f"/dashboard/hub/enquiries/{enquiry_id}/stage",
            data={"csrf_token": csrf, "stage": stage},
        )
        assert moved.status_code == 200, moved.text
    offered = client.post(f"/dashboard/hub/enquiries/{enquiry_id}/offer", data={"csrf_token": csrf})
    assert "Enquiry offered to its council" in offered.text
    client.cookies.clear()

    assert sign_in(client, tokens["recruiter_stoke"]).status_code == 303
    csrf = _csrf(client, "/dashboard/handovers")
    page = client.get("/dashboard/handovers")
    assert "Jo Hub" in page.text and 'data-action="accept"' in page.text
    # A council of a hub is offered the Handovers page in the navigation.
    enquiries = client.get("/dashboard/enquiries").text
    nav = enquiries.split('<ul class="govuk-service-navigation__list"')[1].split("</ul>")[0]
    assert 'href="/dashboard/handovers"' in nav
    no_reason = client.post(
        f"/dashboard/handovers/{enquiry_id}/decline", data={"csrf_token": csrf, "reason": ""}
    )
    assert no_reason.status_code == 400 and "Choose why the council declines" in no_reason.text
    declined = client.post(
        f"/dashboard/handovers/{enquiry_id}/decline",
        data={"csrf_token": csrf, "reason": "not_ready"},
    )
    assert "Handover declined" in declined.text
    client.cookies.clear()

    assert sign_in(client, secret).status_code == 303
    csrf = _csrf(client, "/dashboard/hub")
    again = client.post(f"/dashboard/hub/enquiries/{enquiry_id}/offer", data={"csrf_token": csrf})
    assert "Enquiry offered to its council" in again.text
    client.cookies.clear()

    # A decision past its due date shows on the council's work tray too.
    with authorities.writing() as session:
        link = session.get(HubEnquiry, enquiry_id)
        assert link is not None
        link.decision_due = date(2026, 1, 2)
    assert sign_in(client, tokens["recruiter_stoke"]).status_code == 303
    tray = client.get("/dashboard/enquiries").text
    assert "1 handover from the hub</a> is waiting past" in tray
    csrf = _csrf(client, "/dashboard/handovers")
    assert "overdue</strong>" in client.get("/dashboard/handovers").text
    accepted = client.post(f"/dashboard/handovers/{enquiry_id}/accept", data={"csrf_token": csrf})
    assert "Handover accepted" in accepted.text
    record = client.get(
        f"/api/v1/authorities/{STOKE}/handovers", headers=bearer(tokens["recruiter_stoke"])
    )
    assert record.json()[0]["handover"] == "accepted"
    client.cookies.clear()
    # Coventry's recruiter sees no Stoke handover on their page.
    assert sign_in(client, tokens["recruiter_coventry"]).status_code == 303
    assert "Jo Hub" not in client.get("/dashboard/handovers").text
    assert client.get("/dashboard/hub").status_code == 403
