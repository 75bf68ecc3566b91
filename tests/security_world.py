"""A populated installation for the security tests: the app, a token per kind of caller, and
objects of Stoke-on-Trent (the callers' own authority) and of Coventry (another one)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import MetaData, select

from api.app import create_app
from demo.plans import appendix1_inputs
from jobs.forecast_refresh import claim, forecast_options
from tests.conftest import COVENTRY, STOKE, bearer
from tracker.core.access import SYSTEM, Role, issue_token, revoke_token
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.forecasting.tables import Trigger
from tracker.hubs.schemas import NewHub
from tracker.hubs.service import create_hub

METHODS = ("get", "post", "put", "patch", "delete")
UNAUTHENTICATED = ("none", "malformed", "unknown", "revoked")
# name: (role, own authority, own region)
TOKENS: dict[str, tuple[Role, str | None, str | None]] = {
    "recruiter_stoke": (Role.RECRUITER, STOKE, "West Midlands"),
    "manager_stoke": (Role.MANAGER, STOKE, "West Midlands"),
    "regional_wm": (Role.REGIONAL, None, "West Midlands"),
    "regional_ne": (Role.REGIONAL, None, "North East"),
    "hub_wm": (Role.HUB, None, None),
    "admin": (Role.ADMIN, None, None),
}
CALLERS = UNAUTHENTICATED + tuple(TOKENS)
# The authority and region a path names, for each scope the tests try.
SCOPES = {
    "own": {"code": STOKE, "region": "West Midlands"},
    "other": {"code": COVENTRY, "region": "North East"},
}


TARGET = {
    "metric": "supported_lodgings_hosts",
    "kind": "level_by_date",
    "name": "More hosts",
    "baseline_date": "2023-03-31",
    "baseline_value": 29,
    "target_value": 44,
    "target_date": "2026-03-31",
}
SCENARIO = msgspec.to_builtins(appendix1_inputs(-2.0))


@dataclass(frozen=True)
class Operation:
    """One path and method of the spec, with the access kind its handler declares."""

    method: str
    path: str
    kind: str | None
    public: bool
    has_body: bool

    @property
    def params(self) -> list[str]:
        return re.findall(r"{([^}]+)}", self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _handlers(app: Litestar) -> dict[tuple[str, str], Any]:
    """Each (method, path as the spec writes it) and its route handler."""
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        for method, entry in getattr(route, "route_handler_map", {}).items():
            handler = entry[0] if isinstance(entry, tuple) else entry
            found[(method.lower(), route.path_format)] = handler
    return found


def operations(app: Litestar) -> list[Operation]:
    """Every operation of the app's OpenAPI spec."""
    spec = app.openapi_schema.to_schema()
    handlers = _handlers(app)
    ops = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            handler = handlers[(method, path)]
            ops.append(
                Operation(
                    method=method,
                    path=path,
                    kind=handler.opt.get("access"),
                    public=bool(handler.opt.get("public")),
                    has_body="requestBody" in item[method],
                )
            )
    return ops


@dataclass
class World:
    """The running app and what the tests need to address it."""

    client: TestClient
    app: Litestar
    database: Database
    settings: Settings
    headers: dict[str, dict[str, str]]
    ids: dict[str, dict[str, int]]


