"""Preload a benchmark database with years of realistic enquiries of one authority.

Rows go in through the tracker's own service functions (create, advance, close), so the
enquiry, its history events and the audit log look exactly as the API would leave them.
`tracker.demo.generate_demo` is used instead when it exists and works (``loader="auto"``).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from tracker.access import Caller, Role
from tracker.audit import AuditEntry
from tracker.db import Database
from tracker.enquiries import (
    Closure,
    Enquiry,
    EnquiryEvent,
    NewEnquiry,
    StageMove,
    advance_enquiry,
    close_enquiry,
    create_enquiry,
)
from tracker.stages import ClosureReason, Stage
from tracker.vocabulary import Channel, Ethnicity, HouseholdType, Interest

LOADER = Caller(token_id=None, name="bench-loader", role=Role.ADMIN)

# (next stage, chance of reaching it from the one before, days it takes: low, high)
PROGRESSION: tuple[tuple[Stage, float, int, int], ...] = (
    (Stage.FIRST_CONTACT, 0.85, 0, 3),
    (Stage.INITIAL_VISIT, 0.40, 7, 30),
    (Stage.APPLICATION, 0.45, 14, 60),
    (Stage.STAGE_1, 0.92, 0, 14),
    (Stage.STAGE_2, 0.80, 30, 90),
    (Stage.PANEL, 0.85, 60, 150),
    (Stage.APPROVED, 0.92, 7, 21),
)
EARLY_REASONS = (
    ClosureReason.NO_RESPONSE,
    ClosureReason.NO_RESPONSE,
    ClosureReason.WITHDRAWN_BY_APPLICANT,
    ClosureReason.OTHER_AGENCY,
)
LATE_REASONS = (
    ClosureReason.WITHDRAWN_BY_APPLICANT,
    ClosureReason.WITHDRAWN_BY_SERVICE,
    ClosureReason.OTHER_AGENCY,
    ClosureReason.OTHER,
)
CHANNELS = [c for c in Channel] + [Channel.WEB_FORM] * 4 + [Channel.PHONE] * 2
# Enquiries peak in January and around Foster Care Fortnight (May).
MONTH_WEIGHT = {
    1: 1.5,
    2: 1.1,
    3: 1.0,
    4: 0.9,
    5: 1.4,
    6: 1.0,
    7: 0.8,
    8: 0.7,
    9: 1.0,
    10: 1.0,
    11: 0.9,
    12: 0.6,
}


def _receipt_dates(rng: random.Random, n: int, today: date, years: int) -> list[date]:
    start = today.replace(year=today.year - years) + timedelta(days=1)
    span = (today - start).days
    days = [start + timedelta(days=i) for i in range(span + 1)]
    weights = [MONTH_WEIGHT[d.month] * (0.4 if d.weekday() >= 5 else 1.0) for d in days]
    return sorted(rng.choices(days, weights=weights, k=n))


def _new_enquiry(rng: random.Random, received_on: date, n: int) -> NewEnquiry:
    year = received_on.year
    return NewEnquiry(
        received_on=received_on,
        channel=rng.choice(CHANNELS),
        enquirer_name=f"{rng.choice(['Alex', 'Sam', 'Jo', 'Priya', 'Amina', 'Tom'])} Preload{n}",
        email=f"preload.{n}@example.org" if rng.random() < 0.8 else None,
        phone=f"07700 9{n % 100000:05d}" if rng.random() < 0.7 else None,
        postcode_district=rng.choice(["ST1", "ST2", "ST3", "ST4", "ST6", "ST10"]),
        household_type=rng.choice(list(HouseholdType)),
        ethnicity=rng.choice(list(Ethnicity)) if rng.random() < 0.9 else None,
        interests=rng.sample(list(Interest), k=rng.randint(1, 3)),
        campaign=rng.choice([None, None, f"spring-{year}", f"radio-{year}", "fortnight"]),
        external_ref=f"PRE-{n:06d}" if rng.random() < 0.3 else None,
    )


def load_own(
    database: Database,
    authority: str,
    n: int,
    years: int,
    today: date,
    seed: int = 2026,
    batch: int = 500,
) -> dict[str, Any]:
    """Create `n` enquiries received over `years` years, moved along a realistic funnel."""
    rng = random.Random(seed)
    dates = _receipt_dates(rng, n, today, years)
    session = database.write_session()
    try:
        for i, received_on in enumerate(dates, start=1):
            record = create_enquiry(
                session, LOADER, authority, _new_enquiry(rng, received_on, i), today
            )
            on, current = received_on, Stage.ENQUIRY
            for stage, chance, low, high in PROGRESSION:
                if rng.random() >= chance:
                    break
                nxt = on + timedelta(days=rng.randint(low, high))
                if nxt > today:
                    break
                advance_enquiry(
                    session, LOADER, authority, record.id, StageMove(stage=stage, on=nxt), today
                )
                on, current = nxt, stage
            if current is not Stage.APPROVED:
                closed_on = on + timedelta(days=rng.randint(5, 60))
                # Recent enquiries are still open; older stalled ones are mostly closed.
                if closed_on <= today and rng.random() < 0.9:
                    if current is Stage.PANEL:
                        reason = ClosureReason.REJECTED_AFTER_PANEL
                    elif current.rank <= Stage.FIRST_CONTACT.rank:
                        reason = rng.choice(EARLY_REASONS)
                    else:
                        reason = rng.choice(LATE_REASONS)
                    close_enquiry(
                        session,
                        LOADER,
                        authority,
                        record.id,
                        Closure(reason=reason, on=closed_on),
                        today,
                    )
            if i % batch == 0:
                session.commit()
                session.expunge_all()
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return {"loader": "own (tracker.enquiries service functions)"}


def load_demo(
    database: Database, authority: str, years: int, today: date, seed: int = 2026
) -> dict[str, Any]:
    """Use the project's demo generator (raises if it is missing or fails)."""
    from tracker.demo import generate_demo

    with database.writing() as session:
        generate_demo(session, today=today, authorities=(authority,), years=years, seed=seed)
    return {"loader": "tracker.demo.generate_demo"}


