"""Reads of enquirers' personal data are audited: one `read` entry per record shown (API,
history, the dashboard's page, edit form and erasure check), one `list` entry per list page
(API list and overdue list, the dashboard's list with its work tray, the duplicate warning)
with the ids it showed; `GET /audit?enquiry_id=` answers who saw a person and when; the
entries hold no personal data, survive erasure and move no council's revision."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import STOKE, bearer
from tests.test_dashboard_enquiries import _log, _signed_in
from tracker.core.revisions import revision
from tracker.enquiries.timeliness import london_today

BASE = f"/api/v1/authorities/{STOKE}/enquiries"
NAME, EMAIL, PHONE = "Alex Personal", "alex.personal@example.org", "07700 900123"


def _create(client, secret: str, **fields) -> dict:
    body = {
        "received_on": (london_today() - timedelta(days=3)).isoformat(),
        "channel": "phone",
        **fields,
    }
    response = client.post(BASE, json=body, headers=bearer(secret))
    assert response.status_code == 201, response.text
    return response.json()


def _audit(client, manager: str, **params) -> list[dict]:
    response = client.get("/api/v1/audit", params=params, headers=bearer(manager))
    assert response.status_code == 200, response.text
    return response.json()


def _reads(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["action"], e["detail"].get("view", "")) for e in entries if e["action"] != "create"]


def _revision(database) -> int:
    with database.read_session() as session:
        return revision(session, STOKE)


def test_api_reads_and_lists_are_audited_without_values(client, tokens, authorities):
    recruiter, manager = tokens["recruiter_stoke"], tokens["manager_stoke"]
    alex = _create(
        client, recruiter, enquirer_name=NAME, email=EMAIL, phone=PHONE, postcode_district="ST1"
    )
    other = _create(client, recruiter, enquirer_name="Sam Other")
    before = _revision(authorities)
    h = bearer(recruiter)
    assert client.get(f"{BASE}/{alex['id']}", headers=h).status_code == 200
    assert client.get(f"{BASE}/{alex['id']}/history", headers=h).status_code == 200
    assert client.get(BASE, params={"search": "Alex"}, headers=h).status_code == 200
    assert client.get(BASE, params={"search": "Sam"}, headers=h).status_code == 200
    assert client.get(f"{BASE}/overdue", headers=h).status_code == 200
    assert _revision(authorities) == before, "audited reads moved the council's revision"

    seen = _audit(client, manager, enquiry_id=alex["id"])
    assert _reads(seen) == [
        ("list", "overdue"),
        ("list", "list"),
        ("read", "history"),
        ("read", "record"),
    ]
    assert all(e["actor"].startswith("recruiter:recruiter_stoke#") for e in seen)
    assert all(e["at"] for e in seen)
    searched = next(e for e in seen if e["detail"].get("view") == "list")
    assert searched["detail"] == {"view": "list", "count": 1, "search": True, "shown": [alex["id"]]}
    # The search for Sam showed only the other enquiry: it is not Alex's.
    others = _audit(client, manager, enquiry_id=other["id"])
    assert ("list", "list") in _reads(others) and ("read", "record") not in _reads(others)
    everything = str(_audit(client, manager))
    for value in (NAME, EMAIL, PHONE, "Alex", "Sam"):
        assert value not in everything


def test_a_read_refused_or_missing_writes_no_entry(client, tokens):
    recruiter, manager = tokens["recruiter_stoke"], tokens["manager_stoke"]
    alex = _create(client, recruiter, enquirer_name=NAME)
    assert client.get(f"{BASE}/999999", headers=bearer(recruiter)).status_code == 404
    coventry = bearer(tokens["recruiter_coventry"])
    assert client.get(f"{BASE}/{alex['id']}", headers=coventry).status_code == 403
    assert _reads(_audit(client, manager, enquiry_id=alex["id"])) == []


def test_erasure_keeps_the_read_entries(client, tokens):
    recruiter, manager = tokens["recruiter_stoke"], tokens["manager_stoke"]
    alex = _create(client, recruiter, enquirer_name=NAME, email=EMAIL)
    assert client.get(f"{BASE}/{alex['id']}", headers=bearer(recruiter)).status_code == 200
    erased = client.delete(f"{BASE}/{alex['id']}/personal-data", headers=bearer(manager))
    assert erased.status_code == 200
    actions = [e["action"] for e in _audit(client, manager, enquiry_id=alex["id"])]
    assert actions[:2] == ["erase", "read"] and "create" in actions


def test_dashboard_pages_of_an_enquiry_are_audited(client, tokens, authorities):
    manager = tokens["manager_stoke"]
    csrf = _signed_in(client, manager)
    assert _log(client, csrf, enquirer_name=NAME, email=EMAIL).status_code == 303
    alex = client.get(BASE, headers=bearer(manager)).json()["items"][0]
    before = _revision(authorities)
    page = f"/dashboard/enquiries/{alex['id']}"
    for path in (page, f"{page}/edit", f"{page}/erase", "/dashboard/enquiries?q=alex"):
        response = client.get(path)
        assert response.status_code == 200 and NAME in response.text, path
    # The duplicate warning shows another open enquiry holding the same email.
    warned = _log(client, csrf, enquirer_name="Someone Else", email=EMAIL)
    assert warned.status_code == 200 and "An open enquiry already has" in warned.text
    # A refused stage move shows the page again.
    refused = client.post(f"{page}/stage", data={"csrf_token": csrf, "stage": "nonsense"})
    assert refused.status_code == 400 and NAME in refused.text
    assert _revision(authorities) == before

    seen = _reads(_audit(client, manager, enquiry_id=alex["id"]))
    assert seen[:6] == [
        ("read", "page"),
        ("list", "duplicates"),
        ("list", "dashboard_list"),
        ("read", "erase"),
        ("read", "edit"),
        ("read", "page"),
    ], seen
    listed = next(
        e
        for e in _audit(client, manager, enquiry_id=alex["id"])
        if e["detail"].get("view") == "dashboard_list"
    )
    assert listed["detail"]["search"] is True and listed["detail"]["count"] >= 1
    assert "alex" not in str(listed).lower()


def test_an_enquiry_id_outside_the_ids_range_is_400_naming_it(client, tokens):
    for bad in ("0", "-1", "99999999999999999999"):
        answer = client.get(
            "/api/v1/audit", params={"enquiry_id": bad}, headers=bearer(tokens["manager_stoke"])
        )
        assert answer.status_code == 400, (bad, answer.text)
        assert "enquiry_id" in answer.text
