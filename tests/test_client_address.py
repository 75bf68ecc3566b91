"""The address failed authentications are counted against, as `fostering serve` runs:
X-Forwarded-For is believed only from a configured proxy (FOSTERING_TRUSTED_PROXIES), so a
client cannot spread its failures over made-up addresses, and behind a trusted proxy each
client behind it is counted apart (the last address the proxy appended, not one the client
wrote itself)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import STOKE, bearer
from tests.live_server import ServeProcess, server_env
from tracker.core import schema
from tracker.core.access import Role, issue_token
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.db import Database

ENQUIRIES = f"/api/v1/authorities/{STOKE}/enquiries"
LIMIT = 3


@pytest.fixture
def installation(tmp_path: Path) -> tuple[str, str]:
    """A migrated SQLite file with Stoke-on-Trent and a manager's token."""
    url = f"sqlite:///{tmp_path / 'address.db'}"
    database = Database(url)
    schema.upgrade(database)
    with database.writing() as session:
        add_authority(
            session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="West Midlands")
        )
        secret = issue_token(session, role=Role.MANAGER, name="m", authority_code=STOKE).secret
    database.dispose()
    return url, secret


def _serve(tmp_path: Path, url: str, **settings: str) -> Iterator[ServeProcess]:
    env = server_env(url, auth_failures_per_minute=str(LIMIT), **settings)
    server = ServeProcess(env, tmp_path, tmp_path / "serve.log").start()
    try:
        yield server
    finally:
        server.stop()


def _fail(server: ServeProcess, forwarded_for: str) -> int:
    headers = bearer("fost_wrong") | {"X-Forwarded-For": forwarded_for}
    return httpx.get(server.url + ENQUIRIES, headers=headers, timeout=10).status_code


def test_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(installation, tmp_path):
    url, secret = installation
    for server in _serve(tmp_path, url):
        made_up = [f"198.51.100.{n}" for n in range(LIMIT + 2)]
        statuses = [_fail(server, address) for address in made_up]
        assert statuses == [401] * LIMIT + [429, 429]
        # A valid token from the same address still gets through.
        ok = httpx.get(server.url + ENQUIRIES, headers=bearer(secret), timeout=10)
        assert ok.status_code == 200


def test_behind_a_trusted_proxy_each_client_is_counted_apart(installation, tmp_path):
    url, _ = installation
    for server in _serve(tmp_path, url, trusted_proxies="127.0.0.1, ::1"):
        assert [_fail(server, "203.0.113.7") for _ in range(LIMIT)] == [401] * LIMIT
        assert _fail(server, "203.0.113.7") == 429
        assert _fail(server, "203.0.113.8") == 401
        # What the client wrote to the left of what the proxy appended is not believed.
        assert _fail(server, "203.0.113.9, 203.0.113.7") == 429
