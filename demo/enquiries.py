"""The demo's enquiries: arrivals with the seasonal pattern, the enquirers' (fake) details,
their progress through the funnel with dated history, and storing them in bulk."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from demo import DEMO_ACTOR, STOKE
from demo.draws import at_work, pick, poisson
from tracker.core.bulk import insert_rows, insert_rows_returning_ids
from tracker.enquiries.stages import (
    APPLICANT_WITHDRAWALS,
    STAGE_ORDER,
    ClosureReason,
    Stage,
    WithdrawalReason,
    check_closure,
    check_history,
)
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import first_contact_due, is_working_day, next_working_day
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest
from tracker.reference import AuthorityFigures

FALLBACK_ENQUIRIES = 150


# Share of households approved in a year that are mainstream, not family and friends.
MAINSTREAM_SHARE = 0.6


# Relative monthly volume (January = 1 ... December = 12); the mean is 1.
MONTH_WEIGHTS: dict[int, float] = {
    1: 1.35, 2: 1.05, 3: 1.0, 4: 0.95, 5: 1.4, 6: 1.05,
    7: 0.9, 8: 0.65, 9: 1.05, 10: 1.0, 11: 0.95, 12: 0.65,
}  # fmt: skip


CAMPAIGNS: dict[int, str] = {1: "New Year", 5: "Foster Care Fortnight"}


CAMPAIGN_SHARE = 0.7  # of a peak month's enquiries, those the campaign brought in


WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.9, 0.45, 0.35)  # Monday ... Sunday


CHANNELS: tuple[tuple[Channel, float], ...] = (
    (Channel.WEB_FORM, 45),
    (Channel.PHONE, 25),
    (Channel.EMAIL, 10),
    (Channel.EVENT, 10),
    (Channel.REFERRAL, 10),
)


# Probability of moving on from each stage to the next one; otherwise the enquiry closes.
PROGRESS: dict[Stage, float] = {
    Stage.ENQUIRY: 0.88,
    Stage.FIRST_CONTACT: 0.40,
    Stage.INITIAL_VISIT: 0.34,
    Stage.APPLICATION: 0.90,
    Stage.STAGE_1: 0.85,
    Stage.STAGE_2: 0.82,
    Stage.PANEL: 0.96,
}


R = ClosureReason


CLOSURE_REASONS: dict[Stage, tuple[tuple[ClosureReason, float], ...]] = {
    Stage.ENQUIRY: ((R.NO_RESPONSE, 70), (R.WITHDRAWN_BY_APPLICANT, 20), (R.OTHER_AGENCY, 10)),
    Stage.FIRST_CONTACT: (
        (R.NO_RESPONSE, 40), (R.WITHDRAWN_BY_APPLICANT, 40), (R.WITHDRAWN_BY_SERVICE, 8),
        (R.OTHER_AGENCY, 8), (R.OTHER, 4),
    ),
    Stage.INITIAL_VISIT: (
        (R.WITHDRAWN_BY_APPLICANT, 50), (R.WITHDRAWN_BY_SERVICE, 25), (R.NO_RESPONSE, 15),
        (R.OTHER_AGENCY, 10),
    ),
    Stage.APPLICATION: (
        (R.WITHDRAWN_BY_APPLICANT, 60), (R.WITHDRAWN_BY_SERVICE, 30), (R.OTHER_AGENCY, 10),
    ),
    Stage.STAGE_1: ((R.WITHDRAWN_BY_SERVICE, 50), (R.WITHDRAWN_BY_APPLICANT, 45), (R.OTHER, 5)),
    Stage.STAGE_2: (
        (R.WITHDRAWN_BY_APPLICANT, 50), (R.WITHDRAWN_BY_SERVICE, 45), (R.OTHER_AGENCY, 5),
    ),
    Stage.PANEL: ((R.REJECTED_AFTER_PANEL, 60), (R.WITHDRAWN_BY_APPLICANT, 40)),
}  # fmt: skip


# Why applicants withdrew after applying (Ofsted's codes; None: no reason recorded).
W = WithdrawalReason
WITHDRAWALS: tuple[tuple[WithdrawalReason | None, float], ...] = (
    (W.AW3, 35), (W.AW1, 15), (W.AW2, 15), (W.AW4, 10), (W.AW5, 5), (W.AW0, 10), (None, 10),
)  # fmt: skip


def withdrawal_of(code: str, index: int, plan: EnquiryPlan) -> str | None:
    """The recorded withdrawal reason of an applicant's closure after applying, from a random
    stream of its own (so adding it changed none of the demo's other figures)."""
    if plan.closure is None or plan.closure[0] not in APPLICANT_WITHDRAWALS:
        return None
    if Stage.APPLICATION not in plan.reached:
        return None
    chosen: WithdrawalReason | None = pick(random.Random(f"withdrawal-{code}-{index}"), WITHDRAWALS)
    return chosen.value if chosen else None


# Days from reaching a stage to closing at it (uniform between the bounds).
CLOSURE_DAYS: dict[Stage, tuple[int, int]] = {
    Stage.ENQUIRY: (3, 30),
    Stage.FIRST_CONTACT: (7, 60),
    Stage.INITIAL_VISIT: (14, 70),
    Stage.APPLICATION: (7, 60),
    Stage.STAGE_1: (14, 100),
    Stage.STAGE_2: (20, 200),
    Stage.PANEL: (3, 21),
}


# Days to reach each stage after the previous one: (mean, gamma shape, min, max), chosen so
# that application -> approval averages about 273 days (30 + 65 + 164 + 14).
GAPS: dict[Stage, tuple[float, float, int, int]] = {
    Stage.APPLICATION: (35, 6, 14, 56),
    Stage.STAGE_1: (30, 4, 7, 70),
    Stage.STAGE_2: (65, 6, 28, 130),
    Stage.PANEL: (164, 8, 100, 280),
}


FIRST_NAMES = (
    "Aisha", "Alex", "Amelia", "Ben", "Chloe", "Daniel", "Ella", "Fatima", "George", "Grace",
    "Hannah", "Harpreet", "Imran", "Jack", "Jade", "James", "Kelly", "Liam", "Mark", "Mia",
    "Nadia", "Oliver", "Priya", "Rachel", "Ryan", "Sam", "Sarah", "Tom", "Yusuf", "Zoe",
)  # fmt: skip


LAST_NAMES = (
    "Ahmed", "Bailey", "Baker", "Begum", "Brown", "Clarke", "Davies", "Evans", "Green",
    "Hall", "Hughes", "Hussain", "Jones", "Kaur", "Khan", "Lewis", "Mills", "Patel",
    "Roberts", "Shaw", "Singh", "Smith", "Taylor", "Thomas", "Turner", "Walker", "White",
    "Williams", "Wood", "Wright",
)  # fmt: skip


POSTCODE_DISTRICTS: dict[str, tuple[str, ...]] = {
    STOKE: ("ST1", "ST2", "ST3", "ST4", "ST6"),
    "E10000028": (
        "ST5", "ST7", "ST10", "ST14", "ST15", "ST16", "ST17", "ST18", "ST19", "WS11", "WS12",
        "WS13", "WS15", "DE13", "DE14", "B77", "B78",
    ),
    "E06000020": ("TF1", "TF2", "TF3", "TF4", "TF5", "TF6", "TF7", "TF10"),
    "E08000031": ("WV1", "WV2", "WV3", "WV4", "WV6", "WV10", "WV11", "WV14"),
    "E08000026": ("CV1", "CV2", "CV3", "CV4", "CV5", "CV6"),
}  # fmt: skip


HOUSEHOLDS: tuple[tuple[HouseholdType | None, float], ...] = (
    (HouseholdType.COUPLE, 53), (HouseholdType.SINGLE, 37), (HouseholdType.OTHER, 5), (None, 5),
)  # fmt: skip


E = Ethnicity


ETHNICITIES: tuple[tuple[Ethnicity | None, float], ...] = (
    (E.WHITE_BRITISH, 64), (E.WHITE_IRISH, 1), (E.WHITE_OTHER, 3.5),
    (E.WHITE_GYPSY_OR_IRISH_TRAVELLER, 0.3), (E.WHITE_ROMA, 0.2),
    (E.MIXED_WHITE_AND_BLACK_CARIBBEAN, 1.5), (E.MIXED_WHITE_AND_BLACK_AFRICAN, 0.5),
    (E.MIXED_WHITE_AND_ASIAN, 1), (E.MIXED_OTHER, 0.5),
    (E.ASIAN_INDIAN, 3.5), (E.ASIAN_PAKISTANI, 4), (E.ASIAN_BANGLADESHI, 0.5),
    (E.ASIAN_CHINESE, 0.5), (E.ASIAN_OTHER, 1),
    (E.BLACK_AFRICAN, 2.5), (E.BLACK_CARIBBEAN, 1.5), (E.BLACK_OTHER, 0.5),
    (E.OTHER_ARAB, 0.5), (E.OTHER_ANY, 0.5),
    (E.NOT_STATED, 10), (None, 3),
)  # fmt: skip


INTERESTS: tuple[tuple[Interest, float], ...] = (
    (Interest.MAINSTREAM_SHORT_TERM, 30), (Interest.MAINSTREAM_LONG_TERM, 25),
    (Interest.SHORT_BREAKS, 12), (Interest.SIBLING_GROUPS, 8), (Interest.PARENT_AND_CHILD, 5),
    (Interest.EMERGENCY, 6), (Interest.THERAPEUTIC, 4), (Interest.SUPPORTED_LODGINGS, 5),
)  # fmt: skip


def annual_volume(figures: AuthorityFigures) -> int:
    """Enquiries a year the authority's published figures imply."""
    return figures.enquiries or FALLBACK_ENQUIRIES


class EnquiryPlan:
    """One generated enquiry before it is stored."""

    __slots__ = ("closure", "fields", "reached")

    def __init__(self, fields: dict[str, Any], reached: dict[Stage, date]) -> None:
        self.fields = fields
        self.reached = reached
        self.closure: tuple[ClosureReason, date] | None = None


def plan_enquiries(
    rng: random.Random, code: str, volume: int, start: date, today: date
) -> list[EnquiryPlan]:
    """An authority's enquiries from `start` to `today`, each moved through the funnel."""
    arrivals = _arrivals(rng, volume, start, today)
    plans = [_person(rng, code, received_on) for received_on in arrivals]
    for plan in plans:
        _progress(rng, plan, today)
    _leave_some_uncontacted(rng, plans, today)
    for number, plan in enumerate(plans, start=1):
        plan.fields["external_ref"] = f"DEMO-{code}-{number:06d}"
        check_history(plan.reached, today)
        if plan.closure is not None:
            check_closure(max(plan.reached, key=lambda s: s.rank), plan.closure[0])
    return plans


def _arrivals(rng: random.Random, volume: int, start: date, today: date) -> list[date]:
    """Receipt dates, month by month, with drift between years and seasonality."""
    drift: dict[int, float] = {}
    level = 1.0
    for year in range(start.year, today.year + 1):
        drift[year] = level
        level = min(1.3, max(0.75, level * math.exp(rng.gauss(0, 0.07))))
    mean = sum(drift.values()) / len(drift)  # keep the reference volume as the average
    drift = {year: level / mean for year, level in drift.items()}
    dates: list[date] = []
    month = date(start.year, start.month, 1)
    while month <= today:
        following = month + relativedelta(months=1)
        days = [
            month + timedelta(days=i)
            for i in range((following - month).days)
            if start <= month + timedelta(days=i) <= today
        ]
        full = (following - month).days
        expected = volume / 12 * MONTH_WEIGHTS[month.month] * drift[month.year]
        count = poisson(rng, expected * len(days) / full)
        weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in days]
        dates += rng.choices(days, weights=weights, k=count) if days else []
        month = following
    return sorted(dates)


