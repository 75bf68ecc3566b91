"""Showing a dashboard page: its template with what every page has (the scope, the
navigation with the current page marked, the CSRF token for its forms, and a success banner
after a form has done its work)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.response import Redirect, Template

from api.dashboard.scope import Scope
from api.dashboard.security import form_token

# What a form did, shown once on the page it leads to (`?done=<key>`): fixed sentences, so
# an address cannot put words on the page.
DONE: dict[str, str] = {
    "logged": "Enquiry logged",
    "already-logged": "This form was already sent, and logged this enquiry: nothing more was saved",
    "moved": "Stage recorded",
    "closed": "Enquiry closed",
    "reopened": "Enquiry reopened",
    "edited": "Changes saved",
    "erased": "Personal data erased: name, contacts, postcode district, ethnicity and notes",
    "imported": "Spreadsheet imported",
    "target-saved": "Target saved",
    "target-already-saved": (
        "This form was already sent, and saved the target: nothing more was saved"
    ),
    "target-deleted": "Target deleted",
    "target-gone": "That target was not there to delete: it was already deleted",
    "scenario-saved": "Scenario saved",
    "scenario-already-saved": (
        "This form was already sent, and saved the scenario: nothing more was saved"
    ),
    "scenario-deleted": "Scenario deleted",
    "scenario-gone": "That scenario was not there to delete: it was already deleted",
    "settings-saved": "Settings saved",
    "households-imported": "Household register imported",
    "child-placed": "Placement recorded",
    "placement-ended": "Placement ended",
    "household-on-hold": "Household put on hold",
    "household-back": "Household taken off hold",
    "places-changed": "Approved places changed",
    "household-deregistered": "Household deregistered",
    "places-unavailable": "Places marked not available",
    "places-already-unavailable": (
        "This form was already sent, and marked the places not available: nothing more was saved"
    ),
    "places-available": "Places available again",
    "ssda903-imported": "SSDA903 return imported",
    "hub-logged": "Enquiry logged and routed to its council",
    "hub-offered": "Enquiry offered to its council",
    "handover-accepted": "Handover accepted: the enquiry is the council's now",
    "handover-declined": "Handover declined: the enquiry is back with the hub",
}


COUNTED = ("new", "changed", "unchanged")


class Banner(msgspec.Struct, frozen=True):
    """A notification banner's sentence."""

    text: str
    success: bool = True


def navigation(scope: Scope, current: str) -> list[dict[str, Any]]:
    """The service navigation's items, the current page marked."""
    return [
        {
            "href": scope.link(item.path),
            "text": item.label,
            "active": item.key == current,
            "current": item.key == current,
        }
        for item in scope.pages
    ]


def _banner(request: Request[Any, Any, Any]) -> Banner | None:
    """The banner of `?done=`, with an import's counts when the address gives them."""
    what = request.query_params.get("done")
    if what not in DONE:
        return None
    counts = [
        f"{int(request.query_params[name]):,} {name}"
        for name in COUNTED
        if request.query_params.get(name, "").isdigit() and len(request.query_params[name]) < 10
    ]
    return Banner(DONE[what] + (": " + ", ".join(counts) if counts else ""))


def render(
    request: Request[Any, Any, Any],
    scope: Scope,
    template: str,
    current: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """The page `template` with `context` and what every signed-in page has."""
    banner = context.pop("banner", None) or _banner(request)
    return Template(
        template_name=template,
        context={
            "scope": scope,
            "nav": navigation(scope, current),
            "csrf_token": form_token(request),
            "path": request.url.path,
            "banner": banner,
            **context,
        },
        status_code=status_code,
    )


def done(scope: Scope, path: str, what: str, **params: str) -> Redirect:
    """After a form has done its work: to `path`, with its banner (POST, then GET)."""
    return Redirect(scope.link(path, **params, done=what), status_code=303)
