"""The recruitment team's workflow over HTTP, on SQLite and PostgreSQL."""

from datetime import date, timedelta

from tests.conftest import COVENTRY, STOKE, bearer
from tracker.enquiries.timeliness import london_today

TODAY = london_today()
BASE = f"/api/v1/authorities/{STOKE}/enquiries"


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def log_enquiry(client, token, **fields):
    body = {"received_on": days_ago(300), "channel": "web_form", "enquirer_name": "Alex Example"}
    body.update(fields)
    response = client.post(BASE, json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


def move(client, token, enquiry_id, stage, on, **extra):
    return client.post(
        f"{BASE}/{enquiry_id}/stage",
        json={"stage": stage, "on": on, **extra},
        headers=bearer(token),
    )


def test_a_recruiter_logs_an_enquiry_and_follows_it_to_approval(client, tokens):
    token = tokens["recruiter_stoke"]
    enquiry = log_enquiry(
        client, token, campaign="Foster Care Fortnight", interests=["short_breaks"]
    )
    assert enquiry["stage"] == "enquiry" and enquiry["status"] == "open"
    path = [
        ("first_contact", 299),
        ("initial_visit", 280),
        ("application", 250),
        ("stage_1", 200),
        ("stage_2", 120),
        ("panel", 40),
        ("approved", 30),
    ]
    for stage, ago in path:
        response = move(client, token, enquiry["id"], stage, days_ago(ago), note=f"to {stage}")
        assert response.status_code == 200, response.text
    final = client.get(f"{BASE}/{enquiry['id']}", headers=bearer(token)).json()
    assert final["stage"] == "approved" and final["status"] == "approved"
    assert final["application_on"] == days_ago(250) and final["approved_on"] == days_ago(30)
    history = client.get(f"{BASE}/{enquiry['id']}/history", headers=bearer(token)).json()
    assert [h["action"] for h in history] == ["created"] + ["advanced"] * 7
    assert history[-1]["actor"].startswith("recruiter:recruiter_stoke")
    assert history[2]["note"] == "to initial_visit"


def test_closing_and_reopening(client, tokens):
    token = tokens["recruiter_stoke"]
    enquiry = log_enquiry(client, token)
    closed = client.post(
        f"{BASE}/{enquiry['id']}/close",
        json={"reason": "no_response", "on": days_ago(200)},
        headers=bearer(token),
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    refused = move(client, token, enquiry["id"], "first_contact", days_ago(100))
    assert refused.status_code == 409 and refused.json()["rule"] == "closed_enquiry"
    reopened = client.post(
        f"{BASE}/{enquiry['id']}/reopen", json={"note": "called back"}, headers=bearer(token)
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open" and reopened.json()["closure_reason"] is None
    assert move(client, token, enquiry["id"], "first_contact", days_ago(100)).status_code == 200


def test_rule_breaking_moves_are_refused_and_change_nothing(client, tokens):
    token = tokens["recruiter_stoke"]
    enquiry = log_enquiry(client, token)
    assert move(client, token, enquiry["id"], "initial_visit", days_ago(250)).status_code == 200
    cases = [
        ("first_contact", days_ago(200), 409, "forward_only"),
        ("approved", days_ago(200), 409, "application_required"),
        ("application", days_ago(260), 422, "date_before_previous_stage"),
        ("application", (TODAY + timedelta(days=1)).isoformat(), 422, "date_in_future"),
    ]
    before = client.get(f"{BASE}/{enquiry['id']}", headers=bearer(token)).json()
    for stage, on, status, rule in cases:
        response = move(client, token, enquiry["id"], stage, on)
        assert response.status_code == status, (stage, response.text)
        assert response.json()["rule"] == rule
        assert rule in response.json()["title"]
    after = client.get(f"{BASE}/{enquiry['id']}", headers=bearer(token)).json()
    assert after == before


def test_reopen_moves_back_and_clears_later_dates(client, tokens):
    token = tokens["manager_stoke"]
    enquiry = log_enquiry(client, token)
    for stage, ago in [("first_contact", 290), ("application", 200), ("stage_1", 150)]:
        assert move(client, token, enquiry["id"], stage, days_ago(ago)).status_code == 200
    never = client.post(
        f"{BASE}/{enquiry['id']}/reopen", json={"stage": "initial_visit"}, headers=bearer(token)
    )
    assert never.status_code == 409 and never.json()["rule"] == "stage_not_reached"
    back = client.post(
        f"{BASE}/{enquiry['id']}/reopen", json={"stage": "first_contact"}, headers=bearer(token)
    ).json()
    assert back["stage"] == "first_contact"
    assert back["application_on"] is None and back["stage_1_on"] is None


def test_a_stale_edit_is_refused_with_412(client, tokens):
    token = tokens["recruiter_stoke"]
    enquiry = log_enquiry(client, token)
    url = f"{BASE}/{enquiry['id']}"
    etag = client.get(url, headers=bearer(token)).headers["etag"]
    first = client.patch(
        url, json={"campaign": "Spring"}, headers={**bearer(token), "If-Match": etag}
    )
    assert first.status_code == 200 and first.json()["campaign"] == "Spring"
    stale = client.patch(
        url, json={"campaign": "Autumn"}, headers={**bearer(token), "If-Match": etag}
    )
    assert stale.status_code == 412
    missing = client.patch(url, json={"campaign": "Autumn"}, headers=bearer(token))
    assert missing.status_code == 428
    assert client.get(url, headers=bearer(token)).json()["campaign"] == "Spring"


def test_a_weak_if_match_never_matches_so_the_edit_is_refused_with_412(client, tokens):
    # If-Match compares entity tags strongly (RFC 9110 13.1.1): W/"1" is not "1".
    token = tokens["recruiter_stoke"]
    enquiry = log_enquiry(client, token, campaign="Spring")
    url = f"{BASE}/{enquiry['id']}"
    etag = client.get(url, headers=bearer(token)).headers["etag"]
    weak = client.patch(
        url, json={"campaign": "Autumn"}, headers={**bearer(token), "If-Match": f"W/{etag}"}
    )
    assert weak.status_code == 412, weak.text
    assert weak.json()["field"] == "If-Match" and "weak" in weak.json()["detail"]
    after = client.get(url, headers=bearer(token))
    assert after.json()["campaign"] == "Spring" and after.headers["etag"] == etag


def test_erasure_removes_personal_data_but_keeps_the_statistics(client, tokens):
    recruiter, manager = tokens["recruiter_stoke"], tokens["manager_stoke"]
    enquiry = log_enquiry(
        client,
        recruiter,
        email="alex@example.org",
        phone="07700 900123",
        postcode_district="ST4",
        ethnicity="white_british",
    )
    move(client, recruiter, enquiry["id"], "first_contact", days_ago(299), note="spoke to Alex")
    url = f"{BASE}/{enquiry['id']}"
    assert client.delete(f"{url}/personal-data", headers=bearer(recruiter)).status_code == 403
    erased = client.delete(f"{url}/personal-data", headers=bearer(manager))
    assert erased.status_code == 200
    record = erased.json()
    assert record["erased"] is True
    for field in ("enquirer_name", "email", "phone", "postcode_district", "ethnicity"):
        assert record[field] is None
    assert record["first_contact_on"] == days_ago(299) and record["received_on"] == days_ago(300)
    history = client.get(f"{url}/history", headers=bearer(manager)).text
    assert "Alex" not in history
    audit = client.get(
        "/api/v1/audit", params={"entity_id": str(enquiry["id"])}, headers=bearer(manager)
    ).json()
    assert "erase" in [a["action"] for a in audit]
    assert "Alex" not in str(audit) and "example.org" not in str(audit)


def test_overdue_lists_missed_first_contact_and_late_approval(client, tokens):
    token = tokens["recruiter_stoke"]
    late_contact = log_enquiry(client, token, received_on=days_ago(10))
    on_time = log_enquiry(client, token, received_on=TODAY.isoformat())
    slow = log_enquiry(client, token, received_on=days_ago(400))
    move(client, token, slow["id"], "application", days_ago(300))
    overdue = client.get(f"{BASE}/overdue", headers=bearer(token)).json()
    ids = {e["id"]: e["overdue"] for e in overdue["items"]}
    assert ids == {late_contact["id"]: ["first_contact"], slow["id"]: ["approval"]}
    assert on_time["id"] not in ids
    only_first = client.get(BASE, params={"overdue": "first_contact"}, headers=bearer(token)).json()
    assert [e["id"] for e in only_first["items"]] == [late_contact["id"]]


def test_list_filters_and_paginates(client, tokens):
    token = tokens["recruiter_stoke"]
    for n in range(7):
        log_enquiry(
            client,
            token,
            received_on=days_ago(100 + n),
            channel="phone" if n % 2 else "event",
            campaign="May" if n < 3 else None,
        )
    page = client.get(BASE, params={"limit": 3, "offset": 0}, headers=bearer(token)).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    assert page["items"][0]["received_on"] == days_ago(100)
    rest = client.get(BASE, params={"limit": 3, "offset": 6}, headers=bearer(token)).json()
    assert len(rest["items"]) == 1
    phones = client.get(BASE, params={"channel": "phone"}, headers=bearer(token)).json()
    assert phones["total"] == 3
    may = client.get(
        BASE, params={"campaign": "May", "received_from": days_ago(101)}, headers=bearer(token)
    ).json()
    assert may["total"] == 2


def test_an_enquiry_of_another_authority_is_not_found_through_mine(client, tokens):
    other = client.post(
        f"/api/v1/authorities/{COVENTRY}/enquiries",
        json={"received_on": days_ago(5), "channel": "phone"},
        headers=bearer(tokens["recruiter_coventry"]),
    ).json()
    response = client.get(f"{BASE}/{other['id']}", headers=bearer(tokens["recruiter_stoke"]))
    assert response.status_code == 404


def test_duplicate_external_ref_is_a_conflict(client, tokens):
    token = tokens["recruiter_stoke"]
    log_enquiry(client, token, external_ref="SHEET-1")
    response = client.post(
        BASE,
        json={"received_on": days_ago(3), "channel": "phone", "external_ref": "SHEET-1"},
        headers=bearer(token),
    )
    assert response.status_code == 409 and response.json()["field"] == "external_ref"


def test_received_date_cannot_be_in_the_future(client, tokens):
    response = client.post(
        BASE,
        json={"received_on": (TODAY + timedelta(days=2)).isoformat(), "channel": "phone"},
        headers=bearer(tokens["recruiter_stoke"]),
    )
    assert response.status_code == 422 and response.json()["field"] == "received_on"
    assert client.get(BASE, headers=bearer(tokens["recruiter_stoke"])).json()["total"] == 0


def test_a_malformed_email_or_postcode_is_refused_in_plain_words(client, tokens):
    body = {"received_on": days_ago(3), "channel": "phone", "email": "alex.example.org"}
    response = client.post(
        BASE, json=body | {"postcode_district": "ST"}, headers=bearer(tokens["recruiter_stoke"])
    )
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert errors[0]["field"] in ("email", "postcode_district")
    message = errors[0]["message"]
    assert "regex" not in message and message.startswith("must be ")
    assert ("an email address" in message) or ("the first half of a postcode" in message)
    assert client.get(BASE, headers=bearer(tokens["recruiter_stoke"])).json()["total"] == 0


def test_dates_are_iso_strings(client, tokens):
    enquiry = log_enquiry(client, tokens["recruiter_stoke"])
    assert date.fromisoformat(enquiry["first_contact_due"]) > date.fromisoformat(
        enquiry["received_on"]
    )
