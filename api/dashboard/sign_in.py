"""Signing in to the dashboard with an API token, and signing out.

A good token starts a session (`api.dashboard.sessions`): the browser gets its secret in an
HttpOnly, SameSite=Strict cookie for /dashboard only. Both forms carry a CSRF token
(`api.dashboard.security`); sign-in and sign-out are audited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from api.dashboard.security import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    check_sign_in_form,
    check_signed_in_form,
    expired,
    new_sign_in_token,
    session_cookie,
    sign_in_cookie,
    with_cookies,
)
from api.dashboard.sessions import StartedSession, end_session, start_session
from api.deps import WRITING
from api.rate_limit import record_failure
from tracker.core import audit
from tracker.core.access import Caller, TokenExpired
from tracker.core.clock import utcnow

PUBLIC = {"public": True}
# Where sign-in may send the browser on: a dashboard path and query, nothing else.
SAFE_NEXT = re.compile(r"^/dashboard(?:/[A-Za-z0-9_\-/]*)?(?:\?[A-Za-z0-9_\-=&%.+]*)?$")


class SignInForm(msgspec.Struct, kw_only=True):
    """The sign-in form: an API token, the form's CSRF token and where to go next."""

    token: Annotated[str, msgspec.Meta(max_length=200)] = ""
    csrf_token: Annotated[str, msgspec.Meta(max_length=200)] = ""
    next: Annotated[str, msgspec.Meta(max_length=500)] = ""


class SignOutForm(msgspec.Struct, kw_only=True):
    """The sign-out form: only its CSRF token."""

    csrf_token: Annotated[str, msgspec.Meta(max_length=200)] = ""


def _safe_next(target: str | None) -> str:
    return target if target and SAFE_NEXT.match(target) and "//" not in target else "/dashboard"


class SignIn(Controller):
    """Sign in with an API token; sign out."""

    include_in_schema = False

    @get("/sign-in", opt=PUBLIC, sync_to_thread=False)
    def form(self, request: Request[Any, Any, Any], next: str | None = None) -> Response[Any]:
        """The sign-in form (a signed-in browser goes straight on)."""
        if isinstance(request.user, Caller):
            return Redirect(_safe_next(next), status_code=303)
        return _sign_in_page(request, next, None, 200)

    @post("/sign-in", opt=PUBLIC, dependencies=WRITING, sync_to_thread=True, status_code=303)
    def sign_in(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        data: Annotated[SignInForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """Check the token; on success start a session and set its cookie. Wrong tokens count
        against the address like failed bearer tokens (429 past the limit)."""
        check_sign_in_form(request, data.csrf_token)
        started = start_session(session, data.token) if data.token.strip() else None
        if not isinstance(started, StartedSession):
            record_failure(request)
            return _sign_in_page(
                request,
                data.next,
                "That token has expired. Ask an administrator for a new one."
                if isinstance(started, TokenExpired)
                else "That token was not recognised, or it has been revoked. Check it and try "
                "again.",
                401,
            )
        audit.record(
            session,
            started.caller,
            "sign_in",
            "web_session",
            started.id,
            authority_code=started.caller.authority_code,
        )
        session.commit()
        response = Redirect(_safe_next(data.next), status_code=303)
        return with_cookies(
            response,
            session_cookie(request, started.secret, started.expires_at - utcnow()),
            expired(SIGN_IN_COOKIE),
        )

    @post(
        "/sign-out",
        opt={"access": "dashboard.home"},
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=303,
    )
    def sign_out(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        data: Annotated[SignOutForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response[Any]:
        """End the session and remove its cookie."""
        check_signed_in_form(request, data.csrf_token)
        secret = request.cookies.get(SESSION_COOKIE, "")
        if end_session(session, secret):
            audit.record(
                session, caller, "sign_out", "web_session", authority_code=caller.authority_code
            )
        session.commit()
        return with_cookies(
            Redirect("/dashboard/sign-in?signed_out=1", status_code=303), expired(SESSION_COOKIE)
        )


def _sign_in_page(
    request: Request[Any, Any, Any], next_path: str | None, error: str | None, status: int
) -> Response[Any]:
    token = request.cookies.get(SIGN_IN_COOKIE) or new_sign_in_token()
    response = Template(
        template_name="sign_in.html",
        context={
            "csrf_token": token,
            "next": _safe_next(next_path),
            "error": error,
            "signed_out": request.query_params.get("signed_out") == "1",
            "unsaved": request.query_params.get("unsaved") == "1",
        },
        status_code=status,
    )
    response.set_cookie(sign_in_cookie(request, token))
    return response
