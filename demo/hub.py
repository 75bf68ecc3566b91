"""A demo regional recruitment hub over the demo's councils of one region: their data
sharing agreements, a hub token, and some weeks of hub enquiries at every point of the
handover (held, offered, declined, accepted), so the hub's page has something to show."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.orm import Session

from tracker.core.access import SYSTEM, IssuedToken, Role, issue_token
from tracker.enquiries.schemas import StageMove
from tracker.enquiries.stages import Stage
from tracker.enquiries.vocabulary import Channel
from tracker.hubs import service
from tracker.hubs.rules import DeclineReason
from tracker.hubs.schemas import Agreement, Decline, HubNewEnquiry, NewHub
from tracker.hubs.tables import Hub

HUB_WEEKS = 8
HUB_ENQUIRIES_PER_WEEK = 6
CAMPAIGNS = ("Foster with the hub", "Radio spring", None)


def create_demo_hub(
    session: Session,
    name: str,
    codes: list[str],
    *,
    today: date,
    seed: int,
    key: bytes | None,
) -> tuple[Hub, IssuedToken]:
    """A hub over `codes` with agreements sharing the application and approval dates and
    the channel and campaign, its token, and `HUB_WEEKS` weeks of enquiries."""
    hub = service.create_hub(session, SYSTEM, NewHub(name=name, members=codes))
    assert hub.id is not None
    for code in codes:
        service.set_agreement(
            session,
            SYSTEM,
            code,
            Agreement(
                shared_stages=[Stage.APPLICATION, Stage.APPROVED],
                shared_fields=["channel", "campaign"],
                agreed_on=today - timedelta(days=90),
            ),
        )
    rng = random.Random(f"fostering-demo-hub:{seed}")
    for week in range(HUB_WEEKS, 0, -1):
        for _ in range(HUB_ENQUIRIES_PER_WEEK):
            received = today - timedelta(days=7 * week - rng.randrange(7))
            _demo_enquiry(session, hub, rng, rng.choice(codes), received, today, key)
    token = issue_token(session, role=Role.HUB, name=f"demo {name}", hub_id=hub.id)
    session.flush()
    return hub, token


def _demo_enquiry(
    session: Session,
    hub: Hub,
    rng: random.Random,
    code: str,
    received: date,
    today: date,
    key: bytes | None,
) -> None:
    assert hub.id is not None
    new = HubNewEnquiry(
        received_on=received,
        channel=rng.choice([Channel.WEB_FORM, Channel.PHONE, Channel.EVENT, Channel.EMAIL]),
        authority_code=code,
        enquirer_name=f"Hub enquirer {rng.randrange(10_000):04d}",
        campaign=rng.choice(CAMPAIGNS),
    )
    row, link = service.log_enquiry(session, SYSTEM, hub.id, new, today, key or b"")
    if key is None:
        link.email_key = link.phone_key = None
    assert row.id is not None
    # How far the hub got: most are contacted, some visited, a quarter reach application.
    day = received
    for stage, chance, gap in (
        (Stage.FIRST_CONTACT, 0.85, 1),
        (Stage.INITIAL_VISIT, 0.55, 6),
        (Stage.APPLICATION, 0.45, 12),
    ):
        day = day + timedelta(days=gap + rng.randrange(3))
        if day > today or rng.random() > chance:
            return
        service.advance(session, SYSTEM, hub.id, row.id, StageMove(stage=stage, on=day), today)
    offered = day + timedelta(days=rng.randrange(1, 4))
    if offered > today:
        return
    service.offer(session, SYSTEM, hub.id, row.id, offered)
    decided = offered + timedelta(days=rng.randrange(1, 6))
    if decided > today or rng.random() < 0.2:
        return  # still awaiting the council's decision
    if rng.random() < 0.15:
        reason = rng.choice(list(DeclineReason))
        service.decline(session, SYSTEM, code, row.id, Decline(reason=reason), decided)
    else:
        service.accept(session, SYSTEM, code, row.id, decided)
