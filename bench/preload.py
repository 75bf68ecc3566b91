"""Preload a benchmark database: a region of authorities and years of enquiries.

With ``loader="auto"`` (or ``"demo"``), `demo.generate.generate_demo` fills the database with
every authority given (the benchmark passes the 14 West Midlands councils, its own authority
first): years of enquiries with history, the household register with placements and
unavailable periods, and children-in-care figures, all sized from the shipped reference
(`tracker/reference`). Councils Ofsted gives no figures for (Birmingham, Sandwell) are sized
by the demo's own fallbacks (150 enquiries a year; households from children in foster care
in 2019). Authorities named in ``returns`` are left out of the demo and loaded instead as
aggregate capacity returns through `tracker.regional.load_returns`, as a hub would hold
other councils; the same happens automatically, for councils without Ofsted figures, if the
demo refuses the whole list.

The benchmark authority's enquiries are then topped up to ``n`` by the own loader: rows go in
through the tracker's own service functions (create, advance, close), so the enquiry, its
history events and the audit log look exactly as the API would leave them.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from tracker.core.access import Caller, Role
from tracker.core.audit import AuditEntry
from tracker.core.db import Database
from tracker.enquiries.schemas import Closure, NewEnquiry, StageMove
from tracker.enquiries.service import advance_enquiry, close_enquiry, create_enquiry
from tracker.enquiries.stages import ClosureReason, Stage
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest

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


def region_codes(region: str, first: str) -> list[str]:
    """ONS codes of the region's authorities in the shipped reference, `first` first."""
    from tracker.reference import load_reference

    codes = sorted(
        code
        for code, item in load_reference().items()
        if item.region is not None and item.region.lower() == region.lower()
    )
    if first in codes:
        codes.remove(first)
    return [first, *codes]


def without_ofsted_figures(codes: Sequence[str]) -> list[str]:
    """The codes whose reference has no Ofsted households (the demo then uses fallbacks)."""
    from tracker.reference import load_reference

    reference = load_reference()
    return [c for c in codes if c in reference and reference[c].households is None]


def load_demo(
    database: Database, authorities: Sequence[str], years: int, today: date, seed: int = 2026
) -> dict[str, Any]:
    """Use the project's demo generator (raises if it is missing or fails)."""
    from demo.generate import generate_demo

    with database.writing() as session:
        summary = generate_demo(
            session, today=today, authorities=tuple(authorities), years=years, seed=seed
        )
    return {
        "loader": "demo.generate.generate_demo",
        "demo": {
            "authorities": list(summary.authorities),
            "enquiries": dict(summary.enquiries),
            "households_stored": dict(summary.households),
            "events": summary.events,
            "placements": summary.placements,
            "unavailable_periods": summary.unavailable_periods,
            "figure_rows": summary.figures,
        },
    }


def return_rows(codes: Sequence[str], as_at: date) -> bytes:
    """Aggregate capacity returns (the regional CSV shape) sized from the reference, with the
    demo's own fallbacks where Ofsted gives nothing: households 0.45 x children in foster
    care in 2019, 1.65 places a household, 8% unavailable, 85% of the rest filled."""
    from tracker.reference import load_reference

    reference = load_reference()
    buffer = io.StringIO()
    columns = [
        "authority_code", "as_at", "care_type", "households", "approved_places",
        "filled_places", "vacant_places", "unavailable_places", "children_in_care",
    ]  # fmt: skip
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for code in codes:
        item = reference[code]
        households = item.households or max(
            10,
            round(0.45 * (item.children_in_foster_care_2019 or 0))
            or round(0.25 * (item.children_in_care or 0)),
        )
        approved = item.approved_places or round(households * 1.65)
        unavailable = (
            item.unavailable_places
            if item.unavailable_places is not None
            else round(0.08 * approved)
        )
        filled = (
            item.filled_places
            if item.filled_places is not None
            else round(0.85 * (approved - unavailable))
        )
        vacant = max(0, approved - unavailable - filled)
        figures = {
            "households": households,
            "approved_places": approved,
            "filled_places": filled,
            "vacant_places": vacant,
            "unavailable_places": unavailable,
        }
        writer.writerow({"authority_code": code, "as_at": as_at, "care_type": "in_house"} | figures)
        writer.writerow(
            {"authority_code": code, "as_at": as_at, "care_type": "all"}
            | figures
            | {"children_in_care": item.children_in_care}
        )
    return buffer.getvalue().encode()


def load_capacity_returns(database: Database, codes: Sequence[str], today: date) -> dict[str, Any]:
    """Load `codes` as aggregate capacity returns as at today (tracker.regional.load_returns)."""
    from tracker.capacity.returns import load_returns

    with database.writing() as session:
        report = load_returns(session, LOADER, return_rows(codes, today), today)
    return {
        "authorities": list(codes),
        "rows": report.rows,
        "returns": report.returns,
        "authorities_created": list(report.authorities_created),
        "warnings": [w.message for w in report.warnings],
    }


