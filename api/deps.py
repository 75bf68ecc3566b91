"""Dependencies every controller shares: sessions, the caller, today, the authority in scope."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import may_reach_authority
from api.idempotency.middleware import IdempotencyKeyHeader, write_session
from tracker.core.access import Caller
from tracker.core.authorities import Authority
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.enquiries.timeliness import london_today


def provide_database(state: State) -> Database:
    """The installation's database."""
    return state.database  # type: ignore[no-any-return]


def provide_settings(state: State) -> Settings:
    """The installation's settings."""
    return state.settings  # type: ignore[no-any-return]


def provide_session(state: State) -> Iterator[Session]:
    """A read session for one request, closed after it."""
    with state.database.read_session() as session:
        yield session


async def provide_write_session(
    state: State, request: Request, idempotency_key: IdempotencyKeyHeader = None
) -> AsyncIterator[Session]:
    """A write session for one request; the service function decides when to commit.

    Under an Idempotency-Key the session claims the key in its transaction and commits once
    the response is stored with it (api.idempotency); the parameter documents the header.
    Asynchronous so that its clean-up needs no worker thread: a request still holding
    SQLite's write lock must never wait for a thread that requests waiting for the lock hold.
    """
    with write_session(request, state.database) as session:
        yield session


def provide_caller(request: Request) -> Caller:
    """The authenticated caller (the access guard has already refused anyone else)."""
    return request.user  # type: ignore[no-any-return]


def provide_today() -> date:
    """Today in England."""
    return london_today()


class AuthorityRegions:
    """Each authority's region, held in memory so checking a path's authority costs no query.

    Authorities change rarely: the map reloads when a code is missing (at most once a
    second), when it is older than a minute, and when this process adds an authority.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._regions: dict[str, str] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _reload(self) -> None:
        with self._database.read_session() as session:
            rows = session.execute(select(Authority.code, Authority.region)).all()
        self._regions = {code: region for code, region in rows}
        self._loaded_at = time.monotonic()

    def region_of(self, code: str) -> str | None:
        """The authority's region, or None when there is no such authority."""
        age = time.monotonic() - self._loaded_at
        if age > 60 or (code not in self._regions and age > 1):
            with self._lock:
                self._reload()
        return self._regions.get(code)

    def invalidate(self) -> None:
        """Forget the map (after this process adds or changes an authority)."""
        self._loaded_at = 0.0


def authority_in_scope(request: Request, state: State, code: str) -> str:
    """The path's authority code, once the caller is known to reach it for this route."""
    caller: Caller = request.user
    region = state.regions.region_of(code)
    if region is None:
        raise NotFoundException(f"no authority with code {code}")
    kind = request.route_handler.opt.get("access", "")
    if not may_reach_authority(caller, code, region, kind):
        raise PermissionDeniedException(f"this token may not reach authority {code} here")
    return code


# Route-level dependencies the controllers share: a writing session, and the path's authority.
WRITING = {"session": Provide(provide_write_session)}
# A write session beside the read `session`, for routes that read long (imports, exports) and
# write briefly: its transaction, and on SQLite the write lock, begins at its first use.
WRITER = {"writer": Provide(provide_write_session)}
IN_SCOPE = {"authority": Provide(authority_in_scope, sync_to_thread=False)}
