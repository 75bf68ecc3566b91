"""The dashboard's pages: one handler per subject, each building its page from the tracker's
figures and showing it, or sending one of its tables as CSV or Excel
(`?download=csv|xlsx&table=<name>`)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from api.dashboard import capacity, forecasts, funnel, overview, scenarios, targets
from api.dashboard.layout import Page
from api.dashboard.recent_pages import RecentPages
from api.dashboard.rendering import render
from api.dashboard.scope import Scope, resolve_scope
from tracker.children.mapping import load_mapping
from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.core.table_export import csv_bytes, xlsx_bytes

PLOTLY_VERSION = version("plotly")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

AuthorityCode = Annotated[
    str | None, Parameter(max_length=9, description="the authority to show (admins)")
]
TableName = Annotated[str | None, Parameter(max_length=60, description="the table to download")]
Year = Annotated[
    int | None, Parameter(ge=2000, le=2100, description="the year starting 1 April to show")
]
AsAt = Annotated[date | None, Parameter(description="the day the figures are as at")]
Compared = Annotated[
    list[int] | None,
    Parameter(max_items=50, description="the saved scenarios to compare (2 to 6)"),
]
SeriesId = Annotated[str | None, Parameter(max_length=200, description="the series to draw")]


class DownloadFormat(enum.StrEnum):
    """How a table downloads."""

    CSV = "csv"
    XLSX = "xlsx"


def _download(
    scope: Scope, page: Page, today: date, fmt: DownloadFormat, name: str | None
) -> Response[bytes]:
    tables = page.tables()
    chosen = tables.get(name or "")
    if chosen is None:
        raise NotFoundException(
            f"this page has no table {name!r} (it has: {', '.join(tables) or 'none'})",
            extra={"field": "table"},
        )
    whose = (scope.authority_code or scope.region or "all").lower().replace(" ", "-")
    filename = f"{page.key}-{chosen.name}-{whose}-{today.isoformat()}.{fmt.value}"
    if fmt is DownloadFormat.CSV:
        body, media = csv_bytes(chosen.keys, chosen.rows, formats=chosen.formats), "text/csv"
    else:
        body = xlsx_bytes(chosen.keys, chosen.rows, sheet_name=chosen.name, formats=chosen.formats)
        media = XLSX_MEDIA
    return Response(
        body,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _links(request: Request[Any, Any, Any], scope: Scope, page: Page) -> dict[str, dict[str, str]]:
    """Each table's download links, keeping the page's choices."""
    keep: dict[str, Any] = {page.chooser.name: page.chooser.selected} if page.chooser else {}
    for section in page.sections:
        if section.picker is not None and request.query_params.getall(section.picker.name, []):
            keep[section.picker.name] = section.picker.selected
    path = request.url.path
    return {
        name: {
            fmt.value: scope.link(path, **keep, download=fmt.value, table=name)
            for fmt in DownloadFormat
        }
        for name in page.tables()
    }


def serve_page(
    request: Request[Any, Any, Any],
    scope: Scope,
    today: date,
    download: DownloadFormat | None,
    table: str | None,
    build: Callable[[], Page],
    choice: str | None = None,
) -> Response[Any]:
    """Build and show the page, or send one of its tables (from the page just shown, when it
    was built in the last minute for the same sign-in and choices)."""
    state = request.app.state
    recent: RecentPages = state.setdefault("dashboard_recent_pages", RecentPages())

    def key(chosen: str | None) -> tuple[object, ...]:
        return (
            scope.caller.token_id,
            request.url.path,
            scope.authority_code or scope.region,
            chosen,
            today,
        )

    if download is not None:
        page = recent.get(key(choice)) or build()
        return _download(scope, page, today, download, table)
    page = build()
    # Download links name the choice the page made (the series it drew, say).
    recent.put(key(page.chooser.selected if page.chooser else choice), page)
    return _template(request, scope, page)


def _template(request: Request[Any, Any, Any], scope: Scope, page: Page) -> Template:
    charts = page.charts()
    return render(
        request,
        scope,
        "page.html",
        page.key,
        page=page,
        charts=charts,
        links=_links(request, scope, page),
        plotly_url=f"/dashboard/vendor/plotly.min.js?v={PLOTLY_VERSION}" if charts else "",
    )


class DashboardPages(Controller):
    """The pages; each names its access kind, and the scope decides whose figures show."""

    include_in_schema = False

    @get("/", opt={"access": "dashboard.home"}, sync_to_thread=True)
    def home(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        database: Database,
        state: State,
        authority: AuthorityCode = None,
        as_at: AsAt = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """The overview (managers, admins); others go to the first page they may open."""
        scope = resolve_scope(session, caller, authority)
        if not scope.may_open("overview"):
            return Redirect(scope.link(scope.pages[0].path), status_code=303)
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        mapping = load_mapping(settings.placement_mapping)
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: overview.build(
                session,
                scope,
                today,
                lambda s, code, day: targets.status_counts(s, code, day, mapping, database),
                as_at=_past(as_at, today),
                views=state.council_views,
                mapping=mapping,
            ),
            choice=as_at.isoformat() if as_at else None,
        )

    @get("/funnel", opt={"access": "dashboard.funnel"}, sync_to_thread=True)
    def funnel(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        state: State,
        authority: AuthorityCode = None,
        year: Year = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """A year's funnel (this one unless chosen) against the year before."""
        scope = resolve_scope(session, caller, authority)
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        if year is not None and date(year, 4, 1) > today:
            raise ValidationException("the year has not begun", extra=[{"key": "year"}])
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: funnel.build(session, scope, today, year, state.council_views),
            choice=str(year) if year else None,
        )

    @get("/capacity", opt={"access": "dashboard.capacity"}, sync_to_thread=True)
    def capacity(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        state: State,
        authority: AuthorityCode = None,
        as_at: AsAt = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """Capacity by care type (a regional sign-in: its region's councils)."""
        scope = resolve_scope(session, caller, authority)
        if caller.role is Role.REGIONAL:
            return serve_page(
                request,
                scope,
                today,
                download,
                table,
                lambda: capacity.build_regional(session, scope, today, _past(as_at, today)),
                choice=as_at.isoformat() if as_at else None,
            )
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        mapping = load_mapping(settings.placement_mapping)
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: capacity.build(
                session,
                scope,
                today,
                mapping,
                _past(as_at, today),
                views=state.council_views,
            ),
            choice=as_at.isoformat() if as_at else None,
        )

    @get("/targets", opt={"access": "dashboard.targets"}, sync_to_thread=True)
    def targets(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        database: Database,
        authority: AuthorityCode = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """Each target's trajectory."""
        scope = resolve_scope(session, caller, authority)
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        mapping = load_mapping(settings.placement_mapping)
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: targets.build(session, scope, today, mapping, database),
        )

    @get("/forecasts", opt={"access": "dashboard.forecasts"}, sync_to_thread=True)
    def forecasts(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        settings: Settings,
        authority: AuthorityCode = None,
        series: SeriesId = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """Past forecasts against actuals, and one series drawn."""
        scope = resolve_scope(session, caller, authority)
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        mapping = load_mapping(settings.placement_mapping)
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: forecasts.build(session, scope, today, mapping, series),
            choice=series,
        )

    @get("/scenarios", opt={"access": "dashboard.scenarios"}, sync_to_thread=True)
    def scenarios(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
        compare: Compared = None,
        download: DownloadFormat | None = None,
        table: TableName = None,
    ) -> Response[Any]:
        """Saved scenarios, their tables and a side-by-side comparison of those chosen."""
        scope = resolve_scope(session, caller, authority)
        if scope.authority_code is None:
            return no_authority_page(request, scope)
        return serve_page(
            request,
            scope,
            today,
            download,
            table,
            lambda: scenarios.build(session, scope, today, compare),
            choice=",".join(map(str, compare)) if compare else None,
        )


def _past(as_at: date | None, today: date) -> date | None:
    """A day to show figures as at: today or before (400 naming as_at otherwise)."""
    if as_at is not None and not date(2000, 1, 1) <= as_at <= today:
        raise ValidationException("as_at must be from 2000 to today", extra=[{"key": "as_at"}])
    return as_at


def no_authority_page(request: Request[Any, Any, Any], scope: Scope) -> Response[Any]:
    page = Page(
        key="none",
        title="No authority yet",
        intro="There is no authority to show: add one first (fostering authority add CODE).",
    )
    return _template(request, scope, page)
