"""PostgreSQL's pool: a pooled connection is pinged at checkout only when it was idle longer
than `ping_after_s` or its socket shows the server closed it (`tracker.core.db.check_liveness`),
so a busy pool pays no round trip, and the request after the server ends the pool's
connections (pg_terminate_backend, a restart) still succeeds."""

import time

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, STOKE, bearer
from tracker.core.db import Database


def _terminate_all(database: str) -> int:
    """End every connection to `database` (waiting until each is gone); how many."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                    "FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            ).scalar()
    finally:
        admin.dispose()
    return int(ended or 0)


def _counting_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    pings: list[bool] = []
    real = db.engine.dialect.do_ping

    def ping(dbapi_connection: object) -> bool:
        try:
            answered = real(dbapi_connection)
        except Exception:
            pings.append(False)
            raise
        pings.append(answered)
        return answered

    monkeypatch.setattr(db.engine.dialect, "do_ping", ping)
    return pings


def test_on_postgresql_a_busy_pool_pings_nothing_and_survives_its_backends_ending(
    authorities, client, tokens, monkeypatch
):
    """Requests in a row ping nothing; after every backend of the pool is terminated, the
    next request succeeds: the closed socket is seen at checkout, the ping fails, and the
    pool replaces its connections (one ping, then none again)."""
    db = authorities
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool")
    pings = _counting_pings(db, monkeypatch)
    headers = bearer(tokens["manager_stoke"])
    path = f"/api/v1/authorities/{STOKE}/capacity"
    for _ in range(4):
        assert client.get(path, headers=headers).status_code == 200
    assert pings == []
    assert _terminate_all(db.engine.url.database) >= 1
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert pings == [False]
    for _ in range(3):
        assert client.get(path, headers=headers).status_code == 200
    assert pings == [False]


def test_on_postgresql_a_connection_idle_longer_than_the_threshold_is_pinged(
    authorities, monkeypatch
):
    """A connection checked out again within `ping_after_s` is not pinged; one idle longer
    is, and when the server has ended it meanwhile the checkout gets a new connection."""
    if authorities.is_sqlite:
        pytest.skip("PostgreSQL's pool")
    db = Database(authorities.url, ping_after_s=0.2)
    try:
        pings = _counting_pings(db, monkeypatch)
        with db.engine.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
        assert pings == []
        time.sleep(0.3)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
        assert pings == [True]
        time.sleep(0.3)
        _terminate_all(db.engine.url.database)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != first
        assert pings == [True, False]
    finally:
        db.dispose()
