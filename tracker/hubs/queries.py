"""What the hub and its councils see: the hub, the enquiries it holds (in full while it
holds them, by the council's agreement once accepted), the councils' offers, and both
sides' overdue service levels. Every read of an enquiry is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import Authority
from tracker.core.errors import NotFoundError
from tracker.enquiries.queries import load_enquiry, reached_stages, to_record
from tracker.enquiries.stages import Stage
from tracker.enquiries.tables import Enquiry
from tracker.hubs.duplicates import contact_index, other_councils
from tracker.hubs.routing import member_codes
from tracker.hubs.rules import (
    Clock,
    DeclineReason,
    HandoverStatus,
    RoutedBy,
    first_contact_due,
    initial_visit_due,
)
from tracker.hubs.schemas import (
    HandedOverView,
    HandoverOffer,
    HubEnquiryRecord,
    HubRecord,
    MemberRecord,
    TrayItem,
)
from tracker.hubs.service import get_hub_row, held, member_of
from tracker.hubs.tables import Hub, HubEnquiry, HubMember


def hub_record(session: Session, hub_id: int) -> HubRecord:
    """A hub with its members and their agreements."""
    hub = get_hub_row(session, hub_id)
    rows = session.execute(
        select(HubMember, Authority.name)
        .join(Authority, col(Authority.code) == col(HubMember.authority_code))
        .where(HubMember.hub_id == hub_id)
        .order_by(col(Authority.name))
    ).all()
    assert hub.id is not None
    return HubRecord(
        id=hub.id,
        name=hub.name,
        handover_stage=Stage(hub.handover_stage),
        decision_days=hub.decision_days,
        members=[
            MemberRecord(
                authority_code=m.authority_code,
                name=name,
                shared_stages=[Stage(s) for s in m.shared_stages],
                shared_fields=list(m.shared_fields),
                agreed_on=m.agreed_on,
            )
            for m, name in rows
        ],
    )


def list_hubs(session: Session) -> list[HubRecord]:
    """Every hub, by name."""
    ids = session.scalars(select(Hub.id).order_by(col(Hub.name)))
    return [hub_record(session, i) for i in ids if i is not None]


def clocks_missed(row: Enquiry, link: HubEnquiry, today: date) -> list[tuple[Clock, date]]:
    """The service levels an open enquiry has missed on `today`, with their due dates."""
    if row.closed_on is not None:
        return []
    late = []
    due = first_contact_due(row.received_on)
    if row.first_contact_on is None and due < today:
        late.append((Clock.FIRST_CONTACT, due))
    due = initial_visit_due(row.received_on)
    if row.initial_visit_on is None and due < today:
        late.append((Clock.INITIAL_VISIT, due))
    if link.status == HandoverStatus.OFFERED and link.decision_due and link.decision_due < today:
        late.append((Clock.DECISION, link.decision_due))
    return late


def _duplicates(
    session: Session,
    key: bytes,
    link: HubEnquiry,
    row: Enquiry,
    index: dict[str, set[str]] | None = None,
) -> set[str]:
    if link.email_key is None and link.phone_key is None:
        return set()
    if index is None:
        index = contact_index(session, key, link.hub_id, member_codes(session, link.hub_id))
    return other_councils(
        index, authority_code=row.authority_code, email_key=link.email_key, phone_key=link.phone_key
    )


def full_record(
    session: Session,
    key: bytes,
    link: HubEnquiry,
    row: Enquiry,
    today: date,
    index: dict[str, set[str]] | None = None,
) -> HubEnquiryRecord:
    """An enquiry the hub holds, all of it (`index`: the hub's contact keys, when known)."""
    return HubEnquiryRecord(
        enquiry=to_record(row, today),
        hub_id=link.hub_id,
        routed_by=RoutedBy(link.routed_by),
        handover=HandoverStatus(link.status),
        offered_on=link.offered_on,
        decision_due=link.decision_due,
        decided_on=link.decided_on,
        decline_reason=DeclineReason(link.decline_reason) if link.decline_reason else None,
        overdue=[clock for clock, _ in clocks_missed(row, link, today)],
        other_councils=len(_duplicates(session, key, link, row, index)),
    )


def handed_over_view(session: Session, link: HubEnquiry, row: Enquiry) -> HandedOverView:
    """An accepted enquiry as the council's agreement lets the hub see it."""
    assert row.id is not None
    member = session.get(HubMember, (link.hub_id, row.authority_code))
    stages = set(member.shared_stages) if member else set()
    fields = list(member.shared_fields) if member else []
    return HandedOverView(
        enquiry_id=row.id,
        authority_code=row.authority_code,
        received_on=row.received_on,
        handover=HandoverStatus(link.status),
        decided_on=link.decided_on,
        stages={s.value: on for s, on in reached_stages(row).items() if s.value in stages},
        fields={f: getattr(row, f) for f in fields},
    )


def hub_view(
    session: Session, caller: Caller, key: bytes, hub_id: int, enquiry_id: int, today: date
) -> HubEnquiryRecord | HandedOverView:
    """One enquiry the hub logged: in full until the council accepts it, then by the
    council's agreement. The read is audited."""
    link = held(session, hub_id, enquiry_id)
    row = session.get(Enquiry, enquiry_id)
    assert row is not None
    accepted = link.status == HandoverStatus.ACCEPTED
    audit.record(
        session,
        caller,
        "read",
        "enquiry",
        enquiry_id,
        authority_code=row.authority_code,
        detail={"hub": hub_id, "view": "agreement" if accepted else "full"},
    )
    if accepted:
        return handed_over_view(session, link, row)
    return full_record(session, key, link, row, today)


def hub_enquiries(
    session: Session,
    caller: Caller,
    key: bytes,
    hub_id: int,
    today: date,
    *,
    status: HandoverStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[HubEnquiryRecord | HandedOverView]:
    """The hub's enquiries, newest first; accepted ones by agreement. The listing is audited."""
    get_hub_row(session, hub_id)
    query = (
        select(HubEnquiry, Enquiry)
        .join(Enquiry, col(Enquiry.id) == col(HubEnquiry.enquiry_id))
        .where(HubEnquiry.hub_id == hub_id)
        .order_by(col(Enquiry.received_on).desc(), col(Enquiry.id).desc())
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(HubEnquiry.status == status.value)
    found: list[HubEnquiryRecord | HandedOverView] = []
    index = contact_index(session, key, hub_id, member_codes(session, hub_id))
    for link, row in session.execute(query).all():
        if link.status == HandoverStatus.ACCEPTED:
            found.append(handed_over_view(session, link, row))
        else:
            found.append(full_record(session, key, link, row, today, index))
    shown = sorted(f.enquiry.id if isinstance(f, HubEnquiryRecord) else f.enquiry_id for f in found)
    detail = {"count": len(found), audit.SHOWN: shown}
    audit.record(session, caller, "list", "hub_enquiry", hub_id, detail=detail)
    return found


def hub_tray(session: Session, hub_id: int, today: date) -> list[TrayItem]:
    """Missed service levels of the enquiries the hub holds or has offered, most late first."""
    get_hub_row(session, hub_id)
    query = (
        select(HubEnquiry, Enquiry)
        .join(Enquiry, col(Enquiry.id) == col(HubEnquiry.enquiry_id))
        .where(HubEnquiry.hub_id == hub_id, HubEnquiry.status != HandoverStatus.ACCEPTED.value)
    )
    return _tray(session.execute(query).all(), today)


class NotIndexed(FunctionElement[Any]):
    """`column` as a term no index answers: `+column` on SQLite (its documented way to keep
    the planner off an index), the column itself elsewhere."""

    inherit_cache = True
    name = "not_indexed"

    @property
    def type(self) -> Any:  # the column's own type, so its comparisons bind alike
        return next(iter(self.clauses)).type


@compiles(NotIndexed)
def _not_indexed(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(NotIndexed, "sqlite")
def _not_indexed_sqlite(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def council_tray(session: Session, authority_code: str, today: date) -> list[TrayItem]:
    """The council's late decisions on offered handovers and the service levels missed on
    the handovers it accepted, most late first. Read from the hub's enquiries (few) to
    their enquiries: SQLite, without statistics, would otherwise walk every enquiry of the
    council looking each up among the hub's."""
    query = (
        select(HubEnquiry, Enquiry)
        .join(Enquiry, col(Enquiry.id) == col(HubEnquiry.enquiry_id))
        .where(
            NotIndexed(col(Enquiry.authority_code)) == authority_code,
            col(HubEnquiry.status).in_(
                [HandoverStatus.OFFERED.value, HandoverStatus.ACCEPTED.value]
            ),
        )
    )
    return _tray(session.execute(query).all(), today)


def _tray(rows: list, today: date) -> list[TrayItem]:
    items = []
    for link, row in rows:
        for clock, due in clocks_missed(row, link, today):
            items.append(
                TrayItem(
                    enquiry_id=row.id,
                    authority_code=row.authority_code,
                    clock=clock,
                    due=due,
                    days_overdue=(today - due).days,
                )
            )
    items.sort(key=lambda i: (-i.days_overdue, i.enquiry_id, i.clock))
    return items


def council_offers(
    session: Session, caller: Caller, key: bytes, authority_code: str, today: date
) -> list[HandoverOffer]:
    """The hub's handovers to this council (offered first, then decided), audited."""
    query = (
        select(HubEnquiry, Enquiry)
        .join(Enquiry, col(Enquiry.id) == col(HubEnquiry.enquiry_id))
        .where(
            Enquiry.authority_code == authority_code,
            col(HubEnquiry.status).in_(
                [
                    s.value
                    for s in (
                        HandoverStatus.OFFERED,
                        HandoverStatus.ACCEPTED,
                        HandoverStatus.DECLINED,
                    )
                ]
            ),
        )
        .order_by(col(HubEnquiry.offered_on).desc(), col(Enquiry.id).desc())
    )
    offers = []
    indexes: dict[int, dict[str, set[str]]] = {}
    for link, row in session.execute(query).all():
        if link.hub_id not in indexes:
            members = member_codes(session, link.hub_id)
            indexes[link.hub_id] = contact_index(session, key, link.hub_id, members)
        late = [c for c, _ in clocks_missed(row, link, today) if c is Clock.DECISION]
        offers.append(
            HandoverOffer(
                enquiry=to_record(row, today),
                handover=HandoverStatus(link.status),
                offered_on=link.offered_on,
                decision_due=link.decision_due,
                decided_on=link.decided_on,
                decline_reason=DeclineReason(link.decline_reason) if link.decline_reason else None,
                overdue=bool(late),
                with_other_councils=bool(
                    _duplicates(session, key, link, row, indexes[link.hub_id])
                ),
            )
        )
    offers.sort(key=lambda o: o.handover is not HandoverStatus.OFFERED)
    audit.record(
        session,
        caller,
        "list",
        "handover",
        None,
        authority_code=authority_code,
        detail={"count": len(offers), audit.SHOWN: sorted(o.enquiry.id for o in offers)},
    )
    return offers


def council_offer(
    session: Session, key: bytes, authority_code: str, enquiry_id: int, today: date
) -> HandoverOffer:
    """One handover to this council."""
    row = load_enquiry(session, authority_code, enquiry_id)
    link = session.get(HubEnquiry, enquiry_id)
    if link is None or link.status == HandoverStatus.WITH_HUB:
        raise NotFoundError(f"no handover of enquiry {enquiry_id} to {authority_code}", field="id")
    late = [c for c, _ in clocks_missed(row, link, today) if c is Clock.DECISION]
    return HandoverOffer(
        enquiry=to_record(row, today),
        handover=HandoverStatus(link.status),
        offered_on=link.offered_on,
        decision_due=link.decision_due,
        decided_on=link.decided_on,
        decline_reason=DeclineReason(link.decline_reason) if link.decline_reason else None,
        overdue=bool(late),
        with_other_councils=bool(_duplicates(session, key, link, row)),
    )


def hub_of_council(session: Session, authority_code: str) -> int | None:
    """The hub a council belongs to, if any."""
    member = member_of(session, authority_code)
    return member.hub_id if member else None
