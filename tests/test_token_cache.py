"""The verified-token cache: a revocation or a new token takes effect at once in this
process, a held caller expires after the cache's time to live, and a token that differs
from a verified one by one character is never answered from the cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from tests.conftest import STOKE, bearer
from tracker.core import access
from tracker.core.access import ApiToken, Role, caller_for, issue_token, revoke_token
from tracker.core.clock import utcnow

BASE = f"/api/v1/authorities/{STOKE}/enquiries"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The cache's clock, moved by hand; the cache emptied before and after."""
    clock, saved = Clock(), access.verified_tokens.clock
    access.verified_tokens.clock = clock
    access.verified_tokens.forget()
    yield clock
    access.verified_tokens.clock = saved
    access.verified_tokens.forget()


def _verify(db, secret: str) -> access.Caller | None:
    with db.read_session() as session:
        return caller_for(session, secret)


def _token_id(db, secret: str) -> int:
    caller = _verify(db, secret)
    assert caller is not None and caller.token_id is not None
    return caller.token_id


def test_a_revoked_token_is_refused_at_once_though_it_was_just_verified(client, tokens, db, clock):
    secret = tokens["recruiter_stoke"]
    assert client.get(BASE, headers=bearer(secret)).status_code == 200
    token_id = _token_id(db, secret)
    with db.writing() as session:
        revoke_token(session, token_id)
    assert _verify(db, secret) is None
    assert client.get(BASE, headers=bearer(secret)).status_code == 401


def test_a_revocation_through_the_admin_api_takes_effect_on_the_next_request(
    client, tokens, db, clock
):
    secret = tokens["recruiter_stoke"]
    assert client.get(BASE, headers=bearer(secret)).status_code == 200
    token_id = _token_id(db, secret)
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(tokens["admin"]))
    assert revoked.status_code == 200, revoked.text
    assert client.get(BASE, headers=bearer(secret)).status_code == 401


def test_a_row_changed_by_another_process_is_served_until_the_cache_expires(tokens, db, clock):
    secret = tokens["recruiter_stoke"]
    assert _verify(db, secret) is not None
    # Another process revokes it: this process's cache cannot know until it expires.
    with db.writing() as session:
        session.execute(
            update(ApiToken).where(ApiToken.name == "recruiter_stoke").values(revoked_at=utcnow())
        )
    clock.now += access.verified_tokens.ttl - 0.5
    assert _verify(db, secret) is not None
    clock.now += 1.0
    assert _verify(db, secret) is None


def test_a_token_differing_by_one_character_is_not_served_from_the_cache(tokens, db, clock):
    secret = tokens["recruiter_stoke"]
    assert _verify(db, secret) is not None
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert _verify(db, changed) is None


def test_issuing_a_token_drops_held_callers_so_a_changed_role_shows_at_once(tokens, db, clock):
    secret = tokens["recruiter_stoke"]
    held = _verify(db, secret)
    assert held is not None and held.role is Role.RECRUITER
    with db.writing() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.name == "recruiter_stoke")
            .values(role=Role.MANAGER.value)
        )
        issue_token(session, role=Role.ADMIN, name="another")
    caller = _verify(db, secret)
    assert caller is not None and caller.role is Role.MANAGER


def test_an_unknown_token_is_looked_up_every_time_and_never_held(tokens, db, clock):
    with db.writing() as session:
        issued = issue_token(session, role=Role.RECRUITER, name="late", authority_code=STOKE)
        token_id = issued.record.id
        # Not yet committed: another session does not see it.
        assert _verify(db, issued.secret) is None
    assert _verify(db, issued.secret) is not None
    with db.writing() as session:
        revoke_token(session, token_id)
    assert _verify(db, issued.secret) is None
