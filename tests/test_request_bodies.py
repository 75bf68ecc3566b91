"""Hostile JSON bodies on every operation of the spec that takes one: a body not sent as JSON
is 415, a body nested hundreds of thousands of levels deep or an empty one is 400 naming the
body (never a 500), and none stores anything. Uploads (CSV, xlsx, multipart) keep their own
types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.security_world import SCOPES, Operation, World, build_world, operations, own_path
from tracker.core.db import Database

DEPTH = 400_000
DEEP_BODIES = {  # each under the 1 MB body limit
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"a":' * (DEPTH // 3) + b"1" + b"}" * (DEPTH // 3),
    "inside a field": b'{"received_on":' + b"[" * DEPTH + b"]" * DEPTH + b"}",
}
NOT_JSON = {
    "text/plain": {"Content-Type": "text/plain"},
    "a form": {"Content-Type": "application/x-www-form-urlencoded"},
    "no content type": {},
}
PROBLEM = "application/problem+json"


@pytest.fixture
def world(authorities: Database) -> Iterator[World]:
    with build_world(authorities) as built:
        yield built


def _json_operations(world: World) -> list[tuple[Operation, str]]:
    spec = world.app.openapi_schema.to_schema()
    found = []
    for op in operations(world.app):
        if not op.has_body or op.public:
            continue
        content = spec["paths"][op.path][op.method]["requestBody"]["content"]
        if "application/json" in content:
            found.append((op, own_path(world, op.path)))
    return found


def _stored(world: World) -> dict[str, Any]:
    admin = world.headers["admin"]
    base = "/api/v1/authorities/" + SCOPES["own"]["code"]
    urls = [f"{base}/{kind}" for kind in ("enquiries", "households", "targets", "scenarios")]
    return {url: world.client.get(url, headers=admin).json() for url in [*urls, "/api/v1/tokens"]}


def _send(world: World, op: Operation, url: str, body: bytes, headers: dict[str, str]) -> Any:
    headers = world.headers["admin"] | headers
    if op.method in ("patch", "put"):
        headers["If-Match"] = '"1"'
    return world.client.request(op.method.upper(), url, content=body, headers=headers)


def test_a_deeply_nested_body_is_400_naming_the_body_on_every_json_route(world):
    routes = _json_operations(world)
    assert len(routes) >= 20, routes
    before = _stored(world)
    wrong = []
    for op, url in routes:
        for name, body in DEEP_BODIES.items():
            response = _send(world, op, url, body, {"Content-Type": "application/json"})
            problem = response.json() if response.status_code < 500 else {}
            if response.status_code != 400 or problem.get("field") != "body":
                wrong.append(f"{op} ({name}): {response.status_code} {response.text[:100]}")
            elif not response.headers["content-type"].startswith(PROBLEM):
                wrong.append(f"{op} ({name}): {response.headers['content-type']}")
    assert wrong == [], "\n".join(wrong)
    assert _stored(world) == before


def test_an_empty_body_is_400_naming_the_body_on_every_json_route(world):
    routes = _json_operations(world)
    before = _stored(world)
    wrong = []
    for op, url in routes:
        response = _send(world, op, url, b"", {"Content-Type": "application/json"})
        problem = response.json() if response.status_code < 500 else {}
        if (response.status_code, problem.get("field")) != (400, "body"):
            wrong.append(f"{op}: {response.status_code} {response.text[:100]}")
        elif problem["detail"] != "the request body is empty: send it as JSON":
            wrong.append(f"{op}: {problem['detail']}")
    assert wrong == [], "\n".join(wrong)
    assert _stored(world) == before


def test_a_body_not_sent_as_json_is_415_on_every_json_route(world):
    routes = _json_operations(world)
    before = _stored(world)
    wrong = []
    for op, url in routes:
        for name, headers in NOT_JSON.items():
            response = _send(world, op, url, b'{"note": "x"}', headers)
            if response.status_code != 415 or response.json().get("field") != "body":
                wrong.append(f"{op} ({name}): {response.status_code} {response.text[:100]}")
    assert wrong == [], "\n".join(wrong)
    assert _stored(world) == before


def test_json_with_a_charset_or_a_json_suffix_type_is_read(world):
    url = "/api/v1/authorities/" + SCOPES["own"]["code"] + "/enquiries"
    body = b'{"received_on": "2025-01-06", "channel": "phone"}'
    for media in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = world.client.post(
            url, content=body, headers=world.headers["admin"] | {"Content-Type": media}
        )
        assert response.status_code == 201, (media, response.text)


def test_the_spec_documents_415_on_json_routes_only(world):
    spec = world.app.openapi_schema.to_schema()
    json_routes = {(op.method, op.path) for op, _ in _json_operations(world)}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            documented = "415" in operation["responses"]
            assert documented == ((method, path) in json_routes), (method, path)