def volume(database: Database, authority: str) -> dict[str, Any]:
    """Row counts of the benchmark authority, by stage and status."""
    with database.read_session() as session:
        by_stage = dict(
            session.execute(
                select(Enquiry.stage, func.count())
                .where(Enquiry.authority_code == authority)
                .group_by(Enquiry.stage)
            ).all()
        )
        first, last = session.execute(
            select(func.min(Enquiry.received_on), func.max(Enquiry.received_on)).where(
                Enquiry.authority_code == authority
            )
        ).one()
        closed = session.scalar(
            select(func.count()).where(
                Enquiry.authority_code == authority, Enquiry.closed_on.is_not(None)
            )  # type: ignore[union-attr]
        )
        events = session.scalar(select(func.count()).select_from(EnquiryEvent))
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
    return {
        "enquiries": sum(by_stage.values()),
        "by_stage": {
            str(k): int(v) for k, v in sorted(by_stage.items(), key=lambda kv: Stage(kv[0]).rank)
        },
        "closed": int(closed or 0),
        "received_from": first.isoformat() if first else None,
        "received_to": last.isoformat() if last else None,
        "events": int(events or 0),
        "audit_entries": int(audit or 0),
    }


def preload(
    url: str,
    authority: str,
    n: int,
    years: int,
    today: date,
    loader: str = "auto",
    seed: int = 2026,
) -> dict[str, Any]:
    """Fill the database at `url`; returns what was loaded, how, and how long it took."""
    database = Database(url)
    started = time.perf_counter()
    notes: list[str] = []
    try:
        info: dict[str, Any] | None = None
        if loader in ("auto", "demo"):
            try:
                info = load_demo(database, authority, years, today, seed)
                if volume(database, authority)["enquiries"] == 0:
                    raise RuntimeError("generate_demo left no enquiries for the authority")
            except Exception as exc:
                if loader == "demo":
                    raise
                notes.append(
                    f"tracker.demo unusable, own loader used: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}"
                )
                info = None
        if info is None:
            info = load_own(database, authority, n, years, today, seed)
        elif loader == "auto":
            have = volume(database, authority)["enquiries"]
            info["demo_enquiries"] = have
            if have < n:
                load_own(database, authority, n - have, years, today, seed)
                info["loader"] += f" + own loader topping up {n - have} enquiries"
        info["seconds"] = round(time.perf_counter() - started, 1)
        info["notes"] = notes
        info["volume"] = volume(database, authority)
        stages = Counter(info["volume"]["by_stage"])
        info["volume"]["reached_application_or_later"] = sum(
            v for k, v in stages.items() if Stage(k).rank >= Stage.APPLICATION.rank
        )
        return info
    finally:
        database.dispose()