def _person(rng: random.Random, code: str, received_on: date) -> EnquiryPlan:
    """The enquirer's (fake) details, channel and campaign."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    channel: Channel = pick(rng, CHANNELS)
    email = f"{first}.{last}{rng.randint(1, 99)}@example.org".lower()
    phone = f"07700 900{rng.randint(0, 999):03d}"
    if channel is not Channel.WEB_FORM and channel is not Channel.EMAIL and rng.random() < 0.3:
        email = None
    if channel is not Channel.PHONE and rng.random() < 0.2:
        phone = None
    districts = POSTCODE_DISTRICTS.get(code)
    postcode = rng.choice(districts) if districts and rng.random() < 0.9 else None
    household: HouseholdType | None = pick(rng, HOUSEHOLDS)
    ethnicity: Ethnicity | None = pick(rng, ETHNICITIES)
    roll = rng.random()
    if roll < 0.05:
        interests: list[str] = []
    elif roll < 0.22:
        interests = [Interest.UNDECIDED.value]
    else:
        chosen = {pick(rng, INTERESTS) for _ in range(rng.choice((1, 1, 2, 2, 3)))}
        interests = [i.value for i in Interest if i in chosen]
    campaign = None
    if received_on.month in CAMPAIGNS and rng.random() < CAMPAIGN_SHARE:
        campaign = f"{CAMPAIGNS[received_on.month]} {received_on.year}"
    fields: dict[str, Any] = {
        "authority_code": code,
        "received_on": received_on,
        "channel": channel.value,
        "campaign": campaign,
        "enquirer_name": f"{first} {last}",
        "email": email,
        "phone": phone,
        "postcode_district": postcode,
        "household_type": household.value if household else None,
        "ethnicity": ethnicity.value if ethnicity else None,
        "interests": interests,
    }
    return EnquiryPlan(fields, {Stage.ENQUIRY: received_on})


def _working(day: date) -> date:
    return day if is_working_day(day) else next_working_day(day)


def _gap(rng: random.Random, stage: Stage, previous: date) -> date:
    """The date `stage` is reached, from the date the stage before it was reached."""
    if stage is Stage.FIRST_CONTACT:
        roll = rng.random()
        if roll < 0.3 and is_working_day(previous):
            return previous
        day = next_working_day(previous)
        if roll > 0.85:  # late: two to six working days
            for _ in range(rng.randint(1, 5)):
                day = next_working_day(day)
        return day
    if stage is Stage.INITIAL_VISIT:
        return _working(previous + timedelta(days=rng.randint(7, 28)))
    if stage is Stage.APPROVED:  # the decision maker, one to three weeks after panel
        return _working(previous + timedelta(days=rng.randint(7, 21)))
    mean, shape, low, high = GAPS[stage]
    days = round(rng.gammavariate(shape, mean / shape))
    return _working(previous + timedelta(days=min(high, max(low, days))))


def _progress(rng: random.Random, plan: EnquiryPlan, today: date) -> None:
    """Move the enquiry along the funnel until it closes, is approved or reaches today."""
    for current, following in pairwise(STAGE_ORDER):
        on = plan.reached[current]
        if rng.random() < PROGRESS[current]:
            reached = _gap(rng, following, on)
            if reached > today:
                return
            plan.reached[following] = reached
            continue
        reason: ClosureReason = pick(rng, CLOSURE_REASONS[current])
        low, high = CLOSURE_DAYS[current]
        closed_on = _working(on + timedelta(days=rng.randint(low, high)))
        if closed_on <= today:
            plan.closure = (reason, closed_on)
        return


def _leave_some_uncontacted(rng: random.Random, plans: list[EnquiryPlan], today: date) -> None:
    """Leave a handful of the last three weeks' enquiries open and overdue for first contact."""
    recent = [
        p
        for p in plans
        if p.reached[Stage.ENQUIRY] >= today - timedelta(days=21)
        and first_contact_due(p.reached[Stage.ENQUIRY]) < today
    ]
    if not recent:
        return
    for plan in rng.sample(recent, min(len(recent), max(2, round(0.15 * len(recent))))):
        plan.reached = {Stage.ENQUIRY: plan.reached[Stage.ENQUIRY]}
        plan.closure = None


