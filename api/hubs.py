"""Hub routes: the hub's own (its enquiries up to handover, its tray and figures), the
councils' handovers (accept or decline) and their data sharing agreements with the hub.

Hub tokens reach only their own hub (`api.access.may_reach_hub`); a council's staff reach
only the handovers to their council. Reads of enquiries are audited, so they write.
"""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITING
from api.etags import created
from api.params import Limit, Offset, RecordId, date_range
from api.request_limits import EXPENSIVE
from jobs.forecast_refresh import forecast_options
from tracker.children.pseudonym import load_key
from tracker.core.access import Caller, Role
from tracker.core.settings import Settings
from tracker.enquiries.schemas import StageMove
from tracker.enquiries.tables import Enquiry
from tracker.hubs import queries, service
from tracker.hubs.outlook import HubOutlook, TargetIn, hub_outlook, set_target
from tracker.hubs.rules import HandoverStatus
from tracker.hubs.schemas import (
    Agreement,
    Decline,
    DistrictChoice,
    HandedOverView,
    HandoverOffer,
    HubEnquiryRecord,
    HubNewEnquiry,
    HubRecord,
    MemberRecord,
    NewHub,
    Reassignment,
    TrayItem,
)
from tracker.hubs.summary import HubSummary, hub_summary

READ = {"access": "hubs.read"}
WRITE = {"access": "hubs.write"}
HubId = RecordId


def provide_contact_key(state: State) -> bytes:
    """The service secret that keys contact hashes (the installation's pseudonym key)."""
    return load_key(state.settings)


KEYED = {"contact_key": Provide(provide_contact_key, sync_to_thread=False)}


def _full(
    session: Session, key: bytes, hub_id: int, enquiry_id: int, today: date
) -> HubEnquiryRecord:
    link = service.held(session, hub_id, enquiry_id)
    row = session.get(Enquiry, enquiry_id)
    assert row is not None
    return queries.full_record(session, key, link, row, today)


class HubsController(Controller):
    """Hubs: created by admins; a hub token lists its own."""

    path = "/api/v1/hubs"
    tags = ["hubs"]

    @post(
        "/",
        opt={"access": "hubs.admin"},
        dependencies=WRITING,
        sync_to_thread=True,
        summary="Create a hub",
    )
    def create(self, data: NewHub, caller: Caller, session: Session) -> Response[HubRecord]:
        """A hub over member councils, its handover stage (default application) and the
        working days a council has to decide on a handover."""
        hub = service.create_hub(session, caller, data)
        assert hub.id is not None
        record = queries.hub_record(session, hub.id)
        session.commit()
        return created(record, f"/api/v1/hubs/{hub.id}", versioned=False)

    @get("/", opt=READ, sync_to_thread=True, summary="List hubs")
    def list(self, caller: Caller, session: Session) -> list[HubRecord]:
        """Every hub (admins), or the caller's own."""
        hubs = queries.list_hubs(session)
        return hubs if caller.role is Role.ADMIN else [h for h in hubs if h.id == caller.hub_id]


