"""A hub's work: setting it up, logging and routing enquiries, working them up to the
handover stage, offering them to councils, and the councils' decisions; every change
audited and kept in the enquiry's history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import ConflictError, InvalidValueError, NotFoundError, StageRuleError
from tracker.enquiries import service as enquiries
from tracker.enquiries.queries import load_enquiry
from tracker.enquiries.schemas import NewEnquiry, StageMove
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.hubs.duplicates import contact_keys
from tracker.hubs.routing import member_codes, route
from tracker.hubs.rules import DeclineReason, HandoverStatus, RoutedBy, decision_due
from tracker.hubs.schemas import (
    Agreement,
    Decline,
    DistrictChoice,
    HubNewEnquiry,
    NewHub,
    Reassignment,
)
from tracker.hubs.tables import Hub, HubDistrict, HubEnquiry, HubMember


def get_hub_row(session: Session, hub_id: int) -> Hub:
    """The hub with this id (NotFoundError naming hub_id)."""
    row = session.get(Hub, hub_id)
    if row is None:
        raise NotFoundError(f"no hub with id {hub_id}", field="hub_id")
    return row


def create_hub(session: Session, caller: Caller, new: NewHub) -> Hub:
    """A new hub over existing authorities; each starts with an empty agreement (the hub
    sees nothing of an enquiry once its council accepts it, until the council agrees)."""
    if session.scalars(select(Hub).where(Hub.name == new.name)).first() is not None:
        raise ConflictError(f"a hub named {new.name!r} exists", rule="hub_name_taken", field="name")
    if not new.members:
        raise InvalidValueError("a hub needs at least one council", field="members")
    for code in new.members:
        get_authority(session, code)
    if new.handover_stage in (Stage.ENQUIRY, Stage.APPROVED):
        raise InvalidValueError(
            "the handover stage lies between first contact and panel", field="handover_stage"
        )
    hub = Hub(
        name=new.name, handover_stage=new.handover_stage.value, decision_days=new.decision_days
    )
    session.add(hub)
    session.flush()
    assert hub.id is not None
    for code in sorted(set(new.members)):
        session.add(HubMember(hub_id=hub.id, authority_code=code))
    audit.record(session, caller, "create", "hub", hub.id, detail={"members": sorted(new.members)})
    session.flush()
    return hub


def member_of(session: Session, authority_code: str) -> HubMember | None:
    """The hub membership of a council (a council belongs to one hub at most here)."""
    query = select(HubMember).where(HubMember.authority_code == authority_code)
    return session.scalars(query).first()


def set_agreement(
    session: Session, caller: Caller, authority_code: str, agreement: Agreement
) -> HubMember:
    """Record a council's data sharing agreement with its hub."""
    member = member_of(session, authority_code)
    if member is None:
        raise NotFoundError(f"{authority_code} belongs to no hub", field="code")
    member.shared_stages = sorted({s.value for s in agreement.shared_stages})
    member.shared_fields = sorted(set(agreement.shared_fields))
    member.agreed_on = agreement.agreed_on
    audit.record(
        session,
        caller,
        "agreement",
        "hub_member",
        member.hub_id,
        authority_code=authority_code,
        detail={"stages": member.shared_stages, "fields": member.shared_fields},
    )
    session.flush()
    return member


def choose_district(session: Session, caller: Caller, hub_id: int, choice: DistrictChoice) -> None:
    """Set the council a postcode district routes to for this hub."""
    get_hub_row(session, hub_id)
    if choice.authority_code not in member_codes(session, hub_id):
        raise InvalidValueError(
            f"{choice.authority_code} is not a council of this hub", field="authority_code"
        )
    district = choice.district.upper()
    row = session.get(HubDistrict, (hub_id, district))
    if row is None:
        session.add(
            HubDistrict(hub_id=hub_id, district=district, authority_code=choice.authority_code)
        )
    else:
        row.authority_code = choice.authority_code
    audit.record(
        session,
        caller,
        "route",
        "hub_district",
        f"{hub_id}:{district}",
        authority_code=choice.authority_code,
    )
    session.flush()


