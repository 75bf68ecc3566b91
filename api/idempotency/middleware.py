"""`Idempotency-Key` on requests that write: a retry with the same key gets the first response.

One mechanism for every POST, PATCH and DELETE route that writes through the request's write
session (`api.deps.WRITING`), which every create route does:

1. `IdempotencyMiddleware` checks the header (1 to 200 printable ASCII characters, else 400
   naming it), reads the body and fingerprints the request (method, path with query, SHA-256
   of the body). Requests without the header, or from no token, pass untouched.
2. The write session of such a request (`write_session`) claims the key when its transaction
   begins, on the handler's thread: the pending row goes into the same transaction as the
   change. The handler's own `commit()` only flushes.
3. Once the response is rendered, the middleware stores it on the claimed row and commits
   change and key together (2xx responses), or rolls both back (anything else: nothing was
   created, and a retry runs again). Only then does the client get the response.

A retry with the same key and the same request gets the stored status, body and content type
(plus ETag, Location and Link) with `Idempotent-Replayed: true`; the same key with another
request gets 422. Two requests with one key at once: the second waits for the first's
transaction (SQLite's write lock, PostgreSQL's unique index) and is answered from the store.
Keys belong to the token that sent them and expire after 24 hours (expired keys are purged
by the writes that claim keys, at most every ten minutes per process).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Annotated, Any

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.middleware import ASGIMiddleware
from litestar.params import HeaderParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

from api.errors import domain_error, problem
from api.idempotency import store as idempotency
from api.idempotency.store import HEADER, RequestPrint, StoredResponse
from tracker.core.db import Database
from tracker.core.errors import DomainError

log = logging.getLogger("fostering.api")
METHODS = frozenset({"POST", "PATCH", "DELETE"})
SCOPE_KEY = "fostering.idempotency"
REPLAYED = "Idempotent-Replayed"
PURGE_EVERY_S = 600.0

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        required=False,
        max_length=idempotency.MAX_KEY_LENGTH,
        description=(
            "On POST, PATCH and DELETE: a key of your choosing (a UUID, say; up to 200 "
            "printable ASCII characters). A retry with the same key and the same request "
            "gets the first response again, with `Idempotent-Replayed: true`, and changes "
            "nothing; the same key with a different request gets 422. Keys last 24 hours "
            "and belong to the token."
        ),
    ),
]

# Stores responses and commits: its own threads, so that a request holding SQLite's write
# lock never waits for a server thread that another request, waiting for the lock, holds.
_finishers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="idempotency")
_purge_lock = threading.Lock()
_purged_at = 0.0


class IdempotencyAnswer(Exception):
    """Answer the request with `response` instead of running the handler (a replay, or a
    refusal of a key used for another request)."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__("idempotency answer")
        self.response = response


def answer(_: Request, exc: IdempotencyAnswer) -> Response[Any]:
    """The exception handler that sends an `IdempotencyAnswer`'s response."""
    return exc.response


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {IdempotencyAnswer: answer}


def replay(stored: StoredResponse) -> Response[bytes]:
    """The stored response, marked as a replay."""
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=stored.content_type or None,
        headers={**stored.headers, REPLAYED: "true"},
    )


class _KeyedSession(Session):
    """A request's write session under an Idempotency-Key: `commit()` only flushes, so the
    change commits with its key once the response is stored (`commit_with_response`)."""

    def commit(self) -> None:
        self.flush()

    def commit_with_response(self) -> None:
        super().commit()


class _Keyed:
    """One keyed request: its key and fingerprint, then its session and claim."""

    def __init__(
        self, request: Request, token_id: int, key: str, fingerprint: RequestPrint
    ) -> None:
        self.request = request
        self.token_id = token_id
        self.key = key
        self.fingerprint = fingerprint
        self.session: _KeyedSession | None = None
        self.claimed = False
        self.record_id: int | None = None
        # Answered from the store (or refused) when the key was claimed: nothing to commit.
        self.answered = False

    def on_begin(self, _session: Session, _tx: SessionTransaction, connection: Connection) -> None:
        """Claim the key when the session's first transaction begins (on the handler's thread,
        inside the transaction that makes the change)."""
        if self.claimed:
            return
        self.claimed = True
        try:
            found = idempotency.claim(connection, self.token_id, self.key, self.fingerprint)
        except DomainError as exc:
            self.answered = True
            raise IdempotencyAnswer(domain_error(self.request, exc)) from None
        if found.stored is not None:
            self.answered = True
            raise IdempotencyAnswer(replay(found.stored))
        self.record_id = found.record_id
        _purge_now_and_then(connection)

    def finish(self, status: int | None, body: bytes, headers: dict[str, str]) -> None:
        """Store a 2xx response with the key and commit both; roll anything else back."""
        session = self.session
        if session is None:
            return
        try:
            if self.answered or status is None or not 200 <= status < 300:
                session.rollback()
                return
            if self.record_id is not None and session.in_transaction():
                idempotency.complete(
                    session.connection(),
                    self.record_id,
                    StoredResponse(
                        status_code=status,
                        body=body,
                        content_type=headers.get("content-type", ""),
                        headers=idempotency.replay_headers(headers),
                    ),
                )
            session.commit_with_response()
        finally:
            session.close()


