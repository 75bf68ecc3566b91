"""Security headers on every response (OWASP API8: security misconfiguration).

A `before_send` hook, so errors, redirects and Litestar's own 404 and 405 answers get them
too. A header a route or the dashboard has already set is left as it is: the dashboard sets
its own Content-Security-Policy for its pages; the regional capacity API its own caching.
"""

from __future__ import annotations

from litestar.types import Message, Scope

# A JSON or file response runs nothing and embeds nothing (OWASP REST Security Cheat Sheet).
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
# HTML this hook does not know (the API docs): at least never framed.
PAGE_POLICY = "frame-ancestors 'none'"
HSTS = "max-age=31536000"
ALWAYS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}
CREDENTIALS = (b"authorization", b"cookie")
_ALWAYS = [(name.encode(), value.encode()) for name, value in ALWAYS.items()]


def _presents_credentials(scope: Scope) -> bool:
    return any(name in CREDENTIALS for name, _ in scope.get("headers", ()))


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add the headers a response lacks: nosniff, no framing, no referrer, a CSP, HSTS over
    HTTPS, and `Cache-Control: no-store` on the API and on anything answered to credentials.
    The response's header names are read once and the missing ones appended as raw pairs."""
    if message["type"] != "http.response.start" or scope.get("type") != "http":
        return
    headers = list(message.get("headers", ()))
    present = {bytes(name).lower(): bytes(value) for name, value in headers}
    added = [(name, value) for name, value in _ALWAYS if name not in present]
    if b"content-security-policy" not in present:
        html = present.get(b"content-type", b"").startswith(b"text/html")
        added.append((b"content-security-policy", (PAGE_POLICY if html else API_POLICY).encode()))
    if b"cache-control" not in present and (
        scope.get("path", "").startswith("/api/") or _presents_credentials(scope)
    ):
        added.append((b"cache-control", b"no-store"))
    if scope.get("scheme") == "https" and b"strict-transport-security" not in present:
        added.append((b"strict-transport-security", HSTS.encode()))
    message["headers"] = [*headers, *added]
