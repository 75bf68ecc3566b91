"""Fixtures that build real things: a migrated database per backend, the app, tokens per role.

Storage and API tests run on SQLite and on the PostgreSQL server of the machine
(FOSTERING_TEST_PG, default postgresql://postgres@127.0.0.1:5432/postgres); each run creates
and drops its own database. Without PostgreSQL those variants skip, except under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

import api.tables  # noqa: F401  (the API's own tables)
from api.app import create_app
from tracker.core import schema
from tracker.core.access import Role, issue_token
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.db import Database, normalise_url
from tracker.core.settings import Settings
from tracker.tables import metadata

# Fixtures of their own subjects (the SSDA903 tests' app with a pseudonym key).
pytest_plugins = ("tests.ssda903_files",)
PG_ADMIN_URL = normalise_url(
    os.environ.get("FOSTERING_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
)
IN_CI = os.environ.get("CI", "").lower() == "true"

STOKE, COVENTRY, STOCKTON = "E06000021", "E08000026", "E06000004"
AUTHORITIES = (
    NewAuthority(code=STOKE, name="Stoke-on-Trent", region="West Midlands"),
    NewAuthority(code=COVENTRY, name="Coventry", region="West Midlands"),
    NewAuthority(code=STOCKTON, name="Stockton-on-Tees", region="North East"),
)


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A freshly migrated database of each backend, for the whole session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        database = Database(f"sqlite:///{path}", busy_timeout_s=30)
        schema.upgrade(database)
        yield database
        database.dispose()
        return
    with new_postgres_database() as url:
        database = Database(url)
        schema.upgrade(database)
        yield database
        database.dispose()


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """The URL of an empty database of its own on the local PostgreSQL, dropped afterwards
    (the test skips without PostgreSQL, and fails under CI=true)."""
    problem = _postgres_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is unreachable in CI ({PG_ADMIN_URL}): {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"fostering_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database_at(backend: str, folder: Path, revision: str) -> Iterator[Database]:
    """An empty database of `backend` ("sqlite" or "postgresql") migrated up to `revision`
    only, for a migration's tests (the PostgreSQL one dropped afterwards)."""
    if backend == "sqlite":
        database = Database(f"sqlite:///{folder}/old.db")
        schema.upgrade(database, revision)
        yield database
        database.dispose()
        return
    with new_postgres_database() as url:
        database = Database(url)
        schema.upgrade(database, revision)
        yield database
        database.dispose()


def _empty(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(migrated: Database) -> Iterator[Database]:
    """The backend's database, emptied after the test."""
    yield migrated
    _empty(migrated)


@pytest.fixture
def authorities(db: Database) -> Database:
    """Stoke-on-Trent and Coventry (West Midlands) and Stockton-on-Tees (North East)."""
    with db.writing() as session:
        for new in AUTHORITIES:
            add_authority(session, new)
    return db


@pytest.fixture
def tokens(authorities: Database) -> dict[str, str]:
    """A secret per role and authority: recruiter_stoke, manager_coventry, regional_wm, admin..."""
    secrets: dict[str, str] = {}
    plan = {
        "recruiter_stoke": (Role.RECRUITER, STOKE, None),
        "manager_stoke": (Role.MANAGER, STOKE, None),
        "recruiter_coventry": (Role.RECRUITER, COVENTRY, None),
        "manager_coventry": (Role.MANAGER, COVENTRY, None),
        "manager_stockton": (Role.MANAGER, STOCKTON, None),
        "regional_wm": (Role.REGIONAL, None, "West Midlands"),
        "regional_ne": (Role.REGIONAL, None, "North East"),
        "admin": (Role.ADMIN, None, None),
    }
    with authorities.writing() as session:
        for key, (role, code, region) in plan.items():
            issued = issue_token(session, role=role, name=key, authority_code=code, region=region)
            secrets[key] = issued.secret
    return secrets


@pytest.fixture
def client(authorities: Database) -> Iterator[TestClient]:
    """The application over the test database, driven by Litestar's test client."""
    settings = Settings(
        database_url=authorities.url, scheduler_enabled=False, pseudonym_key="test-pseudonym-key"
    )
    app = create_app(settings, authorities)
    with TestClient(app) as test_client:
        yield test_client


def bearer(secret: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}
