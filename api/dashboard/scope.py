"""Whose figures a signed-in person sees, and which dashboard pages they may open.

Recruiters and managers see their own authority; an admin picks any authority (the first
by name until they choose); a regional token sees its region's capacity and nothing else.
Which page each role opens is the one table in `api.access` (kinds "dashboard.*").
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlalchemy.orm import Session

from api.access import ACCESS
from tracker.core.access import Caller, Role
from tracker.core.authorities import get_authority, list_authorities
from tracker.hubs.queries import hub_of_council


class NavItem(msgspec.Struct, frozen=True):
    """A page in the navigation."""

    key: str
    label: str
    path: str


PAGES: tuple[NavItem, ...] = (
    NavItem("overview", "Overview", "/dashboard"),
    NavItem("hub", "Hub", "/dashboard/hub"),
    NavItem("enquiries", "Enquiries", "/dashboard/enquiries"),
    NavItem("handovers", "Handovers", "/dashboard/handovers"),
    NavItem("funnel", "Recruitment funnel", "/dashboard/funnel"),
    NavItem("capacity", "Capacity", "/dashboard/capacity"),
    NavItem("households", "Register", "/dashboard/households"),
    NavItem("targets", "Targets", "/dashboard/targets"),
    NavItem("forecasts", "Forecasts", "/dashboard/forecasts"),
    NavItem("scenarios", "Scenarios", "/dashboard/scenarios"),
    NavItem("ofsted", "Ofsted return", "/dashboard/ofsted-return"),
    NavItem("benchmarks", "How we compare", "/dashboard/benchmarks"),
    NavItem("settings", "Settings", "/dashboard/settings"),
)


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The caller, the authority (or region) in view, and the pages they may open."""

    caller: Caller
    authority_code: str | None
    authority_name: str | None
    region: str | None
    authorities: list[tuple[str, str]]
    pages: list[NavItem]

    @property
    def choosing(self) -> bool:
        """Whether the caller picks the authority (admins)."""
        return self.caller.role is Role.ADMIN

    @property
    def where(self) -> str:
        """The authority or region in view, for headings."""
        return self.authority_name or self.region or ""

    def link(self, path: str, **params: str | list[str]) -> str:
        """A dashboard link that keeps the admin's chosen authority (a list repeats its
        parameter)."""
        query: dict[str, str | list[str]] = dict(params)
        if self.choosing and self.authority_code:
            query = {"authority": self.authority_code, **query}
        return f"{path}?{urlencode(query, doseq=True)}" if query else path

    def may_open(self, key: str) -> bool:
        """Whether the navigation offers this page."""
        return any(p.key == key for p in self.pages)


def pages_for(role: Role) -> list[NavItem]:
    """The pages a role may open, in navigation order."""
    return [p for p in PAGES if role in ACCESS[f"dashboard.{p.key}"]]


def _for_authority(session: Session, pages: list[NavItem], code: str | None) -> list[NavItem]:
    """The pages the navigation offers for an authority: Handovers only to a council of a
    recruitment hub (the page itself still says "belongs to no hub" if opened)."""
    if code is not None and hub_of_council(session, code) is not None:
        return pages
    return [p for p in pages if p.key != "handovers"]


def resolve_scope(session: Session, caller: Caller, requested: str | None) -> Scope:
    """The scope of a request: 403 when a non-admin asks for another authority, 404 when an
    admin asks for one that does not exist."""
    pages = pages_for(caller.role)
    if caller.role is Role.REGIONAL:
        return Scope(
            caller=caller,
            authority_code=None,
            authority_name=None,
            region=caller.region,
            authorities=[],
            pages=pages,
        )
    if caller.role is Role.ADMIN:
        known = sorted(list_authorities(session), key=lambda a: a.name)
        choices = [(a.code, a.name) for a in known]
        if requested:
            chosen = next((a for a in known if a.code == requested.strip().upper()), None)
            if chosen is None:
                raise NotFoundException(f"no authority with code {requested}")
        else:
            chosen = known[0] if known else None
        return Scope(
            caller=caller,
            authority_code=chosen.code if chosen else None,
            authority_name=chosen.name if chosen else None,
            region=chosen.region if chosen else None,
            authorities=choices,
            pages=_for_authority(session, pages, chosen.code if chosen else None),
        )
    code = caller.authority_code
    if requested and requested.strip().upper() != code:
        raise PermissionDeniedException("this sign-in may not see another authority")
    own = get_authority(session, code) if code else None
    return Scope(
        caller=caller,
        authority_code=code,
        authority_name=own.name if own else None,
        region=caller.region,
        authorities=[],
        pages=_for_authority(session, pages, code),
    )