def region_volume(database: Database, region: str, today: date) -> dict[str, Any]:
    """What the region holds: authorities, enquiries, households (stored, and active or on
    hold today by the regional view's roll-up), placements and capacity returns."""
    from tracker.capacity.regional import regional_capacity
    from tracker.capacity.tables import CapacityReturn
    from tracker.core.authorities import Authority
    from tracker.households.tables import Household, Placement

    with database.read_session() as session:
        codes = list(
            session.scalars(
                select(Authority.code).where(func.lower(Authority.region) == region.lower())
            )
        )
        in_region = Enquiry.authority_code.in_(codes)  # type: ignore[attr-defined]
        enquiries = session.scalar(select(func.count()).select_from(Enquiry).where(in_region))
        per_authority = dict(
            session.execute(
                select(Household.authority_code, func.count()).group_by(Household.authority_code)
            ).all()
        )
        placements = session.scalar(select(func.count()).select_from(Placement))
        returns = session.scalar(select(func.count()).select_from(CapacityReturn))
        view = regional_capacity(session, region, today)
    total = (
        next((r for r in view.rollup.rows if r.care_type == "all"), None) if view.rollup else None
    )
    return {
        "region": region,
        "authorities": len(codes),
        "enquiries": int(enquiries or 0),
        "households_stored": int(sum(per_authority.values())),
        "households_stored_by_authority": {k: int(v) for k, v in sorted(per_authority.items())},
        "households_today": total.households if total else None,
        "approved_places_today": total.approved_places if total else None,
        "placements": int(placements or 0),
        "capacity_return_rows": int(returns or 0),
        "authorities_by_source": {
            str(k): int(v) for k, v in view.rollup.authorities_by_source.items()
        }
        if view.rollup
        else {},
    }


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
        events = session.scalar(
            select(func.count())
            .select_from(EnquiryEvent)
            .join(Enquiry, Enquiry.id == EnquiryEvent.enquiry_id)  # type: ignore[arg-type]
            .where(Enquiry.authority_code == authority)
        )
        audit = session.scalar(
            select(func.count()).where(AuditEntry.authority_code == authority)  # type: ignore[arg-type]
        )
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
    authorities: Sequence[str] | None = None,
    returns: Sequence[str] = (),
    region: str | None = None,
) -> dict[str, Any]:
    """Fill the database at `url`; returns what was loaded, how, and how long it took.

    `authorities` (default: `authority` alone, which must come first) go to the demo, except
    those in `returns`, which are loaded as capacity returns. `region` adds the region's
    counts to the answer.
    """
    database = Database(url)
    started = time.perf_counter()
    notes: list[str] = []
    codes = list(authorities or (authority,))
    as_returns = [c for c in codes if c in set(returns) and c != authority]
    demo_codes = [c for c in codes if c not in as_returns]
    try:
        info: dict[str, Any] | None = None
        if loader in ("auto", "demo"):
            try:
                try:
                    info = load_demo(database, demo_codes, years, today, seed)
                except Exception as exc:
                    missing = [c for c in without_ofsted_figures(demo_codes) if c != authority]
                    if not missing or len(demo_codes) == 1:
                        raise
                    # The demo refused the whole list: leave the councils without Ofsted
                    # figures to capacity returns and try once more.
                    notes.append(
                        f"generate_demo failed for {len(demo_codes)} authorities "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                        f"); {', '.join(missing)} (no Ofsted figures) loaded as capacity returns"
                    )
                    as_returns += missing
                    demo_codes = [c for c in demo_codes if c not in missing]
                    info = load_demo(database, demo_codes, years, today, seed)
                if volume(database, authority)["enquiries"] == 0:
                    raise RuntimeError("generate_demo left no enquiries for the authority")
            except Exception as exc:
                if loader == "demo":
                    raise
                notes.append(
                    f"demo.generate unusable, own loader used: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}"
                )
                info = None
        if info is None:
            info = load_own(database, authority, n, years, today, seed)
            # No demo register anywhere: the rest of the region can only come as returns.
            as_returns = [c for c in codes if c != authority]
        elif loader == "auto":
            have = volume(database, authority)["enquiries"]
            info["demo_enquiries"] = have
            if have < n:
                load_own(database, authority, n - have, years, today, seed)
                info["loader"] += f" + own loader topping up {n - have} enquiries"
        if as_returns:
            info["returns"] = load_capacity_returns(database, as_returns, today)
        info["seconds"] = round(time.perf_counter() - started, 1)
        info["notes"] = notes
        if region is not None:
            info["region"] = region_volume(database, region, today)
        info["volume"] = volume(database, authority)
        stages = Counter(info["volume"]["by_stage"])
        info["volume"]["reached_application_or_later"] = sum(
            v for k, v in stages.items() if Stage(k).rank >= Stage.APPLICATION.rank
        )
        return info
    finally:
        database.dispose()
