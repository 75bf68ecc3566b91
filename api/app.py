"""The Litestar application: routes, dependencies, auth, errors, docs and limits."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, Router, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from api import dependency_order
from api.access import access_guard
from api.admin import AuditController, TokenController
from api.auth import BearerTokenMiddleware
from api.authorities import AuthorityController
from api.capacity import CapacityController
from api.children import ChildrenController
from api.dashboard.routes import dashboard_router, service_root, template_config
from api.deps import (
    AuthorityRegions,
    provide_caller,
    provide_database,
    provide_session,
    provide_settings,
    provide_today,
)
from api.enquiries import EnquiryController
from api.errors import EXCEPTION_HANDLERS, declare_problem_responses
from api.forecasts import ForecastController
from api.funnel import FunnelController
from api.household_files import HouseholdFileController
from api.households import HouseholdController, PlacementController
from api.housekeeping import forget_erased, purge_expired
from api.hubs import AgreementController, HandoverController, HubController, HubsController
from api.idempotency.middleware import EXCEPTION_HANDLERS as IDEMPOTENCY_ANSWERS
from api.idempotency.middleware import IdempotencyMiddleware
from api.national import NationalController
from api.ofsted import BenchmarkController, OfstedCollectionController, OfstedReturnController
from api.openapi import PublishedJsonRenderPlugin
from api.query_names import known_query_guard, record_query_names
from api.rate_limit import FailedAuthLimiter
from api.regional import CapacityReturnController, RegionalController
from api.request_limits import request_limits
from api.requests import JsonCheckedRequest
from api.scenarios import ScenarioController
from api.security_headers import add_security_headers
from api.targets import MetricController, TargetController
from jobs.forecast_refresh import recover_runs, stop_runs_here, wait_for_background_runs
from jobs.scheduler import shutdown_scheduler, start_scheduler
from tracker.core import audit, schema
from tracker.core.db import Database
from tracker.core.group_commit import GroupCommit
from tracker.core.settings import Settings
from tracker.core.view_cache import ComputeGate, ViewCache, council_views
from tracker.core.wal_checkpoints import WalCheckpoints
from tracker.enquiries.service import create_enquiries

WORKER_THREADS = 32
SHUTDOWN_WAIT_S = 5.0
"""How long shutdown waits for forecast runs started here to notice they were stopped."""
PUBLIC = {"public": True}
FAVICON = "<link rel='icon' type='image/png' href='/static/swagger/favicon-32x32.png'>"


@get("/health", opt=PUBLIC, sync_to_thread=True, include_in_schema=True, tags=["health"])
def health(state: State) -> Response[dict[str, Any]]:
    """Liveness and readiness: 200 when the database answers and its schema is current."""
    database: Database = state.database
    reachable = database.ping()
    current = reachable and schema.is_current(database)
    body = {
        "status": "ok" if current else "unavailable",
        "database": "ok" if reachable else "unreachable",
        "schema": "current" if current else ("outdated" if reachable else "unknown"),
    }
    return Response(body, status_code=200 if current else 503)


def _swagger_dir() -> str:
    """Swagger UI 5 (it renders OpenAPI 3.1) as the `swagger-ui-py` package ships it; found
    without importing the package, whose own code (framework adapters) is not needed."""
    spec = find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is missing"
    return str(Path(next(iter(spec.submodule_search_locations))) / "static")


def create_app(settings: Settings | None = None, database: Database | None = None) -> Litestar:
    """Build the application for an installation (the schema must already be migrated)."""
    settings = settings or Settings.from_env()
    database = database or Database.from_settings(settings)
    dependency_order.install()
    logging.getLogger("fostering").setLevel(settings.log_level)

    openapi = OpenAPIConfig(
        title="Fostering recruitment and capacity tracker",
        version="1",
        description="Enquiries through the recruitment funnel, per local authority.",
        openapi_router=Router(
            path="/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                js_url="/static/swagger/swagger-ui-bundle.js",
                css_url="/static/swagger/swagger-ui.css",
                standalone_preset_js_url="/static/swagger/swagger-ui-standalone-preset.js",
                favicon=FAVICON,
                path="/",
            ),
            PublishedJsonRenderPlugin(),
        ],
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
        ),
        security=[{"bearer": []}],
    )
    static = create_static_files_router(
        path="/static/swagger", directories=[_swagger_dir()], opt=PUBLIC, include_in_schema=False
    )
    auth = DefineMiddleware(
        BearerTokenMiddleware,
        exclude=["^/health", "^/schema", "^/static", "^/dashboard/static", "^/dashboard/vendor"],
    )

    computations = settings.view_computations
    if computations is None:
        computations = 1 if database.is_sqlite else 0
    gate = ComputeGate(computations or None)
    checkpoints = WalCheckpoints(database)
    enquiry_writer = GroupCommit(database, create_enquiries, name="fostering-enquiry-writer")
    read_audit = GroupCommit(database, audit.write_entries, name="fostering-read-audit")
    state = State(
        {
            "database": database,
            "settings": settings,
            "regions": AuthorityRegions(database),
            "capacity_views": ViewCache(gate=gate),
            "council_views": council_views(gate),
            "auth_limiter": FailedAuthLimiter(settings.auth_failures_per_minute),
            "enquiry_writer": enquiry_writer,
            "read_audit": read_audit,
        }
    )

    async def on_startup() -> None:
        # Sync handlers run in this pool: more threads than asyncio's default (cores + 4)
        # so requests waiting on the database do not hold up the rest, and fewer than the
        # connection pool holds, so no thread ever waits for a connection another holds.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="fostering")
        )
        checkpoints.start()
        enquiry_writer.start()
        read_audit.start()
        if settings.scheduler_enabled:
            state.scheduler = start_scheduler(
                settings, database, after_erasure=forget_erased, purge=purge_expired
            )
        else:  # runs this host's killed processes left 'running' (start_scheduler does it too)
            recover_runs(database)

    async def on_shutdown() -> None:
        # In-flight requests have finished (uvicorn waits for them); stop the scheduler, then
        # record the runs this process still had under way as stopped.
        if state.get("scheduler") is not None:
            shutdown_scheduler(state.scheduler)
            state.scheduler = None
        try:
            stop_runs_here(database)
        except Exception:
            logging.getLogger("fostering.jobs").exception("could not record stopped runs")
        still = wait_for_background_runs(SHUTDOWN_WAIT_S)
        if still:
            logging.getLogger("fostering.jobs").warning("left running at shutdown: %s", still)
        enquiry_writer.stop()
        read_audit.stop()
        checkpoints.stop()
        database.dispose()

    app = Litestar(
        route_handlers=[
            health,
            static,
            AuthorityController,
            EnquiryController,
            FunnelController,
            HouseholdFileController,
            HouseholdController,
            PlacementController,
            CapacityController,
            ChildrenController,
            ForecastController,
            ScenarioController,
            TargetController,
            MetricController,
            RegionalController,
            NationalController,
            CapacityReturnController,
            TokenController,
            AuditController,
            OfstedCollectionController,
            OfstedReturnController,
            BenchmarkController,
            HubsController,
            HubController,
            HandoverController,
            AgreementController,
            dashboard_router,
            service_root,
        ],
        template_config=template_config(),
        dependencies={
            "session": Provide(provide_session),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "today": Provide(provide_today, sync_to_thread=False),
            "database": Provide(provide_database, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        guards=[access_guard, known_query_guard],
        middleware=[auth, *request_limits(settings), IdempotencyMiddleware()],
        exception_handlers={**EXCEPTION_HANDLERS, **IDEMPOTENCY_ANSWERS},
        openapi_config=openapi,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        request_max_body_size=settings.max_body_bytes,
        request_class=JsonCheckedRequest,
        state=state,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        before_send=[add_security_headers],
        debug=False,
    )
    declare_problem_responses(app)
    record_query_names(app)
    return app
