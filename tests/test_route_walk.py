"""Every route of the OpenAPI spec, walked with every kind of caller (OWASP API1, API2, API5).

For each operation the test sends no token, a malformed header, an unknown token, a revoked
token and a token of each role, for the caller's own authority (Stoke-on-Trent) and another
(Coventry, same region), and compares the outcome with what `api.access.ACCESS` declares plus
the scope rules: 401 for no valid token, 403 for a role the table refuses or an authority (or
region) out of reach, and anything but 401/403/5xx where the caller is allowed (validation
errors on an empty body are fine: this tests authorisation, not input).

A route added without an access kind, or with a kind the table does not know, fails the test.
A second test sends each authority route with an object id of another authority (object-level
authorisation, API1): never 2xx, and the other authority's object stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.access import ACCESS, AGGREGATE
from tests.conftest import COVENTRY, STOKE
from tests.security_world import (
    CALLERS,
    SCENARIO,
    SCOPES,
    TARGET,
    TOKENS,
    UNAUTHENTICATED,
    Operation,
    World,
    build_world,
    operations,
)
from tracker.core.access import Role
from tracker.core.db import Database

REGION_OF = {STOKE: "West Midlands", COVENTRY: "West Midlands"}
# Kinds that carry personal data must never be aggregate (open to regional tokens).
PERSONAL_KINDS = {"enquiries.read", "enquiries.write", "enquiries.erase", "households.read"}
UNKNOWN_ID = 2_000_000_000


def expected(op: Operation, caller: str, scope: str) -> str:
    """'401', '403' or 'allowed', from ACCESS, AGGREGATE and the scope rules (written out here
    independently of `api.access.may_reach_authority`)."""
    if op.public:
        return "allowed"
    if caller in UNAUTHENTICATED:
        return "401"
    role, own_code, own_region = TOKENS[caller]
    assert op.kind is not None
    if role not in ACCESS[op.kind]:
        return "403"
    if role is Role.ADMIN:
        return "allowed"
    if role is Role.HUB:
        # Hub tokens reach their own hub's routes only (the world's one hub is their own).
        return "allowed" if "{hub_id}" in op.path or op.path == "/api/v1/hubs" else "403"
    names = SCOPES[scope]
    if "{code}" in op.path:
        code = names["code"]
        if role is Role.REGIONAL:
            ok = op.kind in AGGREGATE and REGION_OF[code] == own_region
        else:
            ok = code == own_code
        return "allowed" if ok else "403"
    if "{region}" in op.path:
        # Regional tokens of the region, and managers of an authority in it (their own only).
        return "allowed" if names["region"] == own_region else "403"
    return "allowed"


def outcome(status: int) -> str:
    if status in (401, 403):
        return str(status)
    if status >= 500:
        return f"{status} (server error)"
    return "allowed"


@pytest.fixture
def world(authorities: Database) -> Iterator[World]:
    with build_world(authorities) as built:
        yield built


def _path(op: Operation, scope: str, ids: dict[str, int]) -> str:
    names = SCOPES[scope]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in names:
            return names[name]
        if name in ids:
            return str(ids[name])
        # A parameter this test does not know yet (a new route): an id nothing has, or a word.
        return str(UNKNOWN_ID) if name.endswith("id") else "unknown"

    return re.sub(r"{([^}]+)}", value, op.path)


def _send(world: World, op: Operation, path: str, caller: str, body: Any = None) -> Any:
    payload = body if body is not None else ({} if op.has_body else None)
    headers = dict(world.headers[caller])
    if op.method in ("patch", "put"):
        # The version of a fresh object: a check of another authority's object must not pass
        # for want of a matching version.
        headers["If-Match"] = '"1"'
    return world.client.request(op.method.upper(), path, json=payload, headers=headers)


def test_every_operation_declares_a_known_access_kind(world):
    ops = operations(world.app)
    assert len(ops) > 40, "the walk found too few operations: is the spec loaded?"
    undeclared = [str(op) for op in ops if not op.public and op.kind is None]
    unknown = [f"{op} ({op.kind})" for op in ops if op.kind is not None and op.kind not in ACCESS]
    assert undeclared == [], "routes without opt={'access': ...}"
    assert unknown == [], "access kinds missing from api.access.ACCESS"
    public = sorted(str(op) for op in ops if op.public)
    assert public == ["GET /health"], public


def test_every_route_outside_the_spec_declares_a_known_access_kind_too(world):
    """Routes the spec leaves out (the dashboard's pages, the docs, static files) as well."""
    problems = []
    for route in world.app.routes:
        for handler in getattr(route, "route_handlers", []):
            methods = set(getattr(handler, "http_methods", ())) - {"OPTIONS", "HEAD"}
            if not methods or handler.opt.get("public"):
                continue
            kind = handler.opt.get("access")
            if kind not in ACCESS:
                problems.append(f"{sorted(methods)} {route.path}: {kind!r}")
    assert problems == []


def test_aggregate_kinds_carry_no_personal_data_and_are_read_only():
    assert set(ACCESS) >= AGGREGATE
    assert not AGGREGATE & PERSONAL_KINDS
    assert all(kind.endswith(".read") for kind in AGGREGATE)
    # Regional tokens reach exactly the aggregate kinds, and dashboard pages (HTML, not in the
    # spec) that scope themselves to the token's region (api/dashboard/scope.py).
    regional = {k for k, roles in ACCESS.items() if Role.REGIONAL in roles}
    assert {k for k in regional if not k.startswith("dashboard.")} == set(AGGREGATE)


def test_every_route_answers_every_caller_as_the_access_table_declares(world):
    mismatches = []
    count = 0
    for op in operations(world.app):
        scopes = ("own", "other") if ("{code}" in op.path or "{region}" in op.path) else ("own",)
        for scope in scopes:
            path = _path(op, scope, world.ids[scope])
            for caller in CALLERS:
                response = _send(world, op, path, caller)
                count += 1
                want, got = expected(op, caller, scope), outcome(response.status_code)
                if want != got:
                    mismatches.append(
                        f"{op} [{scope}] as {caller}: expected {want}, got "
                        f"{response.status_code} {response.text[:120]}"
                    )
                if response.status_code in (401, 403):
                    assert response.headers["content-type"].startswith("application/problem+json")
    assert count > 500
    assert mismatches == [], "\n".join(mismatches)


# Valid bodies for the routes that change an object, so the object check reaches the lookup.
BODIES = {
    ("patch", "enquiries/{enquiry_id}"): {"enquirer_name": "Changed"},
    ("post", "enquiries/{enquiry_id}/stage"): {"stage": "first_contact", "on": "2025-01-07"},
    ("post", "enquiries/{enquiry_id}/close"): {"reason": "no_response", "on": "2025-01-07"},
    ("post", "enquiries/{enquiry_id}/reopen"): {"note": "back"},
    ("post", "handovers/{enquiry_id}/decline"): {"reason": "out_of_area"},
    ("patch", "households/{household_id}"): {"reference": "CHANGED"},
    ("post", "households/{household_id}/changes"): {
        "effective_on": "2025-09-01",
        "status": "on_hold",
    },
    ("post", "households/{household_id}/placements"): {
        "child_ref": "C-CROSS",
        "start_on": "2025-02-01",
    },
    ("post", "households/{household_id}/unavailability"): {
        "places": 1,
        "reason": "carer_circumstances",
        "start_on": "2025-07-01",
    },
    ("post", "placements/{placement_id}/end"): {"end_on": "2025-03-01"},
    ("post", "unavailability/{unavailability_id}/end"): {"end_on": "2025-08-01"},
    ("put", "targets/{target_id}"): TARGET,
    ("put", "scenarios/{scenario_id}"): SCENARIO,
}


def _snapshot(world: World) -> dict[str, Any]:
    """Everything of Coventry the admin can read, to show that nothing changed."""
    admin, ids = world.headers["admin"], world.ids["other"]
    base = f"/api/v1/authorities/{COVENTRY}"
    urls = [
        f"{base}/enquiries/{ids['enquiry_id']}",
        f"{base}/enquiries/{ids['enquiry_id']}/history",
        f"{base}/households/{ids['household_id']}",
        f"{base}/households/{ids['household_id']}/history",
        f"{base}/households/{ids['household_id']}/placements",
        f"{base}/forecasts/runs/{ids['run_id']}",
        f"{base}/targets/{ids['target_id']}",
        f"{base}/scenarios/{ids['scenario_id']}",
    ]
    return {url: world.client.get(url, headers=admin).json() for url in urls}


def test_an_object_of_another_authority_is_not_found_through_ones_own(world):
    """Own authority in the path, another authority's object id: 404, and nothing changes."""
    before = _snapshot(world)
    leaks = []
    checked = 0
    for op in operations(world.app):
        id_params = [p for p in op.params if p.endswith("_id") and p != "token_id"]
        if "{code}" not in op.path or not id_params:
            continue
        path = _path(op, "own", world.ids["other"]).replace(COVENTRY, STOKE)
        suffix = op.path.split("{code}/", 1)[1]
        body = BODIES.get((op.method, suffix))
        for caller in ("manager_stoke", "admin"):
            if expected(op, caller, "own") != "allowed":
                continue
            response = _send(world, op, path, caller, body)
            checked += 1
            known = any(p in world.ids["other"] for p in id_params)
            if response.status_code < 300 or (known and response.status_code != 404):
                leaks.append(f"{op} as {caller}: {response.status_code} {response.text[:120]}")
    assert checked >= 20
    assert leaks == [], "\n".join(leaks)
    assert _snapshot(world) == before
