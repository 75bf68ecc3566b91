"""Personal data (OWASP API3: excessive data exposure): never in the logs, gone from every table
after erasure (the audit trail and stored responses included), never in an aggregate route.

A distinctive applicant goes through a full workflow: logged with an idempotency key, read,
listed, edited (and badly edited), moved on, closed and reopened, exported, imported, erased.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.access import AGGREGATE
from api.app import create_app
from demo.ssda903 import generate
from tests.conftest import STOKE, bearer
from tests.security_world import operations, stored_values
from tracker.core.db import Database
from tracker.core.settings import Settings

BASE = f"/api/v1/authorities/{STOKE}"
NAME, SURNAME = "Zephyrine Quillfeather", "Quillfeather"
EMAIL, EMAIL_2 = "zephyrine.quillfeather@example.org", "zq.second@example.net"
PHONE, PHONE_2 = "07700 900461", "07700 900462"
POSTCODE = "TR21"  # the Isles of Scilly: no other text here holds it
IMPORTED = ("Ottoline Brackenbury", "ottoline.b@example.org", "07700 900463")
NEEDLES = (NAME, SURNAME, EMAIL, EMAIL_2, PHONE, PHONE_2, "07700900461", *IMPORTED)
PERSONAL_FIELDS = {"enquirer_name", "email", "phone", "postcode_district", "ethnicity"}
IMPORT_CSV = (
    "external_ref,received_on,channel,enquirer_name,email,phone,postcode_district\n"
    f"PD-1,2025-02-03,phone,{IMPORTED[0]},{IMPORTED[1]},{IMPORTED[2]},{POSTCODE}\n"
)
BAD_IMPORT_CSV = (
    "external_ref,received_on,channel,enquirer_name,email\n"
    f"PD-2,2025-02-03,phone,{NAME},not-an-email {EMAIL}\n"
)


@pytest.fixture
def app_client(authorities: Database) -> Iterator[TestClient]:
    """The app logging at DEBUG, the failed-authentication limit out of the way."""
    settings = Settings(
        database_url=authorities.url,
        scheduler_enabled=False,
        log_level="DEBUG",
        auth_failures_per_minute=0,
        pseudonym_key="personal-data-test-key",
    )
    with TestClient(create_app(settings, authorities)) as client:
        yield client


@contextlib.contextmanager
def every_logger_at_debug() -> Iterator[None]:
    """Every logger that exists (and any made meanwhile, through the root) at DEBUG and
    propagating to the root, where pytest's caplog handler listens; restored afterwards."""
    saved: dict[logging.Logger, tuple[int, bool, bool]] = {}
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            saved[logger] = (logger.level, logger.propagate, logger.disabled)
            logger.setLevel(logging.DEBUG)
            logger.propagate = logger is not logging.getLogger() or logger.propagate
            logger.disabled = False
    try:
        yield
    finally:
        for logger, (level, propagate, disabled) in saved.items():
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), response.text
    return response


def full_workflow(client: TestClient, tokens: dict[str, str]) -> list[int]:
    """Everything a team does with an applicant, ending with erasure; returns the ids."""
    manager = bearer(tokens["manager_stoke"])
    new = {
        "received_on": "2025-01-06",
        "channel": "phone",
        "enquirer_name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "postcode_district": POSTCODE,
        "ethnicity": "white_british",
        "note": f"{NAME} rang about short breaks; call back on {PHONE}",
    }
    keyed = manager | {"Idempotency-Key": "pd-create-1"}
    created = _ok(client.post(f"{BASE}/enquiries", json=new, headers=keyed), 201).json()
    _ok(client.post(f"{BASE}/enquiries", json=new, headers=keyed), 201)  # a retry: replayed
    one = f"{BASE}/enquiries/{created['id']}"
    read = _ok(client.get(one, headers=manager))
    _ok(client.get(f"{BASE}/enquiries", headers=manager))
    _ok(client.get(f"{BASE}/enquiries/overdue", headers=manager))
    etag = read.headers["etag"]
    edited = _ok(
        client.patch(
            one, json={"email": EMAIL_2, "phone": PHONE_2}, headers=manager | {"If-Match": etag}
        )
    )
    # Bad input holding personal data: the answer may name the value, the logs may not.
    bad = client.patch(
        one,
        json={"email": f"{NAME} <{EMAIL}>", "enquirer_name": NAME},
        headers=manager | {"If-Match": edited.headers["etag"]},
    )
    assert bad.status_code == 400
    stale = client.patch(one, json={"enquirer_name": NAME}, headers=manager | {"If-Match": etag})
    assert stale.status_code == 412
    _ok(
        client.post(
            f"{one}/stage",
            json={"stage": "first_contact", "on": "2025-01-07", "note": f"spoke to {NAME}"},
            headers=manager,
        )
    )
    _ok(
        client.post(
            f"{one}/close",
            json={"reason": "no_response", "on": "2025-01-20", "note": f"{SURNAME} moved away"},
            headers=manager,
        )
    )
    _ok(client.post(f"{one}/reopen", json={"note": f"{NAME} called again"}, headers=manager))
    _ok(client.get(f"{one}/history", headers=manager))
    for file_format in ("csv", "xlsx"):
        _ok(client.get(f"{BASE}/enquiries/export", params={"format": file_format}, headers=manager))
    csv_headers = manager | {"Content-Type": "text/csv"}
    report = _ok(
        client.post(f"{BASE}/enquiries/import", content=IMPORT_CSV, headers=csv_headers)
    ).json()
    rejected = client.post(f"{BASE}/enquiries/import", content=BAD_IMPORT_CSV, headers=csv_headers)
    assert rejected.status_code == 422, rejected.text
    listed = _ok(client.get(f"{BASE}/enquiries", params={"limit": 500}, headers=manager)).json()
    ids = [e["id"] for e in listed["items"]]
    assert len(ids) == 2 and report
    for enquiry_id in ids:
        erased = _ok(
            client.delete(f"{BASE}/enquiries/{enquiry_id}/personal-data", headers=manager)
        ).json()
        assert all(erased.get(field) is None for field in PERSONAL_FIELDS)
    _ok(client.get("/api/v1/audit", headers=manager))
    return ids


