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
from litestar.middleware.rate_limit import RateLimitConfig

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


def _is_expensive(request: Request[Any, Any, Any]) -> bool:
    return bool(request.scope["route_handler"].opt.get(EXPENSIVE))


def request_limits(settings: Settings) -> list[DefineMiddleware]:
    """The rate-limit middleware the settings ask for (after authentication, so the caller
    is known)."""
    configs = []
    if settings.requests_per_minute > 0:
        configs.append(
            RateLimitConfig(
                rate_limit=("minute", settings.requests_per_minute),
                identifier_for_request=caller_key,
                exclude_opt_key="public",
                store="requests_per_token",
            )
        )
    if settings.expensive_requests_per_minute > 0:
        configs.append(
            RateLimitConfig(
                rate_limit=("minute", settings.expensive_requests_per_minute),
                identifier_for_request=caller_key,
                check_throttle_handler=_is_expensive,
                exclude_opt_key="public",
                store="expensive_requests_per_token",
                set_rate_limit_headers=False,
            )
        )
    return [config.middleware for config in configs]
