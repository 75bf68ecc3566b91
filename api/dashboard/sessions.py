"""Dashboard sign-in sessions: a random cookie secret bound to an API token (digest stored).

A browser signs in with its API token once; it then holds a session cookie whose secret is
shown to it only, like a token's: the table keeps its SHA-256 digest. A session acts as its
token and lasts `SESSION_LIFETIME` from sign-in, or until its token expires if that is
sooner; it stops at once when the token is revoked (every lookup reads the token row) or when
the browser signs out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from tracker.core import audit
from tracker.core.access import (
    ApiToken,
    Caller,
    Role,
    TokenExpired,
    TokenRecord,
    revoke_token,
    verify_token,
)
from tracker.core.authorities import get_authority
from tracker.core.clock import utcnow

SESSION_LIFETIME = timedelta(hours=8)


class WebSession(SQLModel, table=True):
    """A signed-in browser: the SHA-256 digest of its cookie secret, and the token it acts as."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(sa_type=String(64), unique=True)
    token_id: int = Field(sa_column_args=[ForeignKey("api_token.id")], index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class StartedSession(msgspec.Struct, frozen=True, kw_only=True):
    """A new session: `secret` goes in the browser's cookie and is stored nowhere else."""

    id: int
    secret: str
    expires_at: datetime
    caller: Caller


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def start_session(
    session: Session, token_secret: str, *, now: datetime | None = None
) -> StartedSession | TokenExpired | None:
    """Sign in with an API token: a new session for it, ending when its token expires if
    that is within `SESSION_LIFETIME`; `TokenExpired` for an expired token, None for an
    unknown or revoked one. Sessions that have expired are removed on the way."""
    caller = verify_token(session, token_secret.strip())
    if not isinstance(caller, Caller) or caller.token_id is None:
        return caller if isinstance(caller, TokenExpired) else None
    now = now or utcnow()
    purge_expired(session, now=now)
    token_expires = session.scalar(
        select(ApiToken.expires_at).where(ApiToken.id == caller.token_id)
    )
    expires_at = now + SESSION_LIFETIME
    if token_expires is not None:
        expires_at = min(expires_at, _aware(token_expires))
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        digest=_digest(secret),
        token_id=caller.token_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return StartedSession(id=row.id, secret=secret, expires_at=expires_at, caller=caller)


def caller_for_session(
    session: Session, secret: str, *, now: datetime | None = None
) -> Caller | None:
    """The caller a session cookie stands for, or None when it is unknown, expired, or its
    token has been revoked or has expired."""
    if not secret:
        return None
    now = now or utcnow()
    found = session.execute(
        select(WebSession.expires_at, ApiToken)
        .join(ApiToken, col(ApiToken.id) == col(WebSession.token_id))
        .where(WebSession.digest == _digest(secret))
    ).first()
    if found is None:
        return None
    expires_at, token = found
    if _aware(expires_at) <= now or token.revoked_at is not None:
        return None
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        return None
    region = token.region
    if token.authority_code is not None and region is None:
        region = get_authority(session, token.authority_code).region
    return Caller(
        token_id=token.id,
        name=token.name,
        role=Role(token.role),
        authority_code=token.authority_code,
        region=region,
        hub_id=token.hub_id,
    )


def end_session(session: Session, secret: str) -> bool:
    """Sign out: remove the session; False when there was none."""
    result = session.execute(delete(WebSession).where(WebSession.digest == _digest(secret)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_sessions_of_token(session: Session, token_id: int) -> int:
    """Remove every session of a token (after revoking it, say); returns how many."""
    result = session.execute(delete(WebSession).where(WebSession.token_id == token_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Remove sessions past their expiry; returns how many."""
    now = now or utcnow()
    result = session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def csrf_token(session_secret: str) -> str:
    """The form token of a signed-in browser: derived from its session secret, which only the
    browser's HttpOnly cookie holds, so another site can neither read nor forge it."""
    return hmac.new(session_secret.encode(), b"dashboard-csrf", hashlib.sha256).hexdigest()


def csrf_token_matches(session_secret: str, presented: str) -> bool:
    """Whether a form's token is the one of this session (compared in constant time)."""
    return hmac.compare_digest(csrf_token(session_secret), presented)


def revoke(session: Session, caller: Caller, token_id: int) -> TokenRecord:
    """Revoke a token (audited) and end the dashboard sessions it signed in."""
    record = revoke_token(session, token_id)
    audit.record(session, caller, "revoke", "token", token_id, authority_code=record.authority_code)
    end_sessions_of_token(session, token_id)
    return record
