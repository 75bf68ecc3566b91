"""Showing a page of one authority's figures for the pages kept in their own modules (the
Ofsted return, benchmarking): whose page it is, then `pages`' own way of showing it or
sending one of its tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from litestar import Request, Response
from sqlalchemy.orm import Session

from api.dashboard.layout import Page
from api.dashboard.pages import DownloadFormat, no_authority_page, serve_page
from api.dashboard.scope import Scope, resolve_scope
from tracker.core.access import Caller


def serve_authority_page(
    request: Request[Any, Any, Any],
    session: Session,
    caller: Caller,
    authority: str | None,
    today: date,
    download: DownloadFormat | None,
    table: str | None,
    choice: str | None,
    build: Callable[[Scope], Page],
) -> Response[Any]:
    """The page `build` makes for the authority in scope (a page saying there is none when
    there is no authority yet), or one of its tables as CSV or Excel."""
    scope = resolve_scope(session, caller, authority)
    if scope.authority_code is None:
        return no_authority_page(request, scope)
    return serve_page(request, scope, today, download, table, lambda: build(scope), choice=choice)
