"""Query parameters a JSON route does not take are refused, naming them.

Litestar ignores a query parameter no handler declares, so a typing slip passes silently:
`?dryrun=true` on an import stored the file for real, and `?dry_run=true` on a route without
a dry run wrote too. On `/api/` routes a request naming any parameter its route does not take
(the handler's own or its dependencies') gets 400 naming it. The dashboard's pages are left
alone: a browser or a bookmark may add parameters a page does not use, and its forms only
read. A parameter the route takes once (not a list) given twice is refused too, naming it:
which of the two to believe is a guess (Litestar keeps the last).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute

API_PREFIX = "/api/"
STATE_KEY = "query_names"
SINGLE_KEY = "query_names_once"


def record_query_names(app: Litestar) -> None:
    """Keep, per handler function, the query parameters it takes (for `known_query_guard`;
    the handler objects a guard is given are copies of the routes' own)."""
    names: dict[Any, frozenset[str]] = {}
    single: dict[Any, frozenset[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                params = kwargs_model.expected_query_params
                taken = {p.field_alias for p in params}
                once = {p.field_alias for p in params if not p.is_sequence}
                names[handler.fn] = names.get(handler.fn, frozenset()) | taken
                single[handler.fn] = single.get(handler.fn, frozenset()) | once
    app.state[STATE_KEY] = names
    app.state[SINGLE_KEY] = single


def known_query_guard(connection: ASGIConnection, route_handler: BaseRouteHandler) -> None:
    """400 naming the first query parameter an `/api/` route does not take."""
    if not connection.scope["path"].startswith(API_PREFIX) or connection.scope.get("method") in (
        "OPTIONS",
        None,
    ):
        return
    names: dict[Any, frozenset[str]] = connection.app.state.get(STATE_KEY, {})
    taken = names.get(getattr(route_handler, "fn", None))
    if taken is None:
        return
    unknown = [name for name in connection.query_params if name not in taken]
    if unknown:
        offered = ", ".join(sorted(taken)) if taken else "none"
        raise ClientException(
            f"unknown query parameter {unknown[0]!r}: this route takes {offered}",
            extra={"field": unknown[0]},
        )
    once: frozenset[str] = connection.app.state.get(SINGLE_KEY, {}).get(
        route_handler.fn, frozenset()
    )
    for name in connection.query_params:
        given = len(connection.query_params.getall(name))
        if name in once and given > 1:
            raise ClientException(
                f"query parameter {name!r} given {given} times: this route takes one",
                extra={"field": name},
            )
