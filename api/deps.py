"""Dependencies every controller shares: sessions, the caller, today, the authority in scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy.orm import Session

from api.access import may_reach_authority
from tracker.access import Caller
from tracker.authorities import Authority
from tracker.db import Database
from tracker.settings import Settings
from tracker.timeliness import london_today


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


def provide_write_session(state: State) -> Iterator[Session]:
    """A write session for one request; the service function decides when to commit."""
    with state.database.write_session() as session:
        yield session


def provide_caller(request: Request) -> Caller:
    """The authenticated caller (the access guard has already refused anyone else)."""
    return request.user  # type: ignore[no-any-return]


def provide_today() -> date:
    """Today in England."""
    return london_today()


def authority_in_scope(request: Request, session: Session, code: str) -> str:
    """The path's authority code, once the caller is known to reach it for this route."""
    caller: Caller = request.user
    authority = session.get(Authority, code)
    if authority is None:
        raise NotFoundException(f"no authority with code {code}")
    kind = request.route_handler.opt.get("access", "")
    if not may_reach_authority(caller, authority.code, authority.region, kind):
        raise PermissionDeniedException(f"this token may not reach authority {code} here")
    return authority.code
