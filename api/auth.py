"""Bearer-token authentication: puts the `Caller` on each request's scope.

The dashboard's pages (under /dashboard only) also accept the session cookie a browser gets
when it signs in there; every other route, the JSON API included, takes the bearer token
alone, so a cookie can never authorise an API call.
"""

from __future__ import annotations

import re

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.dashboard.security import SESSION_COOKIE
from api.dashboard.sessions import caller_for_session
from api.rate_limit import record_failure
from tracker.core.access import Caller, TokenExpired, held_caller, verify_token
from tracker.core.db import Database

DASHBOARD = re.compile(r"^/dashboard(?:/|$)")


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Look the presented token up; anonymous requests go on with no user.

    Routes decide whether anonymous is enough (the access guard refuses it everywhere
    except the public routes: health, the docs and static files). An Authorization header
    that fails (unknown, revoked, expired or not a bearer token) counts against the client's
    address; past the limit its failures get 429 (`api.rate_limit`); a valid token always
    passes. An expired token goes on with `TokenExpired` as its auth, so the access guard's
    401 says it expired.
    """

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        """Return the caller for a valid token, or no user."""
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        database: Database = connection.app.state.database
        if scheme.lower() != "bearer" or not secret.strip():
            if header:
                record_failure(connection)
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie and DASHBOARD.match(connection.scope["path"]):
                caller = await sync_to_thread(_session_lookup, database, cookie)
                return AuthenticationResult(user=caller, auth=None)
            return AuthenticationResult(user=None, auth=None)
        # A token verified in the last few seconds needs no worker thread and no session.
        verified = held_caller(secret.strip()) or await sync_to_thread(
            _lookup, database, secret.strip()
        )
        if isinstance(verified, Caller):
            return AuthenticationResult(user=verified, auth=secret)
        record_failure(connection)
        return AuthenticationResult(user=None, auth=verified)


def _lookup(database: Database, secret: str) -> Caller | TokenExpired | None:
    with database.read_session() as session:
        return verify_token(session, secret)


def _session_lookup(database: Database, secret: str) -> Caller | None:
    with database.read_session() as session:
        return caller_for_session(session, secret)
