"""A route's dependencies resolved one after another instead of in a task group.

Litestar resolves the dependencies of each level of a route's dependency graph at once, in an
anyio task group (`KwargsModel.resolve_dependencies`). That pays when dependencies wait on
the network; this service's are quick and never wait on each other (a read session, the
caller, today, the path's authority), and the task group cost every request about 0.2 ms of
CPU, a fifth of a kept read (bench/national.py, interleaved; Litestar issue #4563 measures the
same cliff). `install` puts a sequential resolver in its place: the same levels in the same
order, each dependency resolved and its generator's clean-up registered as Litestar does it.
It refuses to install if Litestar's model no longer has the parts it relies on, and
`tests/test_dependency_order.py` fails then, so an upgrade is checked, not silently slower.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar._kwargs import kwargs_model
from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar.connection import ASGIConnection

log = logging.getLogger("fostering")
LITESTAR_RESOLVER = kwargs_model.KwargsModel.resolve_dependencies
"""Litestar's own resolver, as imported (before `install`)."""


async def resolve_in_order(
    self: kwargs_model.KwargsModel,
    connection: ASGIConnection[Any, Any, Any, Any],
    kwargs: dict[str, Any],
) -> DependencyCleanupGroup:
    """Resolve every dependency of the route into `kwargs`, level by level, one at a time."""
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def installable() -> bool:
    """Whether Litestar still resolves dependencies the way `resolve_in_order` replaces."""
    model = getattr(kwargs_model, "KwargsModel", None)
    return (
        model is not None
        and callable(getattr(model, "resolve_dependencies", None))
        and "dependency_batches" in getattr(model, "__slots__", ())
    )


def install() -> bool:
    """Resolve dependencies in order from now on (once per process); False, with a warning,
    when Litestar's internals changed and Litestar's own resolver is kept."""
    model = kwargs_model.KwargsModel
    if model.resolve_dependencies is resolve_in_order:
        return True
    if not installable():
        log.warning("Litestar's dependency resolver changed: its own is kept")
        return False
    model.resolve_dependencies = resolve_in_order  # type: ignore[method-assign]
    return True
