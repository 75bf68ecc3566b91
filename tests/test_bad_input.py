"""Bad input to the enquiry routes: always a 4xx problem naming the field, never a 500,
and the stored enquiry is left exactly as it was (version included)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import AUTHORITIES, STOKE, _empty, bearer
from tracker.core.access import Role, issue_token
from tracker.core.authorities import add_authority
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today

UNKNOWN_CODE = "E99999999"
HUGE = 10**20
FUTURE = (london_today() + timedelta(days=30)).isoformat()
OVERSIZE = json.dumps(
    {"received_on": "2024-03-01", "channel": "phone", "note": "x" * 1_000_001}
).encode()


class World(NamedTuple):
    """What every case shares: the app, a recruiter of Stoke-on-Trent, one enquiry."""

    client: TestClient
    token: str
    enquiry: dict[str, Any]
    pristine: tuple[Any, ...]


@pytest.fixture(scope="module")
def shared(migrated: Database) -> Iterator[dict[str, Any]]:
    """Per backend, one application and (built on first use) one world for every case.

    Bad input must change nothing, so the cases can share one stored enquiry; a case that
    changes something anyway (a bug) makes the next case rebuild it. Emptied at the end.
    Per-token request limits are off: hundreds of cases share one recruiter's token.
    """
    settings = Settings(
        database_url=migrated.url, requests_per_minute=0, expensive_requests_per_minute=0
    )
    with TestClient(create_app(settings, migrated)) as client:
        yield {"client": client, "database": migrated}
    _empty(migrated)


def build(database: Database, client: TestClient) -> World:
    _empty(database)
    with database.writing() as session:
        for new in AUTHORITIES:
            add_authority(session, new)
        token = issue_token(
            session, role=Role.RECRUITER, name="recruiter_stoke", authority_code=STOKE
        ).secret
    base = f"/api/v1/authorities/{STOKE}/enquiries"
    created = client.post(
        f"{base}/",
        json={
            "received_on": "2024-03-01",
            "channel": "phone",
            "enquirer_name": "Dana Okafor",
            "email": "dana@example.org",
            "external_ref": "BAD-1",
            "campaign": "Spring 2024",
        },
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    moved = client.post(
        f"{base}/{created.json()['id']}/stage",
        json={"stage": "first_contact", "on": "2024-03-04"},
        headers=bearer(token),
    )
    assert moved.status_code == 200, moved.text
    enquiry = moved.json()
    return World(client, token, enquiry, state(client, token, enquiry["id"]))


@pytest.fixture
def world(shared: dict[str, Any]) -> World:
    """An enquiry of Stoke-on-Trent at first contact (version 2), exactly as built."""
    cached: World | None = shared.get("world")
    if cached is None or not untouched(cached):
        cached = shared["world"] = build(shared["database"], shared["client"])
    return cached


def untouched(world: World) -> bool:
    """A quick check that no earlier case changed the world: the same enquiry (its version
    and updated_at move with any change) and the same number of enquiries."""
    base = f"/api/v1/authorities/{STOKE}/enquiries"
    one = world.client.get(f"{base}/{world.enquiry['id']}", headers=bearer(world.token))
    page = world.client.get(f"{base}/?limit=1", headers=bearer(world.token))
    now = ((one.status_code, one.json()), (page.status_code, page.json()))
    return now == (world.pristine[0], world.pristine[2])


def send(
    client: TestClient,
    token: str,
    enquiry: dict[str, Any],
    op: str,
    payload: Any,
    code: str = STOKE,
    enquiry_id: int | None = None,
) -> Any:
    """Send `payload` (raw bytes, JSON-able value, or a query string for list) to `op`."""
    base = f"/api/v1/authorities/{code}/enquiries"
    target = f"{base}/{enquiry_id if enquiry_id is not None else enquiry['id']}"
    headers = {**bearer(token), "Content-Type": "application/json"}
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if op == "create":
        return client.post(f"{base}/", content=content, headers=headers)
    if op == "edit":
        headers["If-Match"] = f'"{enquiry["version"]}"'
        return client.patch(target, content=content, headers=headers)
    if op in ("stage", "close"):
        return client.post(f"{target}/{op}", content=content, headers=headers)
    if op == "list":
        return client.get(f"{base}/?{payload}", headers=headers)
    if op == "read":
        return client.get(target, headers=headers)
    raise AssertionError(op)


def names(body: dict[str, Any], field: str) -> bool:
    """True when the problem names `field`: as `field`, an `errors[].field` (`interests[0]`
    names interests) or a word of `detail` (not part of a word or of the request path)."""
    fields = [body.get("field"), *(e.get("field") for e in body.get("errors") or [])]
    if any(f == field or str(f).startswith(f"{field}[") for f in fields if f):
        return True
    word = re.compile(rf"(?:^|[\s`'\"(]){re.escape(field)}(?:$|[\s`'\":),.;])")
    return word.search(str(body.get("detail") or "")) is not None


def state(client: TestClient, token: str, enquiry_id: int) -> tuple[Any, ...]:
    """The enquiry as GET shows it, its history and how many enquiries there are."""
    base = f"/api/v1/authorities/{STOKE}/enquiries"
    answers = (
        client.get(f"{base}/{enquiry_id}", headers=bearer(token)),
        client.get(f"{base}/{enquiry_id}/history", headers=bearer(token)),
        client.get(f"{base}/?limit=1", headers=bearer(token)),
    )
    return tuple((a.status_code, a.json()) for a in answers)


def case(
    op: str, payload: Any, status: int | tuple[int, ...], field: str | None, label: str, **kw: Any
) -> Any:
    """One bad request; `kw` says where it goes (`code`, `enquiry_id`)."""
    return pytest.param(op, payload, status, field, kw, id=f"{op}-{label}")


NEW = {"received_on": "2024-03-01", "channel": "phone"}

CASES = [
    # --- create -------------------------------------------------------------------------
    case("create", b"not json at all", 400, "JSON", "malformed-json"),
    case(
        "create",
        b'{"received_on": "2024-03-01", "channel": "phone",}',
        400,
        "JSON",
        "trailing-comma",
    ),
    case("create", b"[1, 2]", 400, "object", "array-not-object"),
    case("create", {"channel": "phone"}, 400, "received_on", "missing-received-on"),
    case("create", {**NEW, "received_on": 20240301}, 400, "received_on", "int-date"),
    case("create", {**NEW, "received_on": "2024-02-30"}, 400, "received_on", "impossible-date"),
    case("create", {**NEW, "channel": 3}, 400, "channel", "int-channel"),
    case("create", {**NEW, "enquirer_name": 42}, 400, "enquirer_name", "int-name"),
    case("create", {**NEW, "enquirer_name": ""}, 400, "enquirer_name", "empty-name"),
    case("create", {**NEW, "interests": "emergency"}, 400, "interests", "string-interests"),
    case("create", {**NEW, "interests": ["knitting"]}, 400, "interests", "unknown-interest"),
    case(
        "create", {**NEW, "household_type": "commune"}, 400, "household_type", "unknown-household"
    ),
    case("create", {**NEW, "ethnicity": "martian"}, 400, "ethnicity", "unknown-ethnicity"),
    case("create", {**NEW, "colour": "blue"}, 400, "colour", "unknown-field"),
    case("create", {**NEW, "id": 7}, 400, "id", "unknown-field-id"),
    case("create", OVERSIZE, 413, None, "oversize-body"),
    case("create", {**NEW, "channel": "carrier_pigeon"}, 400, "channel", "unknown-channel"),
    case("create", NEW, 404, "code", "unknown-authority", code=UNKNOWN_CODE),
    case("create", {**NEW, "received_on": FUTURE}, 422, "received_on", "future-received-on"),
    case("create", {**NEW, "received_on": "1900-01-01"}, 422, "received_on", "year-1900"),
    case("create", {**NEW, "email": "dana at example"}, 400, "email", "bad-email"),
    case("create", {**NEW, "phone": "call me"}, 400, "phone", "bad-phone"),
    case(
        "create", {**NEW, "postcode_district": "ST4 7QB"}, 400, "postcode_district", "full-postcode"
    ),
    case("create", {**NEW, "postcode_district": "44"}, 400, "postcode_district", "bad-postcode"),
    case("create", {**NEW, "external_ref": "x" * 65}, 400, "external_ref", "long-ref"),
    case("create", {**NEW, "external_ref": "BAD-1"}, 409, "external_ref", "taken-ref"),
    case("create", {**NEW, "note": "x" * 2001}, 400, "note", "long-note"),
    pytest.param(
        "create",
        {**NEW, "enquirer_name": "Dana\x00Okafor"},
        (400, 422),
        "enquirer_name",
        {},
        id="create-nul-in-name",
    ),
    # One-line text: no tab, line break or other control character, and not blank.
    case("create", {**NEW, "enquirer_name": "\t=1+1"}, 400, "enquirer_name", "tab-in-name"),
    case("create", {**NEW, "campaign": "\r=1+1"}, 400, "campaign", "cr-in-campaign"),
    case("create", {**NEW, "enquirer_name": "Dana\nOkafor"}, 400, "enquirer_name", "lf-in-name"),
    case("create", {**NEW, "external_ref": "REF\x1b[31m"}, 400, "external_ref", "escape-in-ref"),
    case("create", {**NEW, "campaign": "Spring\u2028"}, 400, "campaign", "line-separator"),
    case("create", {**NEW, "enquirer_name": "   "}, 400, "enquirer_name", "spaces-only-name"),
    case("create", {**NEW, "campaign": "\u200b\u200b"}, 400, "campaign", "zero-width-campaign"),
    case("create", {**NEW, "phone": "01782 234567\n"}, 400, "phone", "newline-after-phone"),
    case("create", {**NEW, "postcode_district": "ST4\n"}, 400, "postcode_district", "lf-postcode"),
    # --- edit ---------------------------------------------------------------------------
    case("edit", b'{"channel": ', 400, "JSON", "truncated-json"),
    case("edit", b"not json at all", 400, "JSON", "malformed-json"),
    case("edit", {"channel": 3}, 400, "channel", "int-channel"),
    case("edit", {"channel": None}, 400, "channel", "null-channel"),
    case("edit", {"received_on": None}, 400, "received_on", "null-received-on"),
    case("edit", {"received_on": "yesterday"}, 400, "received_on", "word-date"),
    case("edit", {"interests": None}, 400, "interests", "null-interests"),
    case("edit", {"stage": "approved"}, 400, "stage", "unknown-field-stage"),
    case("edit", {"version": 9}, 400, "version", "unknown-field-version"),
    case(
        "edit", OVERSIZE.replace(b'"received_on": "2024-03-01", ', b""), 413, None, "oversize-body"
    ),
    case("edit", {"channel": "carrier_pigeon"}, 400, "channel", "unknown-channel"),
    case("edit", {"campaign": "Summer"}, 404, "code", "unknown-authority", code=UNKNOWN_CODE),
    case("edit", {"campaign": "Summer"}, 404, "id", "unknown-enquiry", enquiry_id=987654),
    pytest.param(
        "edit",
        {"campaign": "Summer"},
        (400, 404),
        "enquiry_id",
        {"enquiry_id": HUGE},
        id="edit-huge-id",
    ),
    case("edit", {"received_on": FUTURE}, 422, "received_on", "future-received-on"),
    case("edit", {"received_on": "1900-01-01"}, 422, "received_on", "year-1900"),
    case(
        "edit",
        {"received_on": "2024-03-10"},
        422,
        "first_contact_on",
        "received-after-first-contact",
    ),
    case("edit", {"email": "dana@"}, 400, "email", "bad-email"),
    case("edit", {"phone": "+44"}, 400, "phone", "bad-phone"),
    case("edit", {"postcode_district": "STOKE"}, 400, "postcode_district", "bad-postcode"),
    pytest.param(
        "edit",
        {"campaign": "Spring\x002024"},
        (400, 422),
        "campaign",
        {},
        id="edit-nul-in-campaign",
    ),
    case("edit", {"campaign": "Spring\r2024"}, 400, "campaign", "cr-in-campaign"),
    case("edit", {"enquirer_name": "Dana\tOkafor"}, 400, "enquirer_name", "tab-in-name"),
    case("edit", {"external_ref": "\ufeff"}, 400, "external_ref", "zero-width-ref"),
    case("edit", {"email": "dana@example.org\n"}, 400, "email", "newline-after-email"),
    # --- stage --------------------------------------------------------------------------
    case("stage", b"not json at all", 400, "JSON", "malformed-json"),
    case("stage", {"stage": 3}, 400, "stage", "int-stage"),
    case("stage", {}, 400, "stage", "missing-stage"),
    case("stage", {"stage": "interview"}, 400, "stage", "unknown-stage"),
    case("stage", {"stage": "initial_visit", "by": "me"}, 400, "by", "unknown-field"),
    case("stage", {"stage": "initial_visit", "on": "2024-02-30"}, 400, "on", "impossible-date"),
    case("stage", {"stage": "initial_visit", "on": FUTURE}, 422, "on", "future-date"),
    case("stage", {"stage": "initial_visit", "on": "1900-01-01"}, 422, "on", "year-1900"),
    case("stage", {"stage": "enquiry"}, 409, "stage", "backwards"),
    case(
        "stage",
        {"stage": "approved", "on": "2024-05-01"},
        409,
        "stage",
        "approval-without-application",
    ),
    case(
        "stage",
        OVERSIZE.replace(
            b'"received_on": "2024-03-01", "channel": "phone"', b'"stage": "initial_visit"'
        ),
        413,
        None,
        "oversize-body",
    ),
    case("stage", {"stage": "initial_visit"}, 404, "code", "unknown-authority", code=UNKNOWN_CODE),
    pytest.param(
        "stage",
        {"stage": "initial_visit"},
        (400, 404),
        "enquiry_id",
        {"enquiry_id": HUGE},
        id="stage-huge-id",
    ),
    pytest.param(
        "stage",
        {"stage": "initial_visit", "note": "a\x00b"},
        (400, 422),
        "note",
        {},
        id="stage-nul-in-note",
    ),
    # --- close --------------------------------------------------------------------------
    case("close", b"not json at all", 400, "JSON", "malformed-json"),
    case("close", {}, 400, "reason", "missing-reason"),
    case("close", {"reason": 3}, 400, "reason", "int-reason"),
    case("close", {"reason": "got_bored"}, 400, "reason", "unknown-reason"),
    case("close", {"reason": "no_response", "why": "x"}, 400, "why", "unknown-field"),
    case("close", {"reason": "no_response", "on": "01/04/2024"}, 400, "on", "uk-date"),
    case("close", {"reason": "no_response", "on": FUTURE}, 422, "on", "future-date"),
    case("close", {"reason": "no_response", "on": "1900-01-01"}, 422, "on", "year-1900"),
    case("close", {"reason": "rejected_after_panel"}, 409, "reason", "rejection-before-panel"),
    case(
        "close",
        OVERSIZE.replace(
            b'"received_on": "2024-03-01", "channel": "phone"', b'"reason": "no_response"'
        ),
        413,
        None,
        "oversize-body",
    ),
    case("close", {"reason": "no_response"}, 404, "code", "unknown-authority", code=UNKNOWN_CODE),
    pytest.param(
        "close",
        {"reason": "no_response"},
        (400, 404),
        "enquiry_id",
        {"enquiry_id": HUGE},
        id="close-huge-id",
    ),
    # --- list and read ------------------------------------------------------------------
    case("list", "limit=-1", 400, "limit", "negative-limit"),
    case("list", "limit=0", 400, "limit", "zero-limit"),
    case("list", "limit=501", 400, "limit", "limit-over-500"),
    case("list", f"limit={HUGE}", 400, "limit", "huge-limit"),
    case("list", "limit=ten", 400, "limit", "word-limit"),
    case("list", "offset=-1", 400, "offset", "negative-offset"),
    case("list", "received_from=2024-13-01", 400, "received_from", "bad-date"),
    case("list", "received_to=yesterday", 400, "received_to", "word-date"),
    case("list", "stage=interview", 400, "stage", "unknown-stage"),
    case("list", "channel=fax", 400, "channel", "unknown-channel"),
    case("list", "status=pending", 400, "status", "unknown-status"),
    case("list", "overdue=late", 400, "overdue", "unknown-overdue"),
    case("list", "limit=5", 404, "code", "unknown-authority", code=UNKNOWN_CODE),
    pytest.param(
        "list",
        f"offset={HUGE}",
        400,
        "offset",
        {},
        id="list-huge-offset",
    ),
    pytest.param("read", None, (400, 404), "enquiry_id", {"enquiry_id": HUGE}, id="read-huge-id"),
]


@pytest.mark.parametrize(("op", "payload", "status", "field", "where"), CASES)
def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(
    world: World,
    op: str,
    payload: Any,
    status: int | tuple[int, ...],
    field: str | None,
    where: dict[str, Any],
) -> None:
    response = send(world.client, world.token, world.enquiry, op, payload, **where)

    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code
    if field is not None:
        assert names(body, field), body
    after = state(world.client, world.token, world.enquiry["id"])
    assert after == world.pristine
    assert after[0][1]["version"] == world.enquiry["version"] == 2
