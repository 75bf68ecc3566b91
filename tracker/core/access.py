"""Bearer tokens, roles and the caller they identify.

A token is shown once when created; only its SHA-256 digest is stored. Tokens are 32
random bytes, so a fast digest is enough: there is nothing to brute-force. A token may have
an expiry (`expires_at`); past it the token is refused as expired, like a revoked one but
saying so. Tokens created before expiries existed have none (they never expire).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from tracker.core.authorities import Authority, get_authority
from tracker.core.clock import utcnow
from tracker.core.errors import DomainError, InvalidValueError, NotFoundError
from tracker.core.regions import region_named
from tracker.hubs.tables import Hub

TOKEN_PREFIX = "fost_"


class Role(enum.StrEnum):
    """What a token may do; the route table in `api.access` says where."""

    RECRUITER = "recruiter"
    MANAGER = "manager"
    REGIONAL = "regional"
    HUB = "hub"
    ADMIN = "admin"


class ApiToken(SQLModel, table=True):
    """A stored bearer token (its digest only)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(120))
    role: str = Field(sa_type=String(20))
    authority_code: str | None = Field(
        default=None, sa_type=String(9), sa_column_args=[ForeignKey("authority.code")]
    )
    region: str | None = Field(default=None, sa_type=String(60))
    hub_id: int | None = Field(default=None, sa_column_args=[ForeignKey("hub.id")])
    digest: str = Field(sa_type=String(64), unique=True)
    hint: str = Field(sa_type=String(12))
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    # None: the token never expires.
    expires_at: datetime | None = None


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the identity every service function and audit entry uses."""

    token_id: int | None
    name: str
    role: Role
    authority_code: str | None = None
    region: str | None = None
    hub_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.role}:{self.name}" + (f"#{self.token_id}" if self.token_id else "")


SYSTEM = Caller(token_id=None, name="system", role=Role.ADMIN)


class TokenRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A token as listed: never the secret itself."""

    id: int
    name: str
    role: Role
    authority_code: str | None
    region: str | None
    hub_id: int | None = None
    hint: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    """A new token: `secret` is shown this once and never again."""

    record: TokenRecord
    secret: str


