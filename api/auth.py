"""Bearer-token authentication: puts the `Caller` on each request's scope."""

from __future__ import annotations

from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from tracker.access import Caller, caller_for
from tracker.db import Database


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Look the presented token up; anonymous requests go on with no user.

    Routes decide whether anonymous is enough (the access guard refuses it everywhere
    except the public routes: health, the docs and static files).
    """

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        """Return the caller for a valid token, or no user."""
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return AuthenticationResult(user=None, auth=None)
        database: Database = connection.app.state.database
        caller = await sync_to_thread(_lookup, database, secret.strip())
        return AuthenticationResult(user=caller, auth=secret if caller else None)


def _lookup(database: Database, secret: str) -> Caller | None:
    with database.read_session() as session:
        return caller_for(session, secret)