class HubController(Controller):
    """One hub's front door: log, route, work and hand over enquiries."""

    path = "/api/v1/hubs/{hub_id:int}"
    tags = ["hubs"]

    @get("/", opt=READ, sync_to_thread=True, summary="One hub")
    def read(self, hub_id: HubId, session: Session) -> HubRecord:
        """The hub, its councils and their data sharing agreements."""
        return queries.hub_record(session, hub_id)

    @put(
        "/districts",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Route a postcode district",
    )
    def district(
        self, hub_id: HubId, data: DistrictChoice, caller: Caller, session: Session
    ) -> DistrictChoice:
        """The council the hub routes a postcode district to (its choice where a district
        spans councils); audited."""
        service.choose_district(session, caller, hub_id, data)
        session.commit()
        return DistrictChoice(district=data.district.upper(), authority_code=data.authority_code)

    @post(
        "/enquiries",
        opt=WRITE,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        summary="Log an enquiry at the hub",
    )
    def log(
        self,
        hub_id: HubId,
        data: HubNewEnquiry,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> Response[HubEnquiryRecord]:
        """Routed to the enquirer's chosen council (`authority_code`), else by postcode
        district (the hub's choice, then the shipped lookup); 422 naming the field when
        neither settles it. `other_councils` counts the hub's other councils the same
        person (email or phone) has an open enquiry with."""
        row, _ = service.log_enquiry(session, caller, hub_id, data, today, contact_key)
        assert row.id is not None
        record = _full(session, contact_key, hub_id, row.id, today)
        session.commit()
        return created(record, f"/api/v1/hubs/{hub_id}/enquiries/{row.id}", versioned=False)

    @get(
        "/enquiries",
        opt=READ,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        summary="The hub's enquiries",
    )
    def enquiries(
        self,
        hub_id: HubId,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
        handover: HandoverStatus | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[HubEnquiryRecord | HandedOverView]:
        """Newest first: in full while the hub holds them, by the council's agreement once
        accepted. Audited."""
        found = queries.hub_enquiries(
            session, caller, contact_key, hub_id, today, status=handover, limit=limit, offset=offset
        )
        session.commit()
        return found

    @get(
        "/enquiries/{enquiry_id:int}",
        opt=READ,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        summary="One of the hub's enquiries",
    )
    def enquiry(
        self,
        hub_id: HubId,
        enquiry_id: RecordId,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HubEnquiryRecord | HandedOverView:
        """All of it until the council accepts it; then what the council's agreement shares.
        Audited."""
        found = queries.hub_view(session, caller, contact_key, hub_id, enquiry_id, today)
        session.commit()
        return found

    @post(
        "/enquiries/{enquiry_id:int}/stage",
        opt=WRITE,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        status_code=200,
        summary="Move a hub enquiry on",
    )
    def advance(
        self,
        hub_id: HubId,
        enquiry_id: RecordId,
        data: StageMove,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HubEnquiryRecord:
        """Forward, no further than the hub's handover stage (409 beyond it)."""
        service.advance(session, caller, hub_id, enquiry_id, data, today)
        record = _full(session, contact_key, hub_id, enquiry_id, today)
        session.commit()
        return record

    @post(
        "/enquiries/{enquiry_id:int}/reassign",
        opt=WRITE,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        status_code=200,
        summary="Reassign to another council",
    )
    def reassign(
        self,
        hub_id: HubId,
        enquiry_id: RecordId,
        data: Reassignment,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HubEnquiryRecord:
        """Move an enquiry the hub holds (or one declined) to another member council;
        audited for both councils."""
        service.reassign(session, caller, hub_id, enquiry_id, data)
        record = _full(session, contact_key, hub_id, enquiry_id, today)
        session.commit()
        return record

    @post(
        "/enquiries/{enquiry_id:int}/offer",
        opt=WRITE,
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        status_code=200,
        summary="Offer to the council",
    )
    def offer(
        self,
        hub_id: HubId,
        enquiry_id: RecordId,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HubEnquiryRecord:
        """Hand over an enquiry at the handover stage; the council's decision is due in the
        hub's `decision_days` working days."""
        service.offer(session, caller, hub_id, enquiry_id, today)
        record = _full(session, contact_key, hub_id, enquiry_id, today)
        session.commit()
        return record

    @get("/tray", opt=READ, sync_to_thread=True, summary="The hub's overdue items")
    def tray(self, hub_id: HubId, session: Session, today: date) -> list[TrayItem]:
        """Missed service levels of enquiries the hub holds or has offered (first contact
        in 1 working day, initial visit in 5, the council's decision), most late first."""
        return queries.hub_tray(session, hub_id, today)

    @get("/summary", opt=READ, sync_to_thread=True, summary="The hub's figures")
    def summary(
        self,
        hub_id: HubId,
        session: Session,
        received_from: date | None = None,
        received_to: date | None = None,
    ) -> HubSummary:
        """Enquiries by council, source and campaign; conversion against the national 12%;
        time to handover and approval; declines by reason. Counts 1-4 withheld."""
        date_range(received_from, received_to, names=("received_from", "received_to"))
        return hub_summary(session, hub_id, received_from=received_from, received_to=received_to)

    @put(
        "/targets",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Set a hub target",
    )
    def target(self, hub_id: HubId, data: TargetIn, caller: Caller, session: Session) -> TargetIn:
        """The hub's target for enquiries, applications or approvals of all its councils in
        the year starting 1 April of `year`; audited."""
        set_target(session, caller, hub_id, data)
        session.commit()
        return data

    @get(
        "/outlook",
        opt={**READ, EXPENSIVE: True},
        sync_to_thread=True,
        summary="The hub's forecasts and targets",
    )
    def outlook(
        self, hub_id: HubId, session: Session, today: date, settings: Settings
    ) -> HubOutlook:
        """Enquiries, applications and approvals of all the hub's councils per month, forecast
        by the service's engine from the last complete month (its models and horizon), with
        the year's actual to date, its projected total (median and 80% range of the sample
        paths) and the chance of meeting the hub's target. Aggregates only."""
        return hub_outlook(session, hub_id, today, forecast_options(settings))


class HandoverController(Controller):
    """A council's handovers from its hub."""

    path = "/api/v1/authorities/{code:str}/handovers"
    tags = ["hubs"]
    dependencies = IN_SCOPE

    @get(
        "/",
        opt={"access": "handovers.read"},
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        summary="Handovers to the council",
    )
    def list(
        self, authority: str, caller: Caller, session: Session, today: date, contact_key: bytes
    ) -> list[HandoverOffer]:
        """Offered first; `with_other_councils` says the same person enquired with another
        council of the hub (never which). Audited."""
        found = queries.council_offers(session, caller, contact_key, authority, today)
        session.commit()
        return found

    @get(
        "/overdue",
        opt={"access": "handovers.read"},
        sync_to_thread=True,
        summary="The council's overdue handover items",
    )
    def overdue(self, authority: str, session: Session, today: date) -> list[TrayItem]:
        """Late decisions on offers, and missed service levels on accepted handovers."""
        return queries.council_tray(session, authority, today)

    @post(
        "/{enquiry_id:int}/accept",
        opt={"access": "handovers.write"},
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        status_code=200,
        summary="Accept a handover",
    )
    def accept(
        self,
        authority: str,
        enquiry_id: RecordId,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HandoverOffer:
        """The council takes the enquiry on; the hub then sees it by the agreement only."""
        service.accept(session, caller, authority, enquiry_id, today)
        found = queries.council_offer(session, contact_key, authority, enquiry_id, today)
        session.commit()
        return found

    @post(
        "/{enquiry_id:int}/decline",
        opt={"access": "handovers.write"},
        dependencies={**WRITING, **KEYED},
        sync_to_thread=True,
        status_code=200,
        summary="Decline a handover",
    )
    def decline(
        self,
        authority: str,
        enquiry_id: RecordId,
        data: Decline,
        caller: Caller,
        session: Session,
        today: date,
        contact_key: bytes,
    ) -> HandoverOffer:
        """Declined with a reason, the enquiry goes back to the hub's tray."""
        service.decline(session, caller, authority, enquiry_id, data, today)
        found = queries.council_offer(session, contact_key, authority, enquiry_id, today)
        session.commit()
        return found


class AgreementController(Controller):
    """A council's data sharing agreement with its hub."""

    path = "/api/v1/authorities/{code:str}/hub-agreement"
    tags = ["hubs"]
    dependencies = IN_SCOPE
    opt = {"access": "hubs.agreement"}

    @put("/", dependencies=WRITING, sync_to_thread=True, summary="Record the agreement")
    def record(
        self, authority: str, data: Agreement, caller: Caller, session: Session
    ) -> MemberRecord:
        """Which stage dates and fields the hub still sees after the council accepts an
        enquiry (nothing unless agreed). Audited."""
        member = service.set_agreement(session, caller, authority, data)
        found = queries.hub_record(session, member.hub_id)
        session.commit()
        return next(m for m in found.members if m.authority_code == authority)