def digest(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _record(row: ApiToken) -> TokenRecord:
    assert row.id is not None
    return TokenRecord(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        authority_code=row.authority_code,
        region=row.region,
        hub_id=row.hub_id,
        hint=row.hint,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
    )


# The longest a token may be given to live, in days (ten years).
MAX_TOKEN_DAYS = 3650


def expiry_after(days: int | None, *, now: datetime | None = None) -> datetime | None:
    """The expiry of a token made now to live `days` days (None: it never expires)."""
    if days is None:
        return None
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidValueError(
            f"a token lives from 1 to {MAX_TOKEN_DAYS} days, not {days}", field="expires_in_days"
        )
    return (now or utcnow()) + timedelta(days=days)


class TokenExpired(msgspec.Struct, frozen=True, kw_only=True):
    """What a known, unrevoked token past its expiry verifies as (never a caller)."""

    expired_at: datetime


# The scope each role's token is given by: any other scope given is refused, never dropped.
SCOPES: dict[Role, frozenset[str]] = {
    Role.RECRUITER: frozenset({"authority_code"}),
    Role.MANAGER: frozenset({"authority_code"}),
    Role.REGIONAL: frozenset({"authority_code", "region"}),
    Role.HUB: frozenset({"hub_id"}),
    Role.ADMIN: frozenset(),
}


def issue_token(
    session: Session,
    *,
    role: Role,
    name: str,
    authority_code: str | None = None,
    region: str | None = None,
    hub_id: int | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Create a token for a role; recruiter and manager need an authority, regional a region,
    hub a hub, and a scope the role does not take is refused (`not_for_role`, naming it).

    A regional token given an authority reads that authority's region. `expires_at` (None:
    never) must be in the future; `expiry_after` makes it from a number of days.
    """
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidValueError("a token's expiry must be in the future", field="expires_at")
    given = {"authority_code": authority_code, "region": region, "hub_id": hub_id}
    for field, value in given.items():
        if value is not None and field not in SCOPES[role]:
            takes = ", ".join(sorted(SCOPES[role])) or "none"
            raise DomainError(
                f"{field} does not apply to {role} tokens (their scope: {takes})",
                rule="not_for_role",
                field=field,
            )
    if role is Role.HUB:
        return _issue_hub_token(session, name=name, hub_id=hub_id, expires_at=expires_at)
    if role in (Role.RECRUITER, Role.MANAGER) and authority_code is None:
        raise InvalidValueError(f"a {role} token needs an authority", field="authority_code")
    if authority_code is not None:
        authority = get_authority(session, authority_code)
        if role is Role.REGIONAL:
            if region is not None and _known_region(session, region) != authority.region:
                raise InvalidValueError(
                    f"{authority.code} is in {authority.region}, not {region}: give one of the two",
                    field="authority_code",
                )
            region = region or authority.region
            authority_code = None
    if role is Role.REGIONAL and not region:
        raise InvalidValueError("a regional token needs a region or an authority", field="region")
    if role is Role.REGIONAL and region:
        region = _known_region(session, region)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        role=role.value,
        authority_code=authority_code,
        region=region if role is Role.REGIONAL else None,
        digest=digest(secret),
        hint=secret[: len(TOKEN_PREFIX) + 4],
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    verified_tokens.forget_on_commit(session)
    return IssuedToken(record=_record(row), secret=secret)


def _issue_hub_token(
    session: Session, *, name: str, hub_id: int | None, expires_at: datetime | None
) -> IssuedToken:
    if hub_id is None:
        raise InvalidValueError("a hub token needs a hub", field="hub_id")
    if session.get(Hub, hub_id) is None:
        raise InvalidValueError(f"no hub with id {hub_id}", field="hub_id")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        role=Role.HUB.value,
        hub_id=hub_id,
        digest=digest(secret),
        hint=secret[: len(TOKEN_PREFIX) + 4],
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    verified_tokens.forget_on_commit(session)
    return IssuedToken(record=_record(row), secret=secret)


def _known_region(session: Session, region: str) -> str:
    """The region as the authorities spell it (matched without regard to case), from its
    name or its ONS code."""
    regions = session.scalars(select(Authority.region).distinct()).all()
    for known in regions:
        if known.casefold() == region_named(region).strip().casefold():
            return known
    raise InvalidValueError(
        f"no authority is in region {region!r} (known: {', '.join(sorted(regions)) or 'none'})",
        field="region",
    )


class VerifiedTokens:
    """Callers of recently verified tokens, keyed by the token's digest, for `ttl` seconds.

    Spares each request of a busy client the token query. Only valid tokens are held (an
    unknown or revoked one is looked up every time, and counts against its address). In this
    process a revocation or a new token takes effect at once: `revoke_token` and `issue_token`
    call `forget`, and again when their transaction commits; a lookup that began before a
    `forget` does not store its answer. Another process (a second server worker, the CLI)
    cannot clear this one's cache: there a revoked token, or a token whose row was changed,
    keeps working for at most `ttl` seconds.
    """

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._held: dict[str, tuple[float, Caller, datetime | None]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Caller | None:
        """The held caller for this digest, if verified less than `ttl` seconds ago and its
        token has not expired since."""
        held = self._held.get(key)
        if held is None or self.clock() - held[0] >= self.ttl:
            return None
        if held[2] is not None and held[2] <= utcnow():
            return None
        return held[1]

    def generation(self) -> int:
        """A number `forget` changes: pass it back to `put`."""
        return self._generation

    def put(
        self, key: str, caller: Caller, generation: int, expires_at: datetime | None = None
    ) -> None:
        """Hold a caller verified by a lookup begun at `generation` (unless forgotten since),
        no longer than its token's `expires_at`."""
        with self._lock:
            if generation == self._generation:
                if len(self._held) >= 10_000:
                    self._held.clear()
                self._held[key] = (self.clock(), caller, expires_at)

    def forget(self) -> None:
        """Drop every held caller (a token was revoked or issued)."""
        with self._lock:
            self._held.clear()
            self._generation += 1

    def forget_on_commit(self, session: Session) -> None:
        """Forget now and again once `session` commits, so no lookup that read the old row
        before the commit can keep it."""
        self.forget()
        event.listen(session, "after_commit", lambda _session: self.forget(), once=True)


verified_tokens = VerifiedTokens()


def held_caller(secret: str) -> Caller | None:
    """The caller of a token verified in the last few seconds, asking no database (None
    when it is not held: then use `caller_for`)."""
    return verified_tokens.get(digest(secret))


def caller_for(session: Session, secret: str) -> Caller | None:
    """The caller a presented token identifies, or None if unknown, revoked or expired (a
    valid one is held for a few seconds by `verified_tokens`)."""
    verified = verify_token(session, secret)
    return verified if isinstance(verified, Caller) else None


def verify_token(session: Session, secret: str) -> Caller | TokenExpired | None:
    """As `caller_for`, but a known, unrevoked token past its expiry is `TokenExpired`, so
    the refusal can say so."""
    key = digest(secret)
    caller = verified_tokens.get(key)
    if caller is not None:
        return caller
    generation = verified_tokens.generation()
    row = session.scalars(select(ApiToken).where(ApiToken.digest == key)).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return TokenExpired(expired_at=row.expires_at)
    region = row.region
    if row.authority_code is not None and region is None:
        region = get_authority(session, row.authority_code).region
    caller = Caller(
        token_id=row.id,
        name=row.name,
        role=Role(row.role),
        authority_code=row.authority_code,
        region=region,
        hub_id=row.hub_id,
    )
    verified_tokens.put(key, caller, generation, row.expires_at)
    return caller


def list_tokens(session: Session, include_revoked: bool = False) -> list[TokenRecord]:
    """Every token, newest first."""
    query = select(ApiToken).order_by(col(ApiToken.id).desc())
    if not include_revoked:
        query = query.where(col(ApiToken.revoked_at).is_(None))
    return [_record(r) for r in session.scalars(query)]


def _token_row(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"no token with id {token_id}", field="token_id")
    return row


def get_token(session: Session, token_id: int) -> TokenRecord:
    """One token (never its secret)."""
    return _record(_token_row(session, token_id))


def revoke_token(session: Session, token_id: int) -> TokenRecord:
    """Revoke a token; it stops working at once (`api.dashboard.sessions.revoke` also ends
    the dashboard sessions it signed in)."""
    row = _token_row(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    verified_tokens.forget_on_commit(session)
    return _record(row)
