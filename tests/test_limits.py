"""Limits and browser-facing defaults (OWASP API4 resource consumption, API8 misconfiguration):
body size, page size, failed authentications per client, CORS closed, security headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.params import MAX_PAGE
from api.rate_limit import FailedAuthLimiter
from tests.conftest import STOKE, bearer
from tracker.core.db import Database
from tracker.core.settings import Settings

ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"
PROBLEM = "application/problem+json"


def _client(database: Database, **settings: object) -> TestClient:
    values: dict[str, object] = {"database_url": database.url, "scheduler_enabled": False}
    values.update(settings)
    return TestClient(create_app(Settings(**values), database))  # type: ignore[arg-type]


@pytest.fixture
def small(authorities: Database) -> Iterator[TestClient]:
    """The app with small limits: 2,000-byte bodies, 3 failed authentications a minute."""
    with _client(authorities, max_body_bytes=2_000, auth_failures_per_minute=3) as client:
        yield client


# --- request body size ---------------------------------------------------------------------


def _count(client: TestClient, token: str) -> int:
    return client.get(ENQUIRIES, headers=bearer(token)).json()["total"]


def test_a_body_over_the_limit_is_413_problem_and_stores_nothing(small, tokens):
    token = tokens["recruiter_stoke"]
    body = {"received_on": "2025-01-06", "channel": "phone", "notes": "x" * 3_000}
    response = small.post(ENQUIRIES, content=json.dumps(body), headers=bearer(token))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 413
    assert _count(small, token) == 0
    fits = small.post(
        ENQUIRIES, json={"received_on": "2025-01-06", "channel": "phone"}, headers=bearer(token)
    )
    assert fits.status_code == 201


def test_the_body_limit_is_read_from_the_environment():
    settings = Settings.from_env({"FOSTERING_MAX_BODY_BYTES": "2000"})
    assert settings.max_body_bytes == 2000


def test_a_body_sent_without_a_length_is_cut_off_at_the_limit(small, tokens):
    def chunks() -> Iterator[bytes]:
        yield b'{"received_on": "2025-01-06", "channel": "phone", "notes": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    response = small.post(ENQUIRIES, content=chunks(), headers=bearer(tokens["recruiter_stoke"]))
    assert response.status_code == 413


# --- page size -----------------------------------------------------------------------------


def _paged_routes(client: TestClient) -> list[tuple[str, int]]:
    """Every GET operation with a `limit` query parameter, and the maximum it declares."""
    spec = client.get("/schema/openapi.json").json()
    found = []
    for path, item in spec["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["name"] == "limit" and parameter["in"] == "query":
                schema = parameter["schema"]
                options = schema.get("oneOf", [schema])
                maxima = [o["maximum"] for o in options if "maximum" in o]
                found.append((path, min(maxima) if maxima else -1))
    return found


def test_every_paged_route_caps_its_page_size(client, tokens):
    paged = _paged_routes(client)
    assert len(paged) >= 2, paged
    assert [p for p, most in paged if not 0 < most <= MAX_PAGE] == []
    admin = bearer(tokens["admin"])
    hub = client.post("/api/v1/hubs", json={"name": "A hub", "members": [STOKE]}, headers=admin)
    assert hub.status_code == 201, hub.text
    for path, most in paged:
        url = path.replace("{code}", STOKE).replace("{hub_id}", str(hub.json()["id"]))
        too_many = client.get(url, params={"limit": most + 1}, headers=admin)
        assert too_many.status_code == 400, (path, too_many.text)
        assert too_many.headers["content-type"].startswith(PROBLEM)
        assert "limit" in too_many.json()["detail"]
        assert [e["field"] for e in too_many.json()["errors"]] == ["limit"]
        assert client.get(url, params={"limit": most}, headers=admin).status_code == 200


# --- failed authentications ----------------------------------------------------------------


def test_failed_authentications_past_the_limit_get_429_with_retry_after(small):
    for _ in range(3):
        assert small.get(ENQUIRIES, headers=bearer("fost_wrong")).status_code == 401
    refused = small.get(ENQUIRIES, headers=bearer("fost_wrong"))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    malformed = small.get(ENQUIRIES, headers={"Authorization": "Basic eDp5"})
    assert malformed.status_code == 429
    # Public routes take no credential and stay open.
    assert small.get("/health").status_code == 200


def test_a_valid_token_is_never_blocked_by_failures_from_its_address(small, tokens):
    """A whole office behind one NAT address: one stale script's failures must not lock out
    colleagues who present valid tokens."""
    for _ in range(10):
        small.get(ENQUIRIES, headers=bearer("fost_stale-token"))
    assert small.get(ENQUIRIES, headers=bearer("fost_stale-token")).status_code == 429
    for name in ("manager_stoke", "recruiter_stoke"):
        assert small.get(ENQUIRIES, headers=bearer(tokens[name])).status_code == 200


def test_successes_and_anonymous_requests_are_not_counted(small, tokens):
    good = bearer(tokens["manager_stoke"])
    for _ in range(20):
        assert small.get(ENQUIRIES, headers=good).status_code == 200
        assert small.get(ENQUIRIES).status_code == 401
    for _ in range(2):
        assert small.get(ENQUIRIES, headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert small.get(ENQUIRIES, headers=good).status_code == 200


def test_the_limit_resets_after_a_minute_and_counts_each_client_apart(small, tokens):
    now = [1000.0]
    limiter = FailedAuthLimiter(3, clock=lambda: now[0])
    small.app.state.auth_limiter = limiter
    for _ in range(3):
        small.get(ENQUIRIES, headers=bearer("fost_wrong"))
    assert small.get(ENQUIRIES, headers=bearer("fost_wrong")).status_code == 429
    assert limiter.retry_after("testclient") == 60
    assert limiter.retry_after("192.0.2.7") is None  # another address is not held back
    now[0] += 30
    retry = small.get(ENQUIRIES, headers=bearer("fost_wrong"))
    assert retry.status_code == 429
    assert retry.headers["retry-after"] == "30"
    now[0] += 30.5
    assert small.get(ENQUIRIES, headers=bearer("fost_wrong")).status_code == 401


def test_the_limiter_forgets_the_least_recent_clients_past_its_size():
    limiter = FailedAuthLimiter(1, max_clients=100)
    for n in range(1_000):
        limiter.record_failure(f"198.51.100.{n}")
    assert len(limiter._failures) == 100
    assert limiter.retry_after("198.51.100.999") is not None
    assert limiter.retry_after("198.51.100.0") is None


def test_a_limit_of_zero_turns_the_limiter_off():
    limiter = FailedAuthLimiter(0)
    for _ in range(100):
        limiter.record_failure("203.0.113.1")
    assert limiter.retry_after("203.0.113.1") is None


# --- requests per token ------------------------------------------------------------------


def test_a_token_past_its_requests_per_minute_gets_429_and_others_go_on(authorities, tokens):
    with _client(authorities, requests_per_minute=5) as client:
        manager = bearer(tokens["manager_stoke"])
        answers = [client.get(ENQUIRIES, headers=manager) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert answers[-1].headers["ratelimit-remaining"] == "0"
        refused = client.get(ENQUIRIES, headers=manager)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert 1 <= int(refused.headers["ratelimit-reset"]) <= 60
        # Another token (even of the same authority and address) has its own allowance.
        assert client.get(ENQUIRIES, headers=bearer(tokens["recruiter_stoke"])).status_code == 200
        # Public routes are not counted.
        for _ in range(10):
            assert client.get("/health").status_code == 200


def test_expensive_routes_have_a_smaller_allowance_of_their_own(authorities, tokens):
    with _client(authorities, expensive_requests_per_minute=2) as client:
        manager = bearer(tokens["manager_stoke"])
        # Ordinary requests do not count against the expensive allowance.
        for _ in range(3):
            assert client.get(ENQUIRIES, headers=manager).status_code == 200
        exports = [client.get(f"{ENQUIRIES}/export", headers=manager) for _ in range(3)]
        assert [e.status_code for e in exports] == [200, 200, 429]
        regional = client.get("/api/v1/regions/West Midlands/capacity", headers=manager)
        assert regional.status_code == 429
        assert client.get(ENQUIRIES, headers=manager).status_code == 200


def test_the_request_limits_are_read_from_the_environment():
    settings = Settings.from_env(
        {"FOSTERING_REQUESTS_PER_MINUTE": "120", "FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE": "0"}
    )
    assert (settings.requests_per_minute, settings.expensive_requests_per_minute) == (120, 0)


# --- CORS ----------------------------------------------------------------------------------


def test_cors_is_closed_by_default(client, tokens):
    evil = {"Origin": "https://evil.example"}
    read = client.get(ENQUIRIES, headers=bearer(tokens["admin"]) | evil)
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers
    preflight = client.options(
        ENQUIRIES,
        headers=evil
        | {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-headers" not in preflight.headers


def test_configured_origins_alone_are_allowed(authorities, tokens):
    with _client(authorities, cors_origins=("https://hub.example",)) as client:
        asked = {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        }
        ok = client.options(ENQUIRIES, headers={"Origin": "https://hub.example"} | asked)
        assert ok.status_code in (200, 204)
        assert ok.headers["access-control-allow-origin"] == "https://hub.example"
        refused = client.options(ENQUIRIES, headers={"Origin": "https://evil.example"} | asked)
        assert refused.status_code >= 400
        assert "access-control-allow-origin" not in refused.headers
        read = client.get(
            ENQUIRIES, headers=bearer(tokens["admin"]) | {"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in read.headers
    assert Settings.from_env({"FOSTERING_CORS_ORIGINS": "https://a.example, https://b.example"})
    assert Settings.from_env({"FOSTERING_CORS_ORIGINS": "https://a.example,"}).cors_origins == (
        "https://a.example",
    )


# --- security headers ----------------------------------------------------------------------


def _assert_api_headers(response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_api_responses_carry_security_headers_and_are_not_cached(client, tokens):
    admin = bearer(tokens["admin"])
    responses = {
        "ok": client.get(ENQUIRIES, headers=admin),
        "created": client.post(
            ENQUIRIES, json={"received_on": "2025-01-06", "channel": "phone"}, headers=admin
        ),
        "invalid": client.get(ENQUIRIES, params={"limit": 0}, headers=admin),
        "unauthenticated": client.get(ENQUIRIES),
        "forbidden": client.get("/api/v1/tokens", headers=bearer(tokens["recruiter_stoke"])),
        "no such route": client.get("/api/v1/nowhere", headers=admin),
        "export": client.get(f"{ENQUIRIES}/export", headers=admin),
    }
    for name, response in responses.items():
        _assert_api_headers(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'"), name
        assert response.headers["cache-control"] == "no-store", name
    # A route that sets its own caching keeps it (the regional API is polled with ETags).
    regional = client.get("/api/v1/regions/West Midlands/capacity", headers=admin)
    assert regional.status_code == 200
    assert regional.headers["cache-control"] == "private, no-cache"
    _assert_api_headers(regional)
    # HTTPS answers add HSTS.
    with TestClient(client.app, base_url="https://testserver.local") as secure:
        assert secure.get("/health").headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in client.get("/health").headers


def test_the_api_docs_page_may_not_be_framed(client):
    page = client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert page.headers["x-frame-options"] == "DENY"


def test_dashboard_pages_keep_their_own_policy(client):
    page = client.get("/dashboard/sign-in")
    if page.status_code == 404:
        pytest.skip("no dashboard in this build")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy
    assert not re.search(r"script-src[^;]*'unsafe-inline'", policy)
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
