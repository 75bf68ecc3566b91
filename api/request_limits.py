"""Requests per token and minute (OWASP API4), with Litestar's rate-limit middleware.

Every authenticated request counts against its token (anonymous ones against the client
address): past `FOSTERING_REQUESTS_PER_MINUTE` in a minute the caller gets 429 with
`RateLimit-*` headers saying when the window resets. Expensive routes (imports, exports,
the regional view, starting a forecast run: their handlers carry `opt={"expensive": True}`)
also count against a much smaller allowance, `FOSTERING_EXPENSIVE_REQUESTS_PER_MINUTE`.
Public routes (health, the docs, static files) are not counted; 0 turns a limit off. Counts
are kept in memory per process, as Litestar's default store keeps them.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from api.rate_limit import client_address
from tracker.core.access import Caller
from tracker.core.settings import Settings

EXPENSIVE = "expensive"


def caller_key(request: Request[Any, Any, Any]) -> str:
    """What a request counts against: its token, else (not signed in) its client address."""
    caller = request.scope.get("user")
    if isinstance(caller, Caller) and caller.token_id is not None:
        return f"token:{caller.token_id}"
    return f"address:{client_address(request)}"


class ExpensiveRoutesOnly:
    """Litestar's rate-limit middleware on the expensive routes alone: any other request
    passes straight on, without the Request, the store and the lock a limited one costs."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        self.app = app
        self.limited = RateLimitMiddleware(app=app, config=config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if scope["type"] == "http" and handler is not None and handler.opt.get(EXPENSIVE):
            await self.limited(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def request_limits(settings: Settings) -> list[DefineMiddleware]:
    """The rate-limit middleware the settings ask for (after authentication, so the caller
    is known)."""
    limits = []
    if settings.requests_per_minute > 0:
        config = RateLimitConfig(
            rate_limit=("minute", settings.requests_per_minute),
            identifier_for_request=caller_key,
            exclude_opt_key="public",
            store="requests_per_token",
        )
        limits.append(config.middleware)
    if settings.expensive_requests_per_minute > 0:
        expensive = RateLimitConfig(
            rate_limit=("minute", settings.expensive_requests_per_minute),
            identifier_for_request=caller_key,
            exclude_opt_key="public",
            store="expensive_requests_per_token",
            set_rate_limit_headers=False,
        )
        limits.append(DefineMiddleware(ExpensiveRoutesOnly, config=expensive))
    return limits
