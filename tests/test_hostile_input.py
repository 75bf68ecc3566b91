"""Hostile values in every JSON body and every dashboard form: a 4xx, never a 500.

The first test builds a valid body for each operation of the OpenAPI spec that takes JSON
(from its schema: the first choice of each union, one item of each list) and sends it again
and again with one field at a time, at any depth, replaced by a value a client should never
send: integers past what either database holds, a NUL character, a float past the largest,
an impossible date, the wrong shape. The second signs in to the dashboard as a recruiter and
a manager and posts each form of their pages with one field at a time replaced the same way
(a date's day of 2147483648, a number of 1e309). Both run on SQLite and PostgreSQL; each
found a 500 before (a household's `enquiry_id` of 2^70, a form's day of 2147483648).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from api.access import ACCESS
from tests.security_world import World, build_world, operations, own_path
from tests.test_dashboard import sign_in
from tracker.core.db import Database

HOSTILE_VALUES: tuple[Any, ...] = (
    2**70,
    -(2**70),
    2**31,
    1e308,
    "\x00",
    "2025-02-30",
    [],
    {},
)
HOSTILE_TEXT = ("2147483648", "1e309", "nan", "\x00", "a" * 5_000)
# Who sends each kind of route's body: the first of these its access kind allows.
SENDERS = ("admin", "manager_stoke", "recruiter_stoke", "hub_wm", "regional_wm")
ROLE_OF = {
    "admin": "admin",
    "manager_stoke": "manager",
    "recruiter_stoke": "recruiter",
    "hub_wm": "hub",
    "regional_wm": "regional",
}


@pytest.fixture
def world(authorities: Database) -> Iterator[World]:
    with build_world(authorities) as built:
        yield built


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A value of `schema`: the first non-null choice, one list item, fields filled."""
    schema = _resolve(spec, schema)
    choices = schema.get("oneOf") or schema.get("anyOf")
    if choices:
        kept = [c for c in choices if _resolve(spec, c).get("type") != "null"]
        return _sample(spec, kept[0], depth) if kept else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        fields = schema.get("properties", {}) if depth < 4 else {}
        return {name: _sample(spec, field, depth + 1) for name, field in fields.items()}
    if kind == "array":
        return [_sample(spec, schema.get("items", {}), depth + 1)] if depth < 4 else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {"date": "2025-06-01", "date-time": "2025-06-01T10:00:00Z"}.get(
        schema.get("format", ""), "x"
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in `value` a field or item sits, outermost first."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, inner in items:
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))


def _replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    holder = changed
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return changed


def _sender(kind: str | None) -> str | None:
    allowed = ACCESS.get(kind or "", frozenset())
    return next((s for s in SENDERS if ROLE_OF[s] in {str(r) for r in allowed}), None)


def test_every_json_body_refuses_hostile_values_without_a_500(world: World) -> None:
    spec = world.app.openapi_schema.to_schema()
    sent, failures = 0, []
    for op in operations(world.app):
        body_spec = spec["paths"][op.path][op.method].get("requestBody", {}).get("content", {})
        sender = _sender(op.kind)
        if "application/json" not in body_spec or sender is None:
            continue
        body = _sample(spec, body_spec["application/json"]["schema"])
        path = own_path(world, op.path)
        for place in _paths(body):
            for value in HOSTILE_VALUES:
                response = world.client.request(
                    op.method.upper(),
                    path,
                    json=_replaced(body, place, value),
                    headers=world.headers[sender],
                )
                sent += 1
                if response.status_code >= 500:
                    failures.append((op.method, op.path, place, repr(value)[:20]))
    assert sent > 500  # the walk reached the bodies
    assert failures == []


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields with the values they carry."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            post = (a.get("method") or "").lower() == "post"
            multipart = a.get("enctype") == "multipart/form-data"
            action = a.get("action") or ""
            self._open = {} if post and not multipart and "sign-" not in action else None
            if self._open is not None:
                self.forms.append((action, self._open))
        elif self._open is not None and tag in ("input", "select", "textarea") and a.get("name"):
            self._open.setdefault(a["name"] or "", a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


FORM_PAGES = {
    "recruiter_stoke": ("/dashboard/enquiries/new", "/dashboard/enquiries/{enquiry_id}"),
    "manager_stoke": (
        "/dashboard/targets/new",
        "/dashboard/scenarios/new",
        "/dashboard/targets/{target_id}/edit",
        "/dashboard/settings",
    ),
}


def test_every_dashboard_form_refuses_hostile_values_without_a_500(world: World) -> None:
    client = world.client
    sent, failures = 0, []
    for caller, pages in FORM_PAGES.items():
        client.cookies.clear()
        secret = world.headers[caller]["Authorization"].removeprefix("Bearer ")
        assert sign_in(client, secret).status_code == 303
        for page in pages:
            address = re.sub(r"{(\w+)}", lambda m: str(world.ids["own"][m.group(1)]), page)
            forms = _forms(client.get(address).text)
            assert forms, address
            for action, fields in forms:
                for name in [n for n in fields if n != "csrf_token"]:
                    for value in HOSTILE_TEXT:
                        response = client.post(
                            action, data=fields | {name: value}, follow_redirects=False
                        )
                        sent += 1
                        if response.status_code >= 500:
                            failures.append((action, name, repr(value)[:20]))
    assert sent > 200
    assert failures == []
