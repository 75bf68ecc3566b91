"""The access log of `fostering serve` keeps no query values: a search for a person's name or
email address must not leave it in the server's log, which erasure cannot reach."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx

from api.access_log import RedactQuery, redact_query
from tests.conftest import STOKE, bearer
from tests.live_server import ServeProcess, server_env
from tracker.core import schema
from tracker.core.access import Role, issue_token
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.db import Database


def test_query_values_are_dropped_and_names_kept():
    assert redact_query("/x/enquiries?search=ann%40example.org&stage=panel") == (
        "/x/enquiries?search=*&stage=*"
    )
    assert redact_query("/x/enquiries") == "/x/enquiries"
    assert redact_query("/x?ann%40example.org") == "/x?*=*"  # a name that is no identifier


def test_the_filter_rewrites_uvicorns_access_record_only():
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', None, None
    )
    access.args = ("127.0.0.1:5000", "GET", "/e?search=Ann+Smith", "1.1", 200)
    assert RedactQuery().filter(access)
    assert access.getMessage() == '127.0.0.1:5000 - "GET /e?search=* HTTP/1.1" 200'
    other = logging.LogRecord("x", logging.INFO, "", 0, "%s", ("/e?search=Ann",), None)
    assert RedactQuery().filter(other) and other.getMessage() == "/e?search=Ann"


def test_a_search_for_a_person_leaves_no_trace_in_the_servers_log(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    database = Database(url)
    schema.upgrade(database)
    with database.writing() as session:
        add_authority(
            session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="West Midlands")
        )
        secret = issue_token(session, role=Role.RECRUITER, name="r", authority_code=STOKE).secret
    database.dispose()
    server = ServeProcess(server_env(url), tmp_path, tmp_path / "serve.log").start()
    try:
        response = httpx.get(
            f"{server.url}/api/v1/authorities/{STOKE}/enquiries",
            params={"search": "perdita.quennell@example.org", "status": "open"},
            headers=bearer(secret),
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        server.stop()
    log = server.log()
    assert f"/api/v1/authorities/{STOKE}/enquiries?search=*&status=* HTTP/1.1" in log
    assert "perdita" not in log.lower() and "example.org" not in log
