"""The enquiry list: filters, search and sort read from the address (so a list can be
bookmarked or shared), one page of the matches with the total, and the work tray of overdue
enquiries above it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import msgspec
from sqlalchemy.orm import Session

from api import read_audit
from api.dashboard.forms import Form
from api.dashboard.scope import Scope
from api.dashboard.tables import label
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.records import MAX_ID
from tracker.enquiries.queries import list_enquiries
from tracker.enquiries.schemas import EnquiryFilter, EnquiryPage, Overdue
from tracker.enquiries.search import EnquirySort
from tracker.enquiries.stages import Stage, Status
from tracker.enquiries.tray import WorkTray, work_tray
from tracker.enquiries.vocabulary import Channel
from tracker.hubs.queries import council_tray
from tracker.hubs.rules import Clock

PER_PAGE = 25
LAST_PAGE = MAX_ID // PER_PAGE
"""The highest page number the address may ask for: its rows' offset stays an id's size."""
TRAY_SIZE = 10
FILTER_FIELDS = ("q", "stage", "status", "channel", "campaign", "overdue", "sort")
DATE_FIELDS = ("received_from", "received_to")
SORT_WORDS = {
    EnquirySort.NEWEST: "Newest first",
    EnquirySort.OLDEST: "Oldest first",
    EnquirySort.NAME: "Name",
    EnquirySort.STAGE: "Furthest stage first",
    EnquirySort.REFERENCE: "Reference",
}
LIST = "/dashboard/enquiries"
BACK_FIELDS = (
    *FILTER_FIELDS,
    "page",
    *(f"{d}-{p}" for d in DATE_FIELDS for p in ("day", "month", "year")),
)
MAX_BACK = 1_000
"""The longest `back` read: the list's filters are far shorter."""
OVERDUE_WORDS = {
    Overdue.FIRST_CONTACT: "First contact overdue",
    Overdue.APPROVAL: "Approval overdue (8 months after application)",
}


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The list's filters as the address gives them."""

    q: str | None = msgspec.field(default=None)
    """Searched for whole: one too long is an error and still filters (so nearly always
    finds nothing), never dropped to list every enquiry."""
    stage: Stage | None = None
    status: Status | None = None
    channel: Channel | None = None
    campaign: str | None = None
    overdue: Overdue | None = None
    sort: EnquirySort = EnquirySort.NEWEST
    page: Annotated[int, msgspec.Meta(le=LAST_PAGE)] = 1


QUERY_MESSAGES = {
    "q": "Enter 100 characters or fewer to search for",
    "stage": "Select a stage from the list",
    "status": "Select a status from the list",
    "channel": "Select a channel from the list",
    "campaign": "Enter a campaign of 80 characters or fewer",
    "overdue": "Select which overdue enquiries to show",
    "sort": "Select an order from the list",
    "page": f"The page number must be a whole number from 1 to {LAST_PAGE:,}",
}


class EnquiryList(msgspec.Struct, frozen=True, kw_only=True):
    """What the list page shows."""

    form: Any
    query: ListQuery
    received_from: date | None
    received_to: date | None
    page: EnquiryPage | None
    tray: WorkTray
    pages: int
    kept: dict[str, str]
    handovers_overdue: int = 0
    """The hub's offers to this council whose decision is late (the Handovers page)."""


def read_query(params: dict[str, str]) -> tuple[Form, ListQuery, date | None, date | None]:
    """The filters of the address; a bad one is an error on its field and is left out."""
    form = Form(params)
    values = {name: form.text(name) for name in (*FILTER_FIELDS, "page")}
    values = {name: value for name, value in values.items() if value is not None}
    for name, longest in (("q", 100), ("campaign", 80)):
        if len(values.get(name) or "") > longest:
            form.errors.add(name, QUERY_MESSAGES[name])
    received_from = form.date("received_from", "date received from")
    received_to = form.date("received_to", "date received to")
    if received_from and received_to and received_from > received_to:
        form.errors.add(
            "received_to", "The date received to must be the same as or after the date from"
        )
    query = form.check(ListQuery, values, QUERY_MESSAGES)
    if query is None:
        # A search or campaign that is too long still filters: dropping it would list all.
        good = {
            name: value
            for name, value in values.items()
            if name not in form.errors or name in ("q", "campaign")
        }
        query = msgspec.convert(good, ListQuery, strict=False)
    return form, query, received_from, received_to


