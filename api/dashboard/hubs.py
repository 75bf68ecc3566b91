"""The hub's dashboard page (log an enquiry, move it to the handover stage, offer it to its
council, the hub's overdue items and figures) and a council's handovers page (accept, or
decline with a reason). Each form calls the service function the JSON API calls, so the
rules, the history and the audit are the same."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Parameter
from sqlalchemy.orm import Session

from api.dashboard.forms import Form, FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope, resolve_scope
from api.deps import WRITING
from api.params import RecordId
from tracker.children.pseudonym import load_key
from tracker.core.access import Caller, Role
from tracker.core.errors import DomainError
from tracker.core.settings import Settings
from tracker.enquiries.schemas import StageMove
from tracker.enquiries.stages import STAGE_ORDER, Stage
from tracker.enquiries.vocabulary import Channel
from tracker.hubs import queries, service
from tracker.hubs.rules import NATIONAL_APPLICATION_RATE, DeclineReason, HandoverStatus
from tracker.hubs.schemas import Decline, HubEnquiryRecord, HubNewEnquiry, HubRecord
from tracker.hubs.summary import hub_summary

HubChoice = Annotated[int | None, Parameter(ge=1, le=2_000_000_000, description="hub (admins)")]
HUB_WRITE = {"access": "hubs.write"}
HANDOVER_WRITE = {"access": "handovers.write"}
FIELDS = ("received_on", "channel", "authority_code", "postcode_district", "enquirer_name")
FIELDS += ("email", "phone")


def _hub_id(session: Session, caller: Caller, requested: int | None) -> int | None:
    """The hub in view: a hub token's own; an admin's chosen one (else the first; None
    when there is no hub yet)."""
    if caller.role is Role.HUB:
        assert caller.hub_id is not None
        if requested is not None and requested != caller.hub_id:
            raise PermissionDeniedException("this sign-in may not see another hub")
        return caller.hub_id
    hubs = queries.list_hubs(session)
    if requested is not None:
        if all(h.id != requested for h in hubs):
            raise NotFoundException(f"no hub with id {requested}")
        return requested
    return hubs[0].id if hubs else None


def _needed(session: Session, caller: Caller, requested: int | None) -> int:
    hub_id = _hub_id(session, caller, requested)
    if hub_id is None:
        raise NotFoundException("no hub exists yet: create one (POST /api/v1/hubs)")
    return hub_id


def _next_stage(record: HubEnquiryRecord, hub: HubRecord) -> Stage | None:
    stage = record.enquiry.stage
    if record.enquiry.closed_on is not None or stage.rank >= hub.handover_stage.rank:
        return None
    return STAGE_ORDER[stage.rank + 1]


def _percent(rate: float | None) -> str:
    return "withheld" if rate is None else f"{rate * 100:.1f}%"


def _hub_page(
    request: Request[Any, Any, Any],
    session: Session,
    caller: Caller,
    settings: Settings,
    today: date,
    hub_id: int,
    form: Form | None = None,
    status_code: int = 200,
) -> Response[Any]:
    scope = resolve_scope(session, caller, None)
    hub = queries.hub_record(session, hub_id)
    key = load_key(settings)
    listed = queries.hub_enquiries(session, caller, key, hub_id, today, limit=100)
    session.commit()  # the listing is audited
    names = {m.authority_code: m.name for m in hub.members}
    rows = []
    for item in listed:
        if isinstance(item, HubEnquiryRecord):
            nxt = _next_stage(item, hub)
            offerable = item.handover in (HandoverStatus.WITH_HUB, HandoverStatus.DECLINED) and (
                item.enquiry.stage.rank >= hub.handover_stage.rank
                and item.enquiry.closed_on is None
            )
            rows.append(
                {
                    "id": item.enquiry.id,
                    "name": item.enquiry.enquirer_name or "(no name)",
                    "council": names.get(item.enquiry.authority_code, item.enquiry.authority_code),
                    "received_on": item.enquiry.received_on,
                    "stage": item.enquiry.stage.value.replace("_", " "),
                    "handover": item.handover.value.replace("_", " "),
                    "decline_reason": item.decline_reason,
                    "other_councils": item.other_councils,
                    "next": nxt.value if nxt else None,
                    "next_label": nxt.value.replace("_", " ") if nxt else None,
                    "offer": offerable,
                }
            )
        else:
            rows.append(
                {
                    "id": item.enquiry_id,
                    "name": "(with the council)",
                    "council": names.get(item.authority_code, item.authority_code),
                    "received_on": item.received_on,
                    "stage": ", ".join(s.replace("_", " ") for s in item.stages) or "not shared",
                    "handover": item.handover.value,
                    "decline_reason": None,
                    "other_councils": 0,
                    "next": None,
                    "next_label": None,
                    "offer": False,
                }
            )
    summary = hub_summary(session, hub_id)
    return render(
        request,
        scope,
        "hub.html",
        "hub",
        status_code=status_code,
        hub=hub,
        rows=rows,
        tray=queries.hub_tray(session, hub_id, today),
        summary=summary,
        national=_percent(NATIONAL_APPLICATION_RATE),
        percent=_percent,
        channels=[c.value for c in Channel],
        form=form or Form(),
        today=today,
        hub_query=f"?hub={hub_id}" if caller.role is Role.ADMIN else "",
    )


class HubPages(Controller):
    """The hub's page and its forms."""

    path = "/hub"
    include_in_schema = False

    @get("/", opt={"access": "dashboard.hub"}, dependencies=WRITING, sync_to_thread=True)
    def page(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        hub: HubChoice = None,
    ) -> Response[Any]:
        """The hub's enquiries, overdue items and figures, and the form to log one."""
        hub_id = _hub_id(session, caller, hub)
        if hub_id is None:
            scope = resolve_scope(session, caller, None)
            return render(request, scope, "hub.html", "hub", hub=None, form=Form())
        return _hub_page(request, session, caller, settings, today, hub_id)

    @post("/enquiries", opt=HUB_WRITE, dependencies=WRITING, sync_to_thread=True)
    def log(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        data: FormData,
        hub: HubChoice = None,
    ) -> Response[Any]:
        """Log an enquiry, routed by the council chosen or the postcode district."""
        hub_id = _needed(session, caller, hub)
        form = checked_form(request, data)
        received = form.date("received_on", "Date received", required=True)
        values = {name: form.text(name) for name in FIELDS if name != "received_on"}
        values["received_on"] = received
        new = form.check(
            HubNewEnquiry,
            {k: v for k, v in values.items() if v is not None},
            {
                "channel": "Choose how the enquiry came in",
                "email": "Enter an email address like name@example.org",
                "phone": "Enter a phone number of digits, spaces and brackets",
                "postcode_district": "Enter the first half of a postcode, like ST4",
            },
        )
        if new is not None:
            try:
                service.log_enquiry(session, caller, hub_id, new, today, load_key(settings))
            except DomainError as refused:
                session.rollback()
                form.refused(refused, "authority_code")
            else:
                session.commit()
                return done(
                    _scope(session, caller), "/dashboard/hub", "hub-logged", **_hub(caller, hub_id)
                )
        return _hub_page(request, session, caller, settings, today, hub_id, form, 400)

    @post(
        "/enquiries/{enquiry_id:int}/{action:str}",
        opt=HUB_WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def act(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        enquiry_id: RecordId,
        action: str,
        data: FormData,
        hub: HubChoice = None,
    ) -> Response[Any]:
        """Record the next stage (`stage`) or offer the enquiry to its council (`offer`)."""
        if action not in ("stage", "offer"):
            raise NotFoundException(f"a hub enquiry has no form {action!r}")
        hub_id = _needed(session, caller, hub)
        form = checked_form(request, data)
        try:
            if action == "stage":
                stage = msgspec.convert(form.text("stage"), Stage)
                service.advance(session, caller, hub_id, enquiry_id, StageMove(stage=stage), today)
            else:
                service.offer(session, caller, hub_id, enquiry_id, today)
        except (DomainError, msgspec.ValidationError) as refused:
            session.rollback()
            if isinstance(refused, DomainError):
                form.refused(refused, "enquiry")
            else:
                form.errors.add("enquiry", "Choose a stage")
            return _hub_page(request, session, caller, settings, today, hub_id, form, 400)
        session.commit()
        what = "moved" if action == "stage" else "hub-offered"
        return done(_scope(session, caller), "/dashboard/hub", what, **_hub(caller, hub_id))


def _scope(session: Session, caller: Caller) -> Scope:
    return resolve_scope(session, caller, None)


def _hub(caller: Caller, hub_id: int) -> dict[str, str]:
    return {"hub": str(hub_id)} if caller.role is Role.ADMIN else {}


def _handovers_page(
    request: Request[Any, Any, Any],
    session: Session,
    caller: Caller,
    settings: Settings,
    today: date,
    scope: Scope,
    form: Form | None = None,
    status_code: int = 200,
) -> Response[Any]:
    code = scope.authority_code
    member = queries.hub_of_council(session, code) if code else None
    # The key is read only for a council of a hub (it may be a file made on first use).
    offers = (
        queries.council_offers(session, caller, load_key(settings), code, today)
        if code and member is not None
        else []
    )
    session.commit()  # the listing is audited
    return render(
        request,
        scope,
        "handovers.html",
        "handovers",
        status_code=status_code,
        offers=offers,
        tray=queries.council_tray(session, code, today) if code else [],
        reasons=[r.value for r in DeclineReason],
        form=form or Form(),
        member=member,
    )


class HandoverPages(Controller):
    """A council's handovers from its hub."""

    path = "/handovers"
    include_in_schema = False

    @get("/", opt={"access": "dashboard.handovers"}, dependencies=WRITING, sync_to_thread=True)
    def page(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Offers awaiting the council's decision first, then decided ones; overdue items."""
        scope = resolve_scope(session, caller, authority)
        return _handovers_page(request, session, caller, settings, today, scope)

    @post(
        "/{enquiry_id:int}/{action:str}",
        opt=HANDOVER_WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def decide(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        enquiry_id: RecordId,
        action: str,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Accept (`accept`) or decline with a reason (`decline`)."""
        if action not in ("accept", "decline"):
            raise NotFoundException(f"a handover has no form {action!r}")
        scope = resolve_scope(session, caller, authority)
        code = scope.authority_code
        if code is None:
            raise NotFoundException("no authority in view")
        form = checked_form(request, data)
        try:
            if action == "accept":
                service.accept(session, caller, code, enquiry_id, today)
            else:
                reason = form.text("reason")
                if reason is None:
                    form.errors.add("reason", "Choose why the council declines")
                    return _handovers_page(
                        request, session, caller, settings, today, scope, form, 400
                    )
                refusal = msgspec.convert({"reason": reason, "note": form.text("note")}, Decline)
                service.decline(session, caller, code, enquiry_id, refusal, today)
        except (DomainError, msgspec.ValidationError) as refused:
            session.rollback()
            if isinstance(refused, DomainError):
                form.refused(refused, "reason")
            else:
                form.errors.add("reason", "Choose why the council declines")
            return _handovers_page(request, session, caller, settings, today, scope, form, 400)
        session.commit()
        what = {"accept": "handover-accepted", "decline": "handover-declined"}[action]
        return done(scope, "/dashboard/handovers", what)
