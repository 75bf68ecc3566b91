"""On SQLite, exports and dry runs read without the write lock, and an import reads its file
before its write transaction begins: while one of them is under way (held at a point in the
middle of its work), another authority's enquiry create commits. Not timed: the create must
finish while the other request is still held. (bench/import_lock.py measures the waits.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import COVENTRY, STOKE, bearer
from tests.live_server import ThreadServer
from tracker.enquiries import files as enquiry_files
from tracker.enquiries.timeliness import london_today
from tracker.households import files as household_files

TODAY = london_today()
RECEIVED = (TODAY - timedelta(days=3)).isoformat()
ENQUIRIES_CSV = (
    "external_ref,received_on,channel,enquirer_name\n"
    f"L-1,{RECEIVED},phone,Ann Example\nL-2,{RECEIVED},email,Bob Example\n"
).encode()
STOKE_ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"


def held(
    function: Callable[..., Any],
    entered: threading.Event,
    gate: threading.Event,
    passed: threading.Event,
) -> Callable[..., Any]:
    """`function`, whose first call marks `entered`, waits (up to 20 s) for `gate`, then
    marks `passed`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not entered.is_set():
            entered.set()
            gate.wait(20)
            passed.set()
        return function(*args, **kwargs)

    return wrapper


# name: (module, function to hold, method, path, body)
CASES = {
    "enquiry export (csv)": (enquiry_files, "status_of", "GET", "/export?format=csv", None),
    "enquiry export (xlsx)": (enquiry_files, "status_of", "GET", "/export?format=xlsx", None),
    "enquiry export (building the file)": (
        enquiry_files,
        "xlsx_bytes",
        "GET",
        "/export?format=xlsx",
        None,
    ),
    "household export (building the file)": (
        household_files,
        "csv_bytes",
        "GET",
        "/export",
        None,
    ),
    "enquiry dry run (checking rows)": (
        enquiry_files,
        "_row_rules",
        "POST",
        "/import?dry_run=true",
        ENQUIRIES_CSV,
    ),
    "enquiry import (reading the file)": (
        enquiry_files,
        "parse_row",
        "POST",
        "/import",
        ENQUIRIES_CSV,
    ),
    "household export": (household_files, "register_as_at", "GET", "/export", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_another_authority_writes_while_a_long_read_is_under_way(
    case, authorities, tokens, monkeypatch
):
    if not authorities.is_sqlite:
        pytest.skip("PostgreSQL has no database-wide write lock")
    module, name, method, tail, body = CASES[case]
    entered, gate, passed = threading.Event(), threading.Event(), threading.Event()
    monkeypatch.setattr(module, name, held(getattr(module, name), entered, gate, passed))
    manager = bearer(tokens["manager_stoke"])
    if module is household_files:
        made = {
            "reference": "H-1",
            "care_type": "in_house",
            "approved_on": "2024-01-10",
            "approved_places": 1,
        }
        path = f"/api/v1/authorities/{STOKE}/households"
    else:
        made = {"received_on": RECEIVED, "channel": "phone", "enquirer_name": "Cy Example"}
        path = STOKE_ENQUIRIES
    answers: dict[str, httpx.Response] = {}
    with (
        ThreadServer(authorities.url) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        assert http.post(path, json=made, headers=manager).status_code == 201
        headers = manager | ({"Content-Type": "text/csv"} if body else {})

        def long_request() -> None:
            answers["long"] = http.request(method, path + tail, content=body, headers=headers)

        worker = threading.Thread(target=long_request)
        worker.start()
        try:
            assert entered.wait(30), "the request never reached the held point"
            with httpx.Client(base_url=server.url, timeout=60) as other:
                create = other.post(
                    f"/api/v1/authorities/{COVENTRY}/enquiries",
                    json={"received_on": RECEIVED, "channel": "email"},
                    headers=bearer(tokens["recruiter_coventry"]),
                )
            finished_while_held = not passed.is_set()
        finally:
            gate.set()
            worker.join(60)
    assert create.status_code == 201, create.text
    assert finished_while_held, f"the create waited for the {case}"
    assert answers["long"].status_code == 200, answers["long"].text
