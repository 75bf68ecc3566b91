"""Who may do what: the one table of roles per kind of route, and the checks that use it.

Every handler names its kind in `opt={"access": ...}`; a handler without one is refused
unless it is marked public. Regional tokens reach only the aggregate kinds, and only for
authorities of their own region; recruiter and manager tokens only their own authority.
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler

from tracker.core.access import Caller, Role, TokenExpired


class RoleRefused(PermissionDeniedException):
    """A caller whose role the route is not for (403), with the role, so a page can say so
    in words."""

    def __init__(self, role: Role, detail: str) -> None:
        super().__init__(detail)
        self.role = role


R, M, G, H, A = Role.RECRUITER, Role.MANAGER, Role.REGIONAL, Role.HUB, Role.ADMIN

ACCESS: dict[str, frozenset[Role]] = {
    "authorities.read": frozenset({R, M, G, A}),
    "authorities.write": frozenset({A}),
    "authorities.settings": frozenset({M, A}),
    "enquiries.read": frozenset({R, M, A}),
    "enquiries.write": frozenset({R, M, A}),
    "enquiries.erase": frozenset({M, A}),
    "funnel.read": frozenset({R, M, G, A}),
    "households.read": frozenset({M, A}),
    "households.write": frozenset({M, A}),
    "capacity.read": frozenset({M, G, A}),
    "capacity.write": frozenset({M, A}),
    "children.read": frozenset({M, G, A}),
    "children.write": frozenset({M, A}),
    "regional.read": frozenset({M, G, A}),
    "regional.load": frozenset({A}),
    # England's roll-up per region: admins and every regional token (sums only).
    "national.read": frozenset({G, A}),
    "forecasts.read": frozenset({M, G, A}),
    "forecasts.run": frozenset({M, A}),
    "scenarios.read": frozenset({M, A}),
    "scenarios.write": frozenset({M, A}),
    "targets.read": frozenset({M, A}),
    "targets.write": frozenset({M, A}),
    "tokens.admin": frozenset({A}),
    "audit.read": frozenset({M, A}),
    "ofsted.read": frozenset({M, A}),
    "ofsted_collections.read": frozenset({R, M, G, A}),
    "benchmarks.read": frozenset({M, G, A}),
    # Hubs (api/hubs.py): hub tokens reach their own hub only (the path's hub_id); councils
    # decide on the handovers offered to them and record their agreement with the hub.
    "hubs.admin": frozenset({A}),
    "hubs.read": frozenset({H, A}),
    "hubs.write": frozenset({H, A}),
    "handovers.read": frozenset({R, M, A}),
    "handovers.write": frozenset({R, M, A}),
    "hubs.agreement": frozenset({M, A}),
    # Dashboard pages (api/dashboard): the landing page sends each role to its first page;
    # recruiters see the enquiries and the funnel, regional tokens their region's capacity
    # only. The dashboard's forms name the kinds of the routes above that they stand for.
    "dashboard.home": frozenset({R, M, G, H, A}),
    "dashboard.hub": frozenset({H, A}),
    "dashboard.handovers": frozenset({R, M, A}),
    "dashboard.overview": frozenset({M, A}),
    "dashboard.enquiries": frozenset({R, M, A}),
    "dashboard.funnel": frozenset({R, M, A}),
    # Uploads: each kind of file then needs its own write kind (enquiries, households,
    # children) in this table.
    "dashboard.uploads": frozenset({R, M, A}),
    "dashboard.capacity": frozenset({M, G, A}),
    "dashboard.households": frozenset({M, A}),
    "dashboard.targets": frozenset({M, A}),
    "dashboard.forecasts": frozenset({M, A}),
    "dashboard.scenarios": frozenset({M, A}),
    "dashboard.settings": frozenset({M, A}),
    "dashboard.ofsted": frozenset({M, A}),
    "dashboard.benchmarks": frozenset({M, A}),
}
# Kinds whose responses are aggregates with no personal data: the only ones open to regional.
AGGREGATE: frozenset[str] = frozenset(
    {
        "authorities.read",
        "funnel.read",
        "capacity.read",
        "children.read",
        "regional.read",
        "national.read",
        "forecasts.read",
        "benchmarks.read",
        "ofsted_collections.read",
    }
)


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Refuse a caller whose role the handler's access kind does not allow. Asynchronous
    though it never waits: Litestar runs a synchronous guard in a worker thread."""
    if handler.opt.get("public"):
        return
    caller = connection.scope.get("user")
    if not isinstance(caller, Caller):
        if isinstance(connection.scope.get("auth"), TokenExpired):
            raise NotAuthorizedException("the token has expired")
        raise NotAuthorizedException("a valid bearer token is required")
    kind = handler.opt.get("access")
    if kind is None or caller.role not in ACCESS[kind]:
        raise RoleRefused(caller.role, f"the {caller.role} role may not use this route")
    # The path's authority is checked here too (as well as by the IN_SCOPE dependency), so a
    # caller out of scope gets 403 before any query parameter or body is read or validated.
    code = connection.path_params.get("code")
    regions = connection.app.state.get("regions")
    if isinstance(code, str) and regions is not None:
        region = regions.region_of(code)
        if region is None:
            raise NotFoundException(f"no authority with code {code}")
        if not may_reach_authority(caller, code, region, kind):
            raise PermissionDeniedException(f"this token may not reach authority {code} here")
    hub_id = connection.path_params.get("hub_id")
    if hub_id is not None and not may_reach_hub(caller, hub_id):
        raise PermissionDeniedException(f"this token may not reach hub {hub_id}")


def may_reach_hub(caller: Caller, hub_id: int) -> bool:
    """True when the caller may use the routes of this hub: its own hub's tokens, admins."""
    return caller.role is Role.ADMIN or (caller.role is Role.HUB and caller.hub_id == hub_id)


def may_reach_authority(caller: Caller, authority_code: str, region: str, kind: str) -> bool:
    """True when the caller may use a route of `kind` for this authority."""
    if caller.role is Role.ADMIN:
        return True
    if caller.role is Role.REGIONAL:
        return kind in AGGREGATE and caller.region == region
    if caller.role is Role.HUB:
        return False
    return caller.authority_code == authority_code