def make_objects(client: TestClient, admin: dict[str, str], code: str) -> dict[str, int]:
    """An enquiry, a household with a placement and an unavailable place, in `code`."""
    base = f"/api/v1/authorities/{code}"
    enquiry = client.post(
        f"{base}/enquiries",
        json={"received_on": "2025-01-06", "channel": "phone", "enquirer_name": "Walk Test"},
        headers=admin,
    )
    assert enquiry.status_code == 201, enquiry.text
    household = client.post(
        f"{base}/households",
        json={
            "reference": f"H-{code}",
            "care_type": "in_house",
            "approved_places": 3,
            "approved_on": "2024-01-10",
        },
        headers=admin,
    )
    assert household.status_code == 201, household.text
    hid = household.json()["id"]
    placement = client.post(
        f"{base}/households/{hid}/placements",
        json={"child_ref": f"C-{code}", "start_on": "2024-02-01"},
        headers=admin,
    )
    assert placement.status_code == 201, placement.text
    unavailable = client.post(
        f"{base}/households/{hid}/unavailability",
        json={"places": 1, "reason": "carer_circumstances", "start_on": "2025-06-01"},
        headers=admin,
    )
    assert unavailable.status_code == 201, unavailable.text
    target = client.post(f"{base}/targets", json=TARGET, headers=admin)
    assert target.status_code == 201, target.text
    scenario = client.post(f"{base}/scenarios", json=SCENARIO, headers=admin)
    assert scenario.status_code == 201, scenario.text
    return {
        "target_id": target.json()["id"],
        "scenario_id": scenario.json()["id"],
        "enquiry_id": enquiry.json()["id"],
        "household_id": hid,
        "placement_id": placement.json()["id"],
        "unavailability_id": unavailable.json()["id"],
    }


@contextlib.contextmanager
def build_world(authorities: Database, **settings: Any) -> Iterator[World]:
    """The app (the failed-authentication and per-token limits out of the way unless given:
    these tests fail authentication hundreds of times and send hundreds of requests a token),
    tokens, and objects of both authorities. A forecast run is claimed (never executed) for
    each, so starting another answers 409 and starts no work."""
    values: dict[str, Any] = {
        "database_url": authorities.url,
        "scheduler_enabled": False,
        "auth_failures_per_minute": 1_000_000,
        "requests_per_minute": 0,
        "expensive_requests_per_minute": 0,
        "forecast_executor": "serial",
        "forecast_models": ("seasonal_naive",),
        # The key of contact hashes and pseudonyms (none is written to the working directory).
        "pseudonym_key": "security-world-key",
    }
    values.update(settings)
    config = Settings(**values)
    secrets: dict[str, str] = {}
    with authorities.writing() as session:
        # The hub tokens' own hub: over both authorities of the tests.
        hub = create_hub(session, SYSTEM, NewHub(name="West Midlands", members=[STOKE, COVENTRY]))
        for name, (role, code, region) in TOKENS.items():
            issued = issue_token(
                session,
                role=role,
                name=name,
                authority_code=code if role is not Role.REGIONAL else None,
                region=region if role is Role.REGIONAL else None,
                hub_id=hub.id if role is Role.HUB else None,
            )
            secrets[name] = issued.secret
        revoked = issue_token(session, role=Role.MANAGER, name="leaver", authority_code=STOKE)
        assert revoked.record.id is not None
        revoke_token(session, revoked.record.id)
        spare = issue_token(session, role=Role.RECRUITER, name="spare", authority_code=STOKE)
    headers = {name: bearer(secret) for name, secret in secrets.items()}
    headers |= {
        "none": {},
        "malformed": {"Authorization": "Basic d2Fsazp0ZXN0"},
        "unknown": bearer("fost_" + "this-token-was-never-issued-" + "0" * 12),
        "revoked": bearer(revoked.secret),
    }
    app = create_app(config, authorities)
    with TestClient(app) as client:
        ids: dict[str, dict[str, int]] = {}
        for scope, names in SCOPES.items():
            ids[scope] = make_objects(client, headers["admin"], names["code"])
            ids[scope]["run_id"] = claim(
                authorities,
                names["code"],
                trigger=Trigger.API,
                triggered_by="security-tests",
                options=forecast_options(config),
                today=date(2026, 1, 15),
            )
            ids[scope]["token_id"] = spare.record.id
            assert hub.id is not None
            ids[scope]["hub_id"] = hub.id
        yield World(client, app, authorities, config, headers, ids)


def own_path(world: World, path: str) -> str:
    """A path of the spec with the callers' own authority, region and objects filled in."""
    known = SCOPES["own"] | {name: str(value) for name, value in world.ids["own"].items()}
    return re.sub(r"{([^}]+)}", lambda match: known[match.group(1)], path)


def stored_values(database: Database) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every table the database holds."""
    reflected = MetaData()
    reflected.reflect(database.engine)
    with database.engine.connect() as conn:
        for table in reflected.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    yield table.name, str(column), text