def build(session: Session, scope: Scope, params: dict[str, str], today: date) -> EnquiryList:
    """The list page of the authority in scope for the address's filters."""
    code = scope.authority_code
    assert code is not None
    form, query, received_from, received_to = read_query(params)
    filters = filter_of(query, received_from, received_to)
    offset = (max(query.page, 1) - 1) * PER_PAGE
    page = list_enquiries(
        session, code, filters, today, limit=PER_PAGE, offset=offset, sort=query.sort
    )
    kept = kept_params(params, form)
    return EnquiryList(
        form=form,
        query=query,
        received_from=received_from,
        received_to=received_to,
        page=page,
        tray=work_tray(session, code, today, limit=TRAY_SIZE),
        pages=max(1, -(-page.total // PER_PAGE)),
        kept=kept,
        handovers_overdue=sum(
            1 for item in council_tray(session, code, today) if item.clock is Clock.DECISION
        ),
    )


def audit_entry(scope: Scope, listing: EnquiryList, caller: Caller) -> audit.Entry:
    """The audit entry of the list page: the enquiries of its page and of its work tray."""
    code = scope.authority_code
    assert code is not None
    ids = [item.id for item in listing.page.items] if listing.page else []
    ids += [item.enquiry_id for item in listing.tray.items]
    searched = bool(listing.query.q and listing.query.q.strip())
    return read_audit.listed(code, "dashboard_list", ids, caller, search=searched)


def filter_of(
    query: ListQuery, received_from: date | None, received_to: date | None
) -> EnquiryFilter:
    """The domain's filter for the list's query."""
    return EnquiryFilter(
        stage=query.stage,
        status=query.status,
        channel=query.channel,
        campaign=query.campaign,
        received_from=received_from,
        received_to=received_to,
        overdue=query.overdue,
        search=query.q,
    )


def kept_params(params: dict[str, str], form: Form) -> dict[str, str]:
    """The address's filters worth keeping in links (pages, sorting, downloads): those
    given and without an error."""
    names = [*FILTER_FIELDS] + [f"{d}-{p}" for d in DATE_FIELDS for p in ("day", "month", "year")]
    return {
        name: params[name].strip()
        for name in names
        if params.get(name, "").strip() and name.split("-")[0] not in form.errors
    }


def back_query(kept: dict[str, str], page: int) -> str:
    """The list's filters and page as the `back` parameter of its enquiries' links, so an
    enquiry's page links back to the same list ("" for the plain first page)."""
    return urlencode({**kept, **({"page": str(page)} if page > 1 else {})})


def back_link(scope: Scope, back: str | None) -> tuple[str, str]:
    """The list a `back` parameter names, and the parameter to carry on: only the list's own
    filters are read from it, so the link is always the list's page on this site."""
    pairs = parse_qsl((back or "")[:MAX_BACK])
    kept = {name: value for name, value in pairs if name in BACK_FIELDS and value.strip()}
    return scope.link(LIST, **kept), urlencode(kept)


def pagination(
    scope: Scope,
    path: str,
    kept: dict[str, str],
    current: int,
    pages: int,
    landmark: str = "Pages of enquiries",
) -> dict[str, Any]:
    """The GOV.UK pagination component's options: first, last and the pages next to this one,
    with ellipses between (`landmark` names the list for screen readers)."""

    def link(number: int) -> str:
        return scope.link(path, **kept, page=str(number))

    shown = sorted({1, pages, current - 1, current, current + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for number in shown:
        if items and number - items[-1].get("number", 0) > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": link(number), "current": number == current})
    return {
        "items": items,
        "previous": {"href": link(current - 1)} if current > 1 else None,
        "next": {"href": link(current + 1)} if current < pages else None,
        "landmarkLabel": landmark,
    }


OPTION_SETS: dict[str, tuple[type[Any], dict[Any, str]]] = {
    "stage": (Stage, {}),
    "status": (Status, {}),
    "channel": (Channel, {}),
    "overdue": (Overdue, OVERDUE_WORDS),
    "sort": (EnquirySort, SORT_WORDS),
}


def options(name: str, selected: Any) -> list[dict[str, Any]]:
    """A filter's select options, the chosen one selected."""
    codes, words = OPTION_SETS[name]
    return [
        {"value": c.value, "text": words.get(c) or label(c.value), "selected": c == selected}
        for c in codes
    ]