def store_enquiries(
    session: Session, rng: random.Random, plans: list[EnquiryPlan], *, copy: bool = True
) -> tuple[int, list[int]]:
    """Insert an authority's enquiries and their history in two bulk writes (COPY on
    PostgreSQL unless `copy` is false: `tracker.core.bulk`).

    Returns the number of events and the enquiries' ids, in the order of `plans`.
    """
    rows: list[dict[str, Any]] = []
    histories: list[list[dict[str, Any]]] = []
    for index, plan in enumerate(plans):
        stage = max(plan.reached, key=lambda s: s.rank)
        history = [
            {
                "action": "created" if s is Stage.ENQUIRY else "advanced",
                "stage": s.value,
                "on_date": on,
                "note": None,
                "actor": DEMO_ACTOR,
                "recorded_at": at_work(on, rng),
            }
            for s, on in sorted(plan.reached.items(), key=lambda item: item[0].rank)
        ]
        closed_on, reason = None, None
        if plan.closure is not None:
            reason, closed_on = plan.closure[0].value, plan.closure[1]
            history.append(
                {
                    "action": "closed",
                    "stage": stage.value,
                    "on_date": closed_on,
                    "note": None,
                    "actor": DEMO_ACTOR,
                    "recorded_at": at_work(closed_on, rng),
                }
            )
        for earlier, later in pairwise(history):
            later["recorded_at"] = max(later["recorded_at"], earlier["recorded_at"])
        row = dict(plan.fields)
        for s in STAGE_ORDER[1:]:
            row[s.date_column] = plan.reached.get(s)
        row |= {
            "stage": stage.value,
            "closed_on": closed_on,
            "closure_reason": reason,
            "withdrawal_reason": withdrawal_of(str(plan.fields["authority_code"]), index, plan),
            "version": len(history),
            "created_at": history[0]["recorded_at"],
            "updated_at": history[-1]["recorded_at"],
            "erased_at": None,
        }
        rows.append(row)
        histories.append(history)
    if not rows:
        return 0, []
    ids = insert_rows_returning_ids(session, Enquiry, rows, copy=copy)
    events = [
        event | {"enquiry_id": enquiry_id}
        for enquiry_id, history in zip(ids, histories, strict=True)
        for event in history
    ]
    insert_rows(session, EnquiryEvent, events, copy=copy)
    return len(events), ids
