"""A limit on failed authentications per client address (OWASP API2, API4).

Litestar's `RateLimitConfig` counts every request; this counts only failures: a bearer token
that is unknown, revoked or malformed. Past `limit` failures within a minute, the address's
further failures get 429 and `Retry-After` (until its oldest failure leaves the window)
instead of 401. A valid token is never refused: a whole office behind one address must not
be locked out by one stale script, and a token (32 random bytes) cannot be guessed, so the
limit slows probing without blocking anyone who holds a credential.

Kept in memory per process: with several workers each counts its own failures. The client
address is the one the ASGI server reports: `fostering serve` lets uvicorn take it from
X-Forwarded-For only when a proxy of `FOSTERING_TRUSTED_PROXIES` sent the request, so a
client cannot spread its failures over made-up addresses.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException

WINDOW_S = 60.0
# Addresses remembered at most; the least recently failing are forgotten first.
MAX_CLIENTS = 10_000


class FailedAuthLimiter:
    """Failed authentications per client address in a sliding window of one minute."""

    def __init__(
        self,
        limit: int,
        window_s: float = WINDOW_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds the client must wait before authenticating again, or None if it may now."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self._clock()
            failures = self._recent(client, now)
            if failures is None or len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[-self.limit] + self.window_s - now))

    def record_failure(self, client: str) -> None:
        """Count one failed authentication from the client."""
        if self.limit <= 0:
            return
        with self._lock:
            now = self._clock()
            failures = self._recent(client, now) or deque(maxlen=self.limit)
            failures.append(now)
            self._failures[client] = failures
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)


def client_address(connection: ASGIConnection) -> str:
    """The address the failures of this connection are counted against."""
    return connection.client.host if connection.client else "unknown"


def record_failure(connection: ASGIConnection) -> None:
    """Count a failed authentication (an unknown, revoked or malformed credential), or raise
    429 with Retry-After when this client is already past the limit."""
    limiter: FailedAuthLimiter | None = connection.app.state.get("auth_limiter")
    if limiter is None:
        return
    client = client_address(connection)
    wait = limiter.retry_after(client)
    if wait is not None:
        raise TooManyRequestsException(
            "too many failed authentications from this address; retry later",
            headers={"Retry-After": str(wait)},
        )
    limiter.record_failure(client)
