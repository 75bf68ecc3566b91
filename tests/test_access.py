"""Roles and authorities: every caller gets exactly the access the table declares."""

import pytest

from tests.conftest import STOKE, bearer

ROLES = (
    "recruiter_stoke",
    "manager_stoke",
    "recruiter_coventry",
    "manager_stockton",
    "regional_wm",
    "regional_ne",
    "admin",
    "none",
    "bad",
    "revoked",
)

# (method, path, body) -> callers allowed; everyone else gets 403, and the anonymous,
# the unknown and the revoked token 401.
ENQUIRY = {"received_on": "2025-01-06", "channel": "phone"}
TABLE = [
    (
        "GET",
        f"/api/v1/authorities/{STOKE}/enquiries",
        None,
        {"recruiter_stoke", "manager_stoke", "admin"},
    ),
    (
        "POST",
        f"/api/v1/authorities/{STOKE}/enquiries",
        ENQUIRY,
        {"recruiter_stoke", "manager_stoke", "admin"},
    ),
    (
        "GET",
        f"/api/v1/authorities/{STOKE}/enquiries/overdue",
        None,
        {"recruiter_stoke", "manager_stoke", "admin"},
    ),
    (
        "GET",
        f"/api/v1/authorities/{STOKE}/enquiries/export",
        None,
        {"recruiter_stoke", "manager_stoke", "admin"},
    ),
    (
        "GET",
        f"/api/v1/authorities/{STOKE}/funnel",
        None,
        {"recruiter_stoke", "manager_stoke", "regional_wm", "admin"},
    ),
    (
        "GET",
        f"/api/v1/authorities/{STOKE}/funnel/monthly",
        None,
        {"recruiter_stoke", "manager_stoke", "regional_wm", "admin"},
    ),
    (
        "GET",
        f"/api/v1/authorities/{STOKE}",
        None,
        {"recruiter_stoke", "manager_stoke", "regional_wm", "admin"},
    ),
    (
        "PATCH",
        f"/api/v1/authorities/{STOKE}",
        {"annual_approvals_target": 33},
        {"manager_stoke", "admin"},
    ),
    (
        "POST",
        "/api/v1/authorities",
        {"code": "E06000021", "name": "Stoke-on-Trent", "region": "West Midlands"},
        {"admin"},
    ),
    ("GET", "/api/v1/tokens", None, {"admin"}),
    ("GET", "/api/v1/audit", None, {"manager_stoke", "manager_stockton", "admin"}),
]
UNAUTHENTICATED = {"none", "bad", "revoked"}


@pytest.fixture
def callers(client, tokens):
    admin = bearer(tokens["admin"])
    issued = client.post(
        "/api/v1/tokens",
        json={"role": "manager", "name": "leaver", "authority_code": STOKE},
        headers=admin,
    ).json()
    assert (
        client.delete(f"/api/v1/tokens/{issued['record']['id']}", headers=admin).status_code == 200
    )
    headers = {key: bearer(secret) for key, secret in tokens.items()}
    headers |= {
        "none": {},
        "bad": bearer("fost_not-a-real-token"),
        "revoked": bearer(issued["secret"]),
    }
    return headers


def test_every_route_answers_each_caller_as_the_table_declares(client, callers):
    mismatches = []
    for method, path, body, allowed in TABLE:
        for role in ROLES:
            response = client.request(method, path, json=body, headers=callers[role])
            expected = "ok" if role in allowed else (401 if role in UNAUTHENTICATED else 403)
            outcome = "ok" if response.status_code < 300 else response.status_code
            if outcome != expected:
                mismatches.append((method, path, role, expected, response.status_code))
    assert mismatches == []


def test_a_regional_token_cannot_read_an_enquiry(client, tokens):
    created = client.post(
        f"/api/v1/authorities/{STOKE}/enquiries",
        json=ENQUIRY,
        headers=bearer(tokens["recruiter_stoke"]),
    ).json()
    response = client.get(
        f"/api/v1/authorities/{STOKE}/enquiries/{created['id']}",
        headers=bearer(tokens["regional_wm"]),
    )
    assert response.status_code == 403


def test_regional_tokens_list_only_their_region(client, tokens):
    listed = client.get("/api/v1/authorities", headers=bearer(tokens["regional_ne"])).json()
    assert [a["name"] for a in listed] == ["Stockton-on-Tees"]
    mine = client.get("/api/v1/authorities", headers=bearer(tokens["manager_stoke"])).json()
    assert [a["code"] for a in mine] == [STOKE]


def test_token_secrets_are_stored_only_as_digests(client, tokens, db):
    from sqlalchemy import text

    with db.engine.connect() as conn:
        stored = " ".join(str(row) for row in conn.execute(text("SELECT * FROM api_token")))
    assert all(secret not in stored for secret in tokens.values())


def test_an_unknown_authority_is_404(client, tokens):
    response = client.get(
        "/api/v1/authorities/E06999999/enquiries", headers=bearer(tokens["admin"])
    )
    assert response.status_code == 404


def test_a_regional_token_takes_the_region_as_the_authorities_spell_it(client, tokens):
    admin = bearer(tokens["admin"])
    issued = client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"role": "regional", "name": "hub", "region": "west midlands"},
    )
    assert issued.status_code == 201 and issued.json()["record"]["region"] == "West Midlands"
    unknown = client.post(
        "/api/v1/tokens",
        headers=admin,
        json={"role": "regional", "name": "hub", "region": "Atlantis"},
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "region"


@pytest.mark.parametrize("hub_id", [2**31, 2**63, 0])
def test_a_hub_id_no_record_can_have_is_400_naming_it(client, tokens, hub_id):
    admin = bearer(tokens["admin"])
    before = client.get("/api/v1/tokens", headers=admin).json()
    response = client.post(
        "/api/v1/tokens", headers=admin, json={"role": "hub", "name": "x", "hub_id": hub_id}
    )
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["hub_id"]
    assert client.get("/api/v1/tokens", headers=admin).json() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "admin", "authority_code": STOKE}, "authority_code"),
        ({"role": "admin", "region": "West Midlands"}, "region"),
        ({"role": "recruiter", "authority_code": STOKE, "region": "West Midlands"}, "region"),
        ({"role": "manager", "authority_code": STOKE, "hub_id": 1}, "hub_id"),
        ({"role": "regional", "region": "West Midlands", "hub_id": 1}, "hub_id"),
        ({"role": "hub", "hub_id": 1, "authority_code": STOKE}, "authority_code"),
        ({"role": "hub", "hub_id": 1, "region": "West Midlands"}, "region"),
    ],
)
def test_a_scope_the_role_does_not_take_is_refused_naming_it_not_dropped(
    client, tokens, body, field
):
    admin = bearer(tokens["admin"])
    before = client.get("/api/v1/tokens", headers=admin).json()
    response = client.post("/api/v1/tokens", headers=admin, json={"name": "x", **body})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert (problem["rule"], problem["field"]) == ("not_for_role", field)
    assert field in problem["detail"]
    assert client.get("/api/v1/tokens", headers=admin).json() == before