def _found(text: str, needles: tuple[str, ...] = NEEDLES) -> list[str]:
    return [needle for needle in needles if needle in text]


def test_no_personal_data_reaches_any_log(app_client, tokens, caplog):
    with every_logger_at_debug():
        caplog.set_level(logging.DEBUG)
        full_workflow(app_client, tokens)
    records = caplog.records
    # The capture is wide enough to matter: the SQL the database ran is in it.
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)
    leaks = []
    for record in records:
        text = record.getMessage() + (record.exc_text or "") + repr(record.args)
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        if found := _found(text):
            leaks.append(f"{record.name} {record.levelname}: {found} in {text[:300]!r}")
    assert leaks == [], "\n".join(leaks[:10])


def test_no_route_takes_personal_data_in_its_path_or_query(client):
    """Access logs hold paths and query strings: no parameter may carry personal data."""
    spec = client.get("/schema/openapi.json").json()
    carried = [
        f"{method.upper()} {path}: {parameter['name']}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["name"] in PERSONAL_FIELDS | {"name", "postcode"}
    ]
    assert carried == []


def test_erasure_leaves_no_copy_in_any_table(app_client, tokens, authorities):
    ids = full_workflow(app_client, tokens)
    seen_tables = set()
    leaks = []
    for table, column, text in stored_values(authorities):
        seen_tables.add(table)
        if found := _found(text, (*NEEDLES, POSTCODE)):
            leaks.append(f"{table}.{column}: {found}")
    assert {"enquiry", "enquiry_event", "audit_entry"} <= seen_tables, seen_tables
    assert leaks == [], "\n".join(sorted(set(leaks)))
    # What erasure keeps: the dates and stages, for the statistics.
    kept = app_client.get(f"{BASE}/enquiries/{ids[0]}", headers=bearer(tokens["admin"])).json()
    assert kept["received_on"] and kept["stage"]


# --- aggregate routes ----------------------------------------------------------------------

VARIANTS: dict[str, list[dict[str, str]]] = {
    "funnel": [{}, {"by": "channel"}, {"by": "campaign"}, {"by": "month"}],
    "capacity": [{}, {"format": "csv"}],
}


def _strings(value: Any) -> Iterator[str]:
    """Every key and scalar of a JSON document, as text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _cells(response: Any) -> list[str]:
    media = response.headers.get("content-type", "")
    if media.startswith("text/csv"):
        return [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    if "json" in media:
        return list(_strings(response.json()))
    return [response.text]


def test_aggregate_routes_carry_no_personal_data_and_no_child_identifiers(
    app_client, tokens, authorities
):
    manager, admin = bearer(tokens["manager_stoke"]), bearer(tokens["admin"])
    enquiry = {
        "received_on": "2025-01-06",
        "channel": "phone",
        "enquirer_name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "campaign": "Spring",
        "note": NAME,
    }
    created = _ok(app_client.post(f"{BASE}/enquiries", json=enquiry, headers=manager), 201)
    _ok(
        app_client.post(
            f"{BASE}/enquiries/{created.json()['id']}/stage",
            json={"stage": "first_contact", "on": "2025-01-07", "note": f"met {NAME}"},
            headers=manager,
        )
    )
    synthetic = generate(seed=5, first_year=2023, last_year=2024, starters_per_year=25)
    files = [("files", (f.name, f.content, "text/csv")) for f in synthetic.files]
    _ok(app_client.post(f"{BASE}/children/ssda903", files=files, headers=manager))
    children: set[str] = set()
    for source in synthetic.files:
        for row in csv.DictReader(io.StringIO(source.content.decode())):
            children.update(v for k, v in row.items() if k in ("CHILD", "UPN") and v)
    with authorities.engine.connect() as conn:
        children.update(
            str(v) for (v,) in conn.exec_driver_sql("SELECT child_key FROM ssda903_child")
        )
    assert len(children) > 20

    checked = 0
    leaks = []
    callers = {"admin": admin, "regional_wm": bearer(tokens["regional_wm"])}
    for op in operations(app_client.app):
        if op.method != "get" or op.kind not in AGGREGATE or "_id}" in op.path:
            continue
        path = op.path.replace("{code}", STOKE).replace("{region}", "West Midlands")
        family = "funnel" if "/funnel" in path else "capacity" if "capacity" in path else ""
        for params in VARIANTS.get(family, [{}]):
            for caller, headers in callers.items():
                response = app_client.get(path, params=params, headers=headers)
                if response.status_code != 200:
                    continue
                checked += 1
                cells = _cells(response)
                text = "\n".join(cells)
                if found := _found(text, (*NEEDLES, POSTCODE)):
                    leaks.append(f"{op} {params} as {caller}: {found}")
                if exposed := sorted(children & set(cells)):
                    leaks.append(f"{op} {params} as {caller}: child ids {exposed[:3]}")
    assert checked >= 20
    assert leaks == [], "\n".join(leaks)