def log_enquiry(
    session: Session, caller: Caller, hub_id: int, new: HubNewEnquiry, today: date, key: bytes
) -> tuple[Enquiry, HubEnquiry]:
    """Log an enquiry at the hub, routed to one of its councils."""
    get_hub_row(session, hub_id)
    code, routed_by = route(
        session, hub_id, district=new.postcode_district, chosen=new.authority_code
    )
    record = enquiries.create_enquiry(
        session,
        caller,
        code,
        NewEnquiry(
            received_on=new.received_on,
            channel=new.channel,
            enquirer_name=new.enquirer_name,
            email=new.email,
            phone=new.phone,
            postcode_district=new.postcode_district,
            campaign=new.campaign,
            note=new.note,
        ),
        today,
    )
    email_key, phone_key = contact_keys(key, new.email, new.phone)
    link = HubEnquiry(
        enquiry_id=record.id,
        hub_id=hub_id,
        routed_by=routed_by.value,
        status=HandoverStatus.WITH_HUB.value,
        email_key=email_key,
        phone_key=phone_key,
    )
    session.add(link)
    audit.record(
        session,
        caller,
        "route",
        "enquiry",
        record.id,
        authority_code=code,
        detail={"hub": hub_id, "routed_by": routed_by.value},
    )
    session.flush()
    row = session.get(Enquiry, record.id)
    assert row is not None
    return row, link


def held(session: Session, hub_id: int, enquiry_id: int, *, lock: bool = False) -> HubEnquiry:
    """The hub's record of an enquiry it logged (NotFoundError when it logged no such one)."""
    link = session.get(HubEnquiry, enquiry_id, with_for_update=lock)
    if link is None or link.hub_id != hub_id:
        raise NotFoundError(f"the hub logged no enquiry {enquiry_id}", field="id")
    return link


def _hub_may_work(link: HubEnquiry) -> None:
    if link.status in (HandoverStatus.ACCEPTED, HandoverStatus.OFFERED):
        raise StageRuleError(
            f"enquiry {link.enquiry_id} is {link.status}: the council has it now",
            rule="handed_over",
            field="id",
        )


def advance(
    session: Session, caller: Caller, hub_id: int, enquiry_id: int, move: StageMove, today: date
) -> Enquiry:
    """Move an enquiry the hub holds forward, no further than the hub's handover stage."""
    hub = get_hub_row(session, hub_id)
    link = held(session, hub_id, enquiry_id, lock=True)
    _hub_may_work(link)
    handover = Stage(hub.handover_stage)
    if move.stage.rank > handover.rank:
        raise StageRuleError(
            f"the hub works enquiries up to {handover}: the council takes them to {move.stage}",
            rule="beyond_handover_stage",
            field="stage",
        )
    row = load_enquiry(session, _code_of(session, enquiry_id), enquiry_id)
    enquiries.advance_enquiry(session, caller, row.authority_code, enquiry_id, move, today)
    return row


def _code_of(session: Session, enquiry_id: int) -> str:
    code = session.scalar(select(Enquiry.authority_code).where(Enquiry.id == enquiry_id))
    if code is None:
        raise NotFoundError(f"no enquiry {enquiry_id}", field="id")
    return code


def _event(session: Session, caller: Caller, row: Enquiry, action: str, note: str | None) -> None:
    assert row.id is not None
    row.version += 1
    session.add(EnquiryEvent(enquiry_id=row.id, action=action, note=note, actor=caller.actor))


