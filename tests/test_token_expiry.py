"""Tokens expire: a new one lives `FOSTERING_TOKEN_DAYS` (90) days unless its creator says
otherwise (a number of days, or never); past its expiry it gets 401 saying so, counted as a
failed authentication, even while a server holds it as verified; a dashboard session ends
with its token; tokens stored before migration 0021 keep no expiry; `token list` shows each
expiry and flags those that never expire. Also: `authority add` takes a code in any case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import select, text, update

from api.cli.base import main
from api.dashboard.sessions import SESSION_LIFETIME, WebSession, caller_for_session
from tests.conftest import STOKE, bearer, database_at
from tracker.core import access, schema
from tracker.core.access import ApiToken, Role, TokenExpired, issue_token, verify_token
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError
from tracker.core.settings import ConfigurationError, Settings

BASE = f"/api/v1/authorities/{STOKE}/enquiries"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """No caller held from another test."""
    access.verified_tokens.forget()
    yield
    access.verified_tokens.forget()


def _expire(db: Database, name: str, at: datetime | None = None) -> None:
    """Set a token's expiry (in the past by default), as time passing would."""
    with db.writing() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.name == name)
            .values(expires_at=at or utcnow() - timedelta(seconds=1))
        )
    access.verified_tokens.forget()


def _row(db: Database, token_id: int) -> ApiToken:
    with db.read_session() as session:
        row = session.get(ApiToken, token_id)
        assert row is not None
        session.expunge(row)
        return row


# --- refusing an expired token ----------------------------------------------------------------