def _purge_now_and_then(connection: Connection) -> None:
    global _purged_at
    now = time.monotonic()
    if now - _purged_at < PURGE_EVERY_S or not _purge_lock.acquire(blocking=False):
        return
    try:
        _purged_at = now
        idempotency.purge_expired(connection)
    finally:
        _purge_lock.release()


def is_keyed(request: Request) -> bool:
    """Whether the request came with an Idempotency-Key (its write session is a keyed one)."""
    return request.scope.get(SCOPE_KEY) is not None


@contextmanager
def write_session(request: Request, database: Database) -> Iterator[Session]:
    """The request's write session: a plain one, or under an Idempotency-Key one that claims
    the key in its transaction and commits when the middleware has stored the response."""
    keyed: _Keyed | None = request.scope.get(SCOPE_KEY)  # type: ignore[assignment]
    if keyed is None or keyed.session is not None:
        with database.write_session() as session:
            yield session
        return
    plain = database.write_session()
    session = _KeyedSession(bind=plain.bind, expire_on_commit=False)
    plain.close()
    event.listen(session, "after_begin", keyed.on_begin)
    keyed.session = session
    yield session  # the middleware commits or rolls back, and closes it


async def _buffered_body(receive: Receive, limit: int | None) -> tuple[bytes | None, list[Message]]:
    """The whole request body and the messages that carried it; None when it passes `limit`
    (the route's own limit then answers 413)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"".join(chunks), messages
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None, messages
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def receive_again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return receive_again


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class IdempotencyMiddleware(ASGIMiddleware):
    """Answer retried writes from the store; see the module's docstring."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        raw = _header(scope, b"idempotency-key") if scope["method"] in METHODS else None
        token_id = getattr(scope.get("user"), "token_id", None)
        if raw is None or token_id is None:
            await next_app(scope, receive, send)
            return
        try:
            key = idempotency.check_key(raw)
        except DomainError as exc:
            raise ClientException(exc.message, extra={"field": HEADER}) from None
        limit = scope["route_handler"].resolve_request_max_body_size()
        length = _header(scope, b"content-length")
        if limit is not None and length is not None and length.isdigit() and int(length) > limit:
            await next_app(scope, receive, send)
            return
        body, messages = await _buffered_body(receive, limit)
        receive = _replaying(messages, receive)
        if body is None:
            await next_app(scope, receive, send)
            return
        fingerprint = idempotency.request_print(
            scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"), body
        )
        keyed = _Keyed(Request(scope, receive), token_id, key, fingerprint)
        scope[SCOPE_KEY] = keyed  # type: ignore[literal-required]

        sent: list[Message] = []

        async def hold(message: Message) -> None:
            sent.append(message)

        loop = asyncio.get_running_loop()
        try:
            await next_app(scope, receive, hold)
        except BaseException:
            await loop.run_in_executor(_finishers, keyed.finish, None, b"", {})
            raise
        start = next((m for m in sent if m["type"] == "http.response.start"), None)
        status = start["status"] if start else None
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in (start or {}).get("headers", [])
        }
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        try:
            await loop.run_in_executor(_finishers, keyed.finish, status, content, headers)
        except Exception:
            log.exception("could not store the response of an idempotent request")
            failed = problem(
                503,
                "database_unavailable",
                "the change could not be stored; retry with the same Idempotency-Key",
            ).to_asgi_response(app=None, request=keyed.request)
            await failed(scope, receive, send)
            return
        for message in sent:
            await send(message)