def reassign(
    session: Session, caller: Caller, hub_id: int, enquiry_id: int, change: Reassignment
) -> Enquiry:
    """Move an enquiry the hub holds (not offered, not accepted) to another member council."""
    link = held(session, hub_id, enquiry_id, lock=True)
    _hub_may_work(link)
    if change.authority_code not in member_codes(session, hub_id):
        raise InvalidValueError(
            f"{change.authority_code} is not a council of this hub", field="authority_code"
        )
    row = load_enquiry(session, _code_of(session, enquiry_id), enquiry_id, lock=True)
    before = row.authority_code
    if before == change.authority_code:
        raise ConflictError(
            f"enquiry {enquiry_id} is already with {before}",
            rule="same_council",
            field="authority_code",
        )
    if row.external_ref is not None:
        taken = session.scalar(
            select(Enquiry.id).where(
                Enquiry.authority_code == change.authority_code,
                Enquiry.external_ref == row.external_ref,
            )
        )
        if taken is not None:
            row.external_ref = None
    row.authority_code = change.authority_code
    link.routed_by = RoutedBy.REASSIGNED.value
    link.status = HandoverStatus.WITH_HUB.value
    link.offered_on = link.decision_due = link.decided_on = None
    _event(
        session, caller, row, "reassigned", change.note or f"{before} to {change.authority_code}"
    )
    for code in (before, change.authority_code):
        audit.record(
            session,
            caller,
            "reassign",
            "enquiry",
            enquiry_id,
            authority_code=code,
            detail={"from": before, "to": change.authority_code, "hub": hub_id},
        )
    session.flush()
    return row


def offer(
    session: Session, caller: Caller, hub_id: int, enquiry_id: int, today: date
) -> HubEnquiry:
    """Offer an enquiry at the handover stage to its council; the decision clock starts."""
    hub = get_hub_row(session, hub_id)
    link = held(session, hub_id, enquiry_id, lock=True)
    _hub_may_work(link)
    row = load_enquiry(session, _code_of(session, enquiry_id), enquiry_id, lock=True)
    if row.closed_on is not None:
        raise StageRuleError(
            f"enquiry {enquiry_id} is closed: reopen it first", rule="closed_enquiry", field="id"
        )
    if Stage(row.stage).rank < Stage(hub.handover_stage).rank:
        raise StageRuleError(
            f"enquiry {enquiry_id} is at {row.stage}: the hub hands over at {hub.handover_stage}",
            rule="handover_stage_not_reached",
            field="id",
        )
    link.status = HandoverStatus.OFFERED.value
    link.offered_on = today
    link.decision_due = decision_due(today, hub.decision_days)
    link.decided_on = None
    _event(session, caller, row, "offered", f"offered to {row.authority_code}")
    audit.record(session, caller, "offer", "enquiry", enquiry_id, authority_code=row.authority_code)
    session.flush()
    return link


def _offered_to(
    session: Session, authority_code: str, enquiry_id: int
) -> tuple[HubEnquiry, Enquiry]:
    row = load_enquiry(session, authority_code, enquiry_id, lock=True)
    link = session.get(HubEnquiry, enquiry_id, with_for_update=True)
    if link is None or link.status != HandoverStatus.OFFERED:
        raise StageRuleError(
            f"enquiry {enquiry_id} is not offered to {authority_code}",
            rule="not_offered",
            field="id",
        )
    return link, row


def accept(
    session: Session, caller: Caller, authority_code: str, enquiry_id: int, today: date
) -> HubEnquiry:
    """The council takes an offered enquiry on."""
    link, row = _offered_to(session, authority_code, enquiry_id)
    link.status = HandoverStatus.ACCEPTED.value
    link.decided_on = today
    _event(session, caller, row, "accepted", None)
    audit.record(session, caller, "accept", "enquiry", enquiry_id, authority_code=authority_code)
    session.flush()
    return link


def decline(
    session: Session,
    caller: Caller,
    authority_code: str,
    enquiry_id: int,
    refusal: Decline,
    today: date,
) -> HubEnquiry:
    """The council declines an offered enquiry with a reason; it goes back to the hub."""
    link, row = _offered_to(session, authority_code, enquiry_id)
    link.status = HandoverStatus.DECLINED.value
    link.decided_on = today
    link.decline_reason = DeclineReason(refusal.reason).value
    _event(session, caller, row, "declined", refusal.note or refusal.reason.value)
    audit.record(
        session,
        caller,
        "decline",
        "enquiry",
        enquiry_id,
        authority_code=authority_code,
        detail={"reason": link.decline_reason},
    )
    session.flush()
    return link