def test_an_expired_token_gets_401_saying_it_expired(client, tokens, db):
    secret = tokens["recruiter_stoke"]
    assert client.get(BASE, headers=bearer(secret)).status_code == 200
    _expire(db, "recruiter_stoke")
    response = client.get(BASE, headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["detail"] == "the token has expired"
    assert "recruiter_stoke" not in response.text and STOKE not in response.text
    unknown = client.get(BASE, headers=bearer(secret + "x"))
    assert unknown.status_code == 401
    assert "expired" not in unknown.json()["detail"]
    # Public routes take it as no token at all.
    assert client.get("/health", headers=bearer(secret)).status_code == 200


def test_an_expired_token_counts_as_a_failed_authentication(client, tokens, db):
    secret = tokens["manager_stoke"]
    _expire(db, "manager_stoke")
    limit = client.app.state.auth_limiter.limit
    statuses = [client.get(BASE, headers=bearer(secret)).status_code for _ in range(limit + 1)]
    assert statuses == [401] * limit + [429]


def test_a_held_token_is_refused_once_it_expires(client, tokens, db, monkeypatch):
    """The 5 s cache of verified tokens holds a token no longer than it lives."""
    secret = tokens["recruiter_stoke"]
    soon = utcnow() + timedelta(minutes=1)
    _expire(db, "recruiter_stoke", soon)
    assert client.get(BASE, headers=bearer(secret)).status_code == 200
    assert access.held_caller(secret) is not None
    monkeypatch.setattr(access, "utcnow", lambda: soon + timedelta(milliseconds=1))
    assert access.held_caller(secret) is None
    response = client.get(BASE, headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["detail"] == "the token has expired"


def test_a_token_without_expiry_never_expires(tokens, db, monkeypatch):
    monkeypatch.setattr(access, "utcnow", lambda: utcnow() + timedelta(days=36_500))
    with db.read_session() as session:
        assert verify_token(session, tokens["admin"]) is not None
        assert not isinstance(verify_token(session, tokens["admin"]), TokenExpired)


def test_an_expiry_must_be_in_the_future_and_at_most_ten_years_off(authorities):
    with authorities.writing() as session, pytest.raises(InvalidValueError, match="future"):
        issue_token(session, role=Role.ADMIN, name="x", expires_at=utcnow())
    for days in (0, 3651):
        with pytest.raises(InvalidValueError, match="from 1 to 3650 days"):
            access.expiry_after(days)


# --- the API ------------------------------------------------------------------------------------


def test_the_api_gives_new_tokens_the_default_expiry_unless_told(client, tokens):
    admin = bearer(tokens["admin"])
    body = {"role": "manager", "name": "m", "authority_code": STOKE}
    before = utcnow()
    default = client.post("/api/v1/tokens", json=body, headers=admin)
    assert default.status_code == 201, default.text
    expires = datetime.fromisoformat(default.json()["record"]["expires_at"])
    assert before + timedelta(days=90) <= expires <= utcnow() + timedelta(days=90)
    week = client.post("/api/v1/tokens", json={**body, "expires_in_days": 7}, headers=admin)
    expires = datetime.fromisoformat(week.json()["record"]["expires_at"])
    assert before + timedelta(days=7) <= expires <= utcnow() + timedelta(days=7)
    never = client.post("/api/v1/tokens", json={**body, "expires_in_days": "never"}, headers=admin)
    assert never.status_code == 201 and never.json()["record"]["expires_at"] is None
    for bad in (0, 3651, "soon", -1):
        refused = client.post(
            "/api/v1/tokens", json={**body, "expires_in_days": bad}, headers=admin
        )
        assert refused.status_code == 400, (bad, refused.text)
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert all("expires_at" in t for t in listed)


# --- the dashboard ------------------------------------------------------------------------------


def _sign_in(client, secret: str):
    form = client.get("/dashboard/sign-in")
    csrf = CSRF.search(form.text)
    assert csrf is not None
    return client.post(
        "/dashboard/sign-in",
        data={"token": secret, "csrf_token": csrf.group(1), "next": "/dashboard"},
        follow_redirects=False,
    )


def test_a_dashboard_session_ends_when_its_token_expires(client, tokens, db):
    secret = tokens["manager_stoke"]
    token_expires = utcnow() + timedelta(hours=1)
    _expire(db, "manager_stoke", token_expires)
    response = _sign_in(client, secret)
    assert response.status_code == 303, response.text
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("fostering_session=")
    )
    max_age = int(re.search(r"Max-Age=(\d+)", cookie, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    assert 3500 <= max_age <= 3600
    cookie_secret = cookie.split(";")[0].split("=", 1)[1]
    with db.read_session() as session:
        stored = session.scalars(select(WebSession)).one()
        assert abs(stored.expires_at - token_expires) < timedelta(seconds=1)
        assert caller_for_session(session, cookie_secret) is not None
        later = token_expires + timedelta(seconds=1)
        assert caller_for_session(session, cookie_secret, now=later) is None
    # A session started before the token's expiry was brought forward ends with it too.
    _expire(db, "manager_stoke")
    with db.read_session() as session:
        assert caller_for_session(session, cookie_secret) is None
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_session_of_a_long_lived_token_lasts_eight_hours(client, tokens, db):
    _expire(db, "manager_stoke", utcnow() + timedelta(days=30))
    assert _sign_in(client, tokens["manager_stoke"]).status_code == 303
    with db.read_session() as session:
        stored = session.scalars(select(WebSession)).one()
    assert stored.expires_at - stored.created_at == SESSION_LIFETIME


def test_signing_in_with_an_expired_token_says_it_expired(client, tokens, db):
    _expire(db, "manager_stoke")
    response = _sign_in(client, tokens["manager_stoke"])
    assert response.status_code == 401
    assert "That token has expired" in response.text
    with db.read_session() as session:
        assert session.scalars(select(WebSession)).first() is None


# --- the command line --------------------------------------------------------------------------


def fostering(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert fostering(env, "db", "upgrade").exit_code == 0
    return env


def _expiries(env: dict[str, str]) -> dict[int, datetime | None]:
    database = Database(env["DATABASE_URL"])
    with database.read_session() as session:
        found = {r.id: r.expires_at for r in session.scalars(select(ApiToken))}
    database.dispose()
    return found  # type: ignore[return-value]


def test_token_create_expires_after_90_days_by_default_or_as_told(cli_env):
    before = utcnow()
    for args in ((), ("--expires-in", "7"), ("--expires-in", "never"), ("--expires-in", "NEVER")):
        created = fostering(cli_env, "token", "create", "--role", "admin", *args)
        assert created.exit_code == 0, created.output
    expiries = _expiries(cli_env)
    assert before + timedelta(days=90) <= expiries[1] <= utcnow() + timedelta(days=90)  # type: ignore[operator]
    assert before + timedelta(days=7) <= expiries[2] <= utcnow() + timedelta(days=7)  # type: ignore[operator]
    assert expiries[3] is None and expiries[4] is None
    assert "expires 20" in fostering(cli_env, "token", "create", "--role", "admin").output
    for bad in ("0", "3651", "soon", "-3"):
        refused = fostering(cli_env, "token", "create", "--role", "admin", "--expires-in", bad)
        assert refused.exit_code == 2 and "never" in refused.output, refused.output


def test_the_default_lifetime_is_a_setting(cli_env):
    env = {**cli_env, "FOSTERING_TOKEN_DAYS": "0"}
    assert fostering(env, "token", "create", "--role", "admin").exit_code == 0
    env = {**cli_env, "FOSTERING_TOKEN_DAYS": "30"}
    assert fostering(env, "token", "create", "--role", "admin").exit_code == 0
    expiries = _expiries(cli_env)
    assert expiries[1] is None
    assert expiries[2] is not None and expiries[2] - utcnow() <= timedelta(days=30)
    assert Settings().token_days == 90
    for value in ("-1", "3651", "a month"):
        with pytest.raises(ConfigurationError, match="FOSTERING_TOKEN_DAYS"):
            Settings.from_env({"FOSTERING_TOKEN_DAYS": value})


def test_token_list_shows_each_expiry_and_flags_those_that_never_expire(cli_env):
    fostering(
        cli_env, "token", "create", "--role", "admin", "--name", "forever", "--expires-in", "never"
    )
    fostering(
        cli_env, "token", "create", "--role", "admin", "--name", "month", "--expires-in", "30"
    )
    fostering(cli_env, "token", "create", "--role", "admin", "--name", "old")
    database = Database(cli_env["DATABASE_URL"])
    with database.writing() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.name == "old")
            .values(expires_at=utcnow() - timedelta(days=1))
        )
    database.dispose()
    listed = fostering(cli_env, "token", "list").output
    rows = [[c.strip() for c in line.split("│")] for line in listed.splitlines() if "│" in line]
    lines = {cells[2]: " ".join(cells) for cells in rows}
    in_30 = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")
    assert "expires" in listed
    assert "never (!)" in lines["forever"]
    assert in_30 in lines["month"] and "never" not in lines["month"]
    assert "(expired)" in lines["old"]
    assert "1 token never expires" in listed
    assert fostering(cli_env, "token", "revoke", "1").exit_code == 0
    assert "never expire" not in fostering(cli_env, "token", "list").output


def test_authority_add_takes_a_code_in_lower_case(cli_env):
    added = fostering(cli_env, "authority", "add", "e06000021")
    assert added.exit_code == 0, added.output
    assert "added E06000021 Stoke-on-Trent" in added.output
    assert "E06000021" in fostering(cli_env, "authority", "list").output
    made = fostering(
        cli_env, "token", "create", "--role", "manager", "--authority", " e06000021", "--name", "m"
    )
    assert made.exit_code == 0, made.output
    assert "E06000021" in fostering(cli_env, "token", "list").output


# --- migration 0021 -----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def before_0021(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of each backend at revision 0020."""
    with database_at(request.param, tmp_path, "0020") as database:
        yield database


def test_tokens_stored_before_0021_keep_no_expiry_and_still_work(before_0021: Database) -> None:
    with before_0021.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_token (name, role, digest, hint, created_at) "
                "VALUES ('old', 'admin', :digest, 'fost_abcd', :at)"
            ),
            {"digest": access.digest("fost_old-secret"), "at": utcnow() - timedelta(days=400)},
        )
    schema.upgrade(before_0021)
    with before_0021.read_session() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.expires_at is None
        caller = verify_token(session, "fost_old-secret")
    assert caller is not None and not isinstance(caller, TokenExpired)
    config = schema.alembic_config(before_0021)
    with before_0021.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    with before_0021.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM api_token")).scalars().all() == ["old"]
