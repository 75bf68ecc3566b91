"""The dashboard's errors as HTML pages: not signed in goes to the sign-in form (and back
afterwards); a refusal, a missing page or a bad address is a plain page saying so."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template

from api.access import RoleRefused
from api.dashboard.security import SESSION_COOKIE, expired, form_token
from tracker.core.access import Caller, Role
from tracker.core.errors import DomainError, NotFoundError

log = logging.getLogger("fostering.dashboard")
SIGN_OUT = "/dashboard/sign-out"


def _error_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    caller = request.scope.get("user")
    return Template(
        template_name="error.html",
        context={
            "status": status,
            "message": message,
            "signed_in": isinstance(caller, Caller),
            "csrf_token": form_token(request) if isinstance(caller, Caller) else None,
        },
        status_code=status,
    )


def _form_page(request: Request[Any, Any, Any]) -> str:
    """The page a form was sent from: the form's own address when it has a page (a new
    enquiry, an edit), else the page above it (an enquiry's stage move: the enquiry)."""
    path = request.url.path
    try:
        request.app.asgi_router.handle_routing(path=path, method="GET")
    except HTTPException:
        path = path.rsplit("/", 1)[0] or "/dashboard"
    return path + (f"?{request.url.query}" if request.url.query else "")


def _to_sign_in(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    """Not signed in (or the session expired, or its token was revoked): to the sign-in form,
    coming back here afterwards. A form sent after the session ended was not saved: the
    sign-in page says so and leads back to the form's page."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET":
        query = "?" + urlencode({"next": target})
    elif request.url.path == SIGN_OUT:
        query = ""
    else:
        query = "?" + urlencode({"next": _form_page(request), "unsaved": "1"})
    response = Redirect(f"/dashboard/sign-in{query}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        response.set_cookie(expired(SESSION_COOKIE))
    return response


ROLE_WORDS: dict[Role, str] = {
    Role.RECRUITER: "the recruitment team",
    Role.MANAGER: "managers",
    Role.REGIONAL: "the regional framework",
    Role.HUB: "recruitment hubs",
    Role.ADMIN: "administrators",
}
"""Who each role's sign-ins are, in the pages' words."""


def _refusal(exc: HTTPException) -> str:
    """Why a page is refused, in words: a refused role is named as people say it."""
    if isinstance(exc, RoleRefused):
        return f"It is not one of the pages for {ROLE_WORDS[exc.role]}."
    return str(exc.detail)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    message = {
        403: "This page is not open to your sign-in. " + _refusal(exc),
        404: "There is nothing here. " + str(exc.detail),
        429: "Too many wrong tokens from this address: wait a minute and try again.",
    }.get(exc.status_code, str(exc.detail))
    response = _error_page(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    fields = [
        str(e.get("key"))
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    detail = f"Check {', '.join(fields)} in the address." if fields else str(exc.detail)
    return _error_page(request, 400, detail)


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _error_page(request, 404 if isinstance(exc, NotFoundError) else 400, exc.message)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("dashboard page failed: %s", type(exc).__name__)
    return _error_page(request, 500, "Something went wrong on our side. Try again shortly.")


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    NotAuthorizedException: _to_sign_in,
    PermissionDeniedException: _http_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    DomainError: _domain_error,
    Exception: _unexpected,
}
