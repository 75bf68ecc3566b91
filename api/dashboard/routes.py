"""The dashboard under /dashboard: its pages, sign-in, its own static files and Plotly.js,
security headers on every response and HTML error pages.

Pages are server-rendered (Jinja, `api/templates`); the only script is the service's own
(`api/static/dashboard.js`), which draws the charts the pages embed as JSON with the Plotly.js
the installed plotly package ships, so no page needs the internet.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File, Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.dashboard.benchmarks import BenchmarkPages
from api.dashboard.deletions import DeletePages
from api.dashboard.enquiries import EnquiryPages
from api.dashboard.enquiry_actions import EnquiryActions
from api.dashboard.errors import EXCEPTION_HANDLERS
from api.dashboard.govuk import govuk, govuk_kept
from api.dashboard.households import HouseholdPages
from api.dashboard.hubs import HandoverPages, HubPages
from api.dashboard.imports import ImportPages
from api.dashboard.manage import ScenarioForms, SettingsForm, TargetForms
from api.dashboard.ofsted import OfstedPages
from api.dashboard.pages import DashboardPages
from api.dashboard.security import SecurityHeadersMiddleware
from api.dashboard.sign_in import SignIn
from api.dashboard.tables import label

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
PUBLIC = {"public": True}


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja over api/templates: autoescaped, an undefined name is an error, and `govuk()`
    renders GOV.UK Frontend's components (`govuk_kept()` keeps those with no personal data)."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    environment.globals.update(govuk=govuk, govuk_kept=govuk_kept, label=label)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


@get(
    "/vendor/plotly.min.js",
    opt=PUBLIC,
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86_400, public=True),
    sync_to_thread=False,
)
def plotly_js() -> File:
    """Plotly.js from the installed plotly package: charts draw with no internet access."""
    return File(
        path=PLOTLY_JS,
        filename="plotly.min.js",
        media_type="text/javascript",
        content_disposition_type="inline",
    )


@get("/", opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
def service_root() -> Redirect:
    """The service's address leads to the dashboard (which asks for a sign-in)."""
    return Redirect("/dashboard", status_code=302)


static_files = create_static_files_router(
    path="/static",
    directories=[STATIC],
    opt=PUBLIC,
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=3600, public=True),
)

dashboard_router = Router(
    path="/dashboard",
    route_handlers=[
        DashboardPages,
        EnquiryPages,
        EnquiryActions,
        ImportPages,
        TargetForms,
        ScenarioForms,
        SettingsForm,
        DeletePages,
        HouseholdPages,
        OfstedPages,
        BenchmarkPages,
        HubPages,
        HandoverPages,
        SignIn,
        plotly_js,
        static_files,
    ],
    middleware=[DefineMiddleware(SecurityHeadersMiddleware)],
    exception_handlers=EXCEPTION_HANDLERS,
    include_in_schema=False,
)
