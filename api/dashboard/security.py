"""The dashboard's browser protections: security headers, session cookie, CSRF tokens.

Headers: a Content-Security-Policy that runs only the service's own script files (no inline
script, no eval), refuses framing, and sends forms only to the service; plus nosniff,
no-referrer and no caching of pages. Plotly.js adds its own <style> rules at run time, so
styles allow 'unsafe-inline' (styles cannot run code).

CSRF: every form carries a token. Signed in, it is derived from the session's secret
(`api.dashboard.sessions.csrf_token`), which only the HttpOnly session cookie holds; before
sign-in it is a random value the sign-in page also sets as a cookie (double submit). The
cookies are SameSite=Strict as well, and a request the browser marks cross-site is refused.
"""

from __future__ import annotations

import hmac
import math
import secrets
from datetime import timedelta
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.dashboard.sessions import SESSION_LIFETIME, csrf_token, csrf_token_matches

SESSION_COOKIE = "fostering_session"
SIGN_IN_COOKIE = "fostering_sign_in"
COOKIE_PATH = "/dashboard"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
NO_STORE = "no-store"


class SecurityHeadersMiddleware:
    """Adds the security headers to every dashboard response (errors and redirects too), and
    `Cache-Control: no-store` where the response sets no caching of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if headers.get("cache-control") is None:
                    headers["cache-control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_https(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser reached the service over HTTPS."""
    return request.url.scheme == "https"


def session_cookie(
    request: Request[Any, Any, Any], secret: str, lifetime: timedelta = SESSION_LIFETIME
) -> Cookie:
    """The signed-in browser's cookie: HttpOnly, SameSite=Strict, the dashboard's path only,
    Secure over HTTPS, gone after the session's lifetime (shorter when its token expires
    sooner)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        path=COOKIE_PATH,
        max_age=max(1, math.ceil(min(lifetime, SESSION_LIFETIME).total_seconds())),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def sign_in_cookie(request: Request[Any, Any, Any], value: str) -> Cookie:
    """The sign-in form's double-submit token (for the length of a browser session)."""
    return Cookie(
        key=SIGN_IN_COOKIE,
        value=value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def expired(name: str) -> Cookie:
    """A cookie that removes the browser's copy."""
    return Cookie(key=name, value="", path=COOKIE_PATH, max_age=0, httponly=True, samesite="strict")


def new_sign_in_token() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(24)


def form_token(request: Request[Any, Any, Any]) -> str | None:
    """The CSRF token the signed-in browser's forms carry."""
    secret = request.cookies.get(SESSION_COOKIE)
    return csrf_token(secret) if secret else None


def refuse_cross_site(request: Request[Any, Any, Any]) -> None:
    """Refuse a form the browser says came from another site."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        raise PermissionDeniedException("forms are accepted from this service's pages only")


def check_signed_in_form(request: Request[Any, Any, Any], presented: str | None) -> None:
    """Refuse a signed-in form whose CSRF token is missing or wrong."""
    refuse_cross_site(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or not presented or not csrf_token_matches(secret, presented):
        raise PermissionDeniedException("the form has expired or did not come from this site")


def check_sign_in_form(request: Request[Any, Any, Any], presented: str | None) -> None:
    """Refuse a sign-in form whose token does not match the sign-in cookie."""
    refuse_cross_site(request)
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise PermissionDeniedException(
            "the sign-in form has expired or did not come from this site: open it again"
        )


def with_cookies(response: Response[Any], *cookies: Cookie) -> Response[Any]:
    """The response with these cookies set."""
    for cookie in cookies:
        response.set_cookie(cookie)
    return response
