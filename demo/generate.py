"""Realistic synthetic demo data: authorities, several years of enquiries, and demo tokens.

`generate_demo` fills an empty database with Stoke-on-Trent and some West Midlands
neighbours (or the authorities given), each with `years` years of enquiries ending on
`today`, moved through the funnel with dated history, the household register and capacity
figures over the same years, plus one token per role.

Volumes come from the shipped reference (Ofsted 2018-19 enquiries to the council's own
fostering service, 150 a year when missing), with mild year-to-year drift and a monthly
pattern: campaign peaks in January ("New Year") and May (Foster Care Fortnight), dips in
August and December.

Conversion targets (DOMAIN.md, Ofsted figures for councils):

* enquiry -> application about 12% (0.88 first contact x 0.40 initial visit x 0.34 apply);
* application -> approval about 60% (0.90 x 0.85 x 0.82 x 0.96 through Stage 1, Stage 2,
  panel and the decision), so enquiry -> approval about 7%. DOMAIN.md's "about 11% of
  council enquiries reach approval" cannot hold together with 12% reaching application
  (it would need over 90% of applications approved): Ofsted's households approved in a
  year include family-and-friends carers, who do not come through enquiries (England
  2018-19: 8,400 households approved, 2,415 applications approved), so the demo keeps
  the application rate and approves about 60% of applications;
* application -> approval takes about 273 days on average (the national figure; the
  norm is 8 months), so some open applications are overdue.

Closures carry the reasons a service records at each stage: no response and withdrawal by
the applicant early, withdrawal by the service during assessment, rejection after panel
only at panel and rarely. No stage or closure date is after `today`, so the latest
enquiries are still open at early stages, and a handful are open and overdue for first
contact.

Each authority also gets a household register over the same window (`tracker.demo_households`):
a stock of households and approvals and deregistrations sized from Ofsted's 2018-19 figures,
some in-house approvals linked to the approved demo enquiries, placements of pseudonymous
children (``DEMO-C-000123``) never beyond approved places, unavailable periods and holds, so
today's households, places and occupancy are near the reference; and children-in-care and
(for Stoke-on-Trent) external provision figures.

Personal data is plainly fake: names from short built-in lists, e-mail addresses at
example.org, phone numbers in Ofcom's drama range (07700 900000-900999) and postcode
districts of the authority's area. Every enquiry has an external reference such as
``DEMO-E06000021-000123``, and the same seed and `today` give identical enquiries and
history (token secrets are random, as tokens must be).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import msgspec
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from demo.children import import_demo_returns
from demo.households import (
    ApprovedEnquiry,
    children_in_care_rows,
    external_provision_rows,
    plan_register,
    store_figures,
    store_register,
)
from demo.plans import seed_scenarios, seed_targets
from tracker.core import audit
from tracker.core.access import SYSTEM, Role, issue_token
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.errors import ConflictError, InvalidValueError
from tracker.enquiries.stages import STAGE_ORDER, ClosureReason, Stage, check_closure, check_history
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.enquiries.timeliness import LONDON, first_contact_due, is_working_day, next_working_day
from tracker.enquiries.vocabulary import Channel, Ethnicity, HouseholdType, Interest
from tracker.households.tables import Household
from tracker.reference import AuthorityFigures, load_reference

__all__ = ["DEFAULT_AUTHORITIES", "DemoSummary", "generate_demo"]

STOKE = "E06000021"
DEFAULT_AUTHORITIES: tuple[str, ...] = (
    STOKE,  # Stoke-on-Trent
    "E10000028",  # Staffordshire
    "E06000020",  # Telford and Wrekin
    "E08000031",  # Wolverhampton
    "E08000026",  # Coventry
)
DEMO_ACTOR = "demo"
FALLBACK_ENQUIRIES = 150
# Approvals targets the councils' own strategies state (Stoke-on-Trent 2020-23: 33 in 2020/21).
SEED_TARGETS: dict[str, int] = {STOKE: 33}
# Share of households approved in a year that are mainstream, not family and friends.
MAINSTREAM_SHARE = 0.6
MIN_TARGET = 5

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


class DemoSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What `generate_demo` stored; token secrets are shown here once and never again."""

    authorities: list[str]
    enquiries: dict[str, int]
    # (role, authority code or region, or None for the admin token, secret)
    tokens: list[tuple[Role, str | None, str]]
    events: int = 0
    # Households stored per authority (deregistered ones included), and in all authorities
    # their placements, unavailable periods and children-in-care and provision figure rows.
    households: dict[str, int] = msgspec.field(default_factory=dict)
    placements: int = 0
    unavailable_periods: int = 0
    figures: int = 0
    ssda903_episodes: int = 0
    # Scenarios and targets saved for the seed strategies (tracker.demo_plans).
    scenarios: int = 0
    targets: int = 0


def generate_demo(
    session: Session,
    *,
    today: date,
    authorities: Sequence[str] = DEFAULT_AUTHORITIES,
    years: int = 6,
    seed: int = 2026,
    ssda903_key: bytes | None = None,
) -> DemoSummary:
    """Fill an empty database with demo authorities, enquiries with history, and tokens.

    Raises ConflictError if any enquiry is already stored, InvalidValueError for an unknown
    or repeated authority code or fewer than one year. Tokens: an admin, a recruiter and a
    manager for the first authority (Stoke-on-Trent by default) and a regional one for the
    first authority's region (West Midlands by default), plus a manager for each other
    authority. With `ssda903_key` (the installation's pseudonym key), the first authority
    also gets synthetic SSDA903 returns for the whole collection years in the window.
    """
    codes = [code.strip().upper() for code in authorities]
    if not codes:
        raise InvalidValueError("give at least one authority", field="authorities")
    if len(set(codes)) != len(codes):
        raise InvalidValueError("an authority is given twice", field="authorities")
    if years < 1:
        raise InvalidValueError("years must be at least 1", field="years")
    reference = load_reference()
    unknown = [c for c in codes if c not in reference or reference[c].region is None]
    if unknown:
        raise InvalidValueError(
            f"no reference figures for {', '.join(unknown)}: give English LA ONS codes",
            field="authorities",
        )
    for table, what in ((Enquiry, "enquiries"), (Household, "households")):
        if session.scalar(select(func.count()).select_from(table)):
            raise ConflictError(
                f"the database already holds {what}: the demo only fills an empty database",
                rule="not_empty",
            )
    start = today - relativedelta(years=years) + timedelta(days=1)
    counts: dict[str, int] = {}
    households: dict[str, int] = {}
    events = placements = unavailable = figure_rows = 0
    for code in codes:
        figures = reference[code]
        assert figures.region is not None
        add_authority(
            session,
            NewAuthority(
                code=code,
                name=figures.name,
                region=figures.region,
                annual_approvals_target=_approvals_target(figures),
            ),
        )
        rng = random.Random(f"fostering-demo:{seed}:{code}")
        plans = _plan_authority(rng, code, _annual_volume(figures), start, today)
        stored, ids = _store(session, rng, plans)
        events += stored
        counts[code] = len(plans)
        # The register has an RNG of its own, so the enquiries stay as they were without it.
        rng = random.Random(f"fostering-demo-register:{seed}:{code}")
        approved = [
            ApprovedEnquiry(
                id=enquiry_id,
                approved_on=plan.reached[Stage.APPROVED],
                ethnicity=plan.fields["ethnicity"],
                interests=plan.fields["interests"],
            )
            for enquiry_id, plan in zip(ids, plans, strict=True)
            if Stage.APPROVED in plan.reached
        ]
        register = plan_register(
            rng, figures, start=start, today=today, years=years, enquiries=approved
        )
        homes, placed, periods = store_register(session, rng, code, register)
        households[code] = homes
        placements += placed
        unavailable += periods
        figure_rows += store_figures(
            session,
            children_in_care_rows(rng, figures, start, today),
            external_provision_rows(code, today, rng),
        )
        audit.record(
            session, SYSTEM, "demo", "authority", code,
            authority_code=code,
            detail={"enquiries": len(plans), "households": homes, "placements": placed,
                    "seed": seed},
        )  # fmt: skip
    home = codes[0]
    region = reference[home].region
    episodes = 0
    if ssda903_key is not None:
        episodes = import_demo_returns(
            session, reference[home], start=start, today=today, key=ssda903_key, seed=seed
        )
    scenarios = seed_scenarios(session, home, today=today)
    targets = sum(seed_targets(session, code, today=today) for code in codes)
    tokens: list[tuple[Role, str | None, str]] = []
    for role, name, code, scope in (
        (Role.ADMIN, "demo admin", None, None),
        (Role.RECRUITER, f"demo recruiter {home}", home, home),
        (Role.MANAGER, f"demo manager {home}", home, home),
        (Role.REGIONAL, f"demo {region}", None, region),
        *((Role.MANAGER, f"demo manager {code}", code, code) for code in codes[1:]),
    ):
        issued = issue_token(
            session,
            role=role,
            name=name,
            authority_code=code,
            region=scope if role is Role.REGIONAL else None,
        )
        tokens.append((role, scope, issued.secret))
    session.flush()
    return DemoSummary(
        authorities=codes,
        enquiries=counts,
        tokens=tokens,
        events=events,
        households=households,
        placements=placements,
        unavailable_periods=unavailable,
        figures=figure_rows,
        ssda903_episodes=episodes,
        scenarios=scenarios,
        targets=targets,
    )


def _approvals_target(figures: AuthorityFigures) -> int:
    """A yearly approvals target: the council's own where a strategy states one, else sized
    from the households it approved in 2018-19 without the family-and-friends share."""
    if figures.code in SEED_TARGETS:
        return SEED_TARGETS[figures.code]
    if figures.households_approved_in_year is not None:
        return max(MIN_TARGET, round(figures.households_approved_in_year * MAINSTREAM_SHARE))
    return max(MIN_TARGET, round(_annual_volume(figures) * 0.07))


def _annual_volume(figures: AuthorityFigures) -> int:
    return figures.enquiries or FALLBACK_ENQUIRIES


class _Plan:
    """One generated enquiry before it is stored."""

    __slots__ = ("closure", "fields", "reached")

    def __init__(self, fields: dict[str, Any], reached: dict[Stage, date]) -> None:
        self.fields = fields
        self.reached = reached
        self.closure: tuple[ClosureReason, date] | None = None


def _plan_authority(
    rng: random.Random, code: str, volume: int, start: date, today: date
) -> list[_Plan]:
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
        count = _poisson(rng, expected * len(days) / full)
        weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in days]
        dates += rng.choices(days, weights=weights, k=count) if days else []
        month = following
    return sorted(dates)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _pick(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _person(rng: random.Random, code: str, received_on: date) -> _Plan:
    """The enquirer's (fake) details, channel and campaign."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    channel: Channel = _pick(rng, CHANNELS)
    email = f"{first}.{last}{rng.randint(1, 99)}@example.org".lower()
    phone = f"07700 900{rng.randint(0, 999):03d}"
    if channel is not Channel.WEB_FORM and channel is not Channel.EMAIL and rng.random() < 0.3:
        email = None
    if channel is not Channel.PHONE and rng.random() < 0.2:
        phone = None
    districts = POSTCODE_DISTRICTS.get(code)
    postcode = rng.choice(districts) if districts and rng.random() < 0.9 else None
    household: HouseholdType | None = _pick(rng, HOUSEHOLDS)
    ethnicity: Ethnicity | None = _pick(rng, ETHNICITIES)
    roll = rng.random()
    if roll < 0.05:
        interests: list[str] = []
    elif roll < 0.22:
        interests = [Interest.UNDECIDED.value]
    else:
        chosen = {_pick(rng, INTERESTS) for _ in range(rng.choice((1, 1, 2, 2, 3)))}
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
    return _Plan(fields, {Stage.ENQUIRY: received_on})


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


def _progress(rng: random.Random, plan: _Plan, today: date) -> None:
    """Move the enquiry along the funnel until it closes, is approved or reaches today."""
    for current, following in pairwise(STAGE_ORDER):
        on = plan.reached[current]
        if rng.random() < PROGRESS[current]:
            reached = _gap(rng, following, on)
            if reached > today:
                return
            plan.reached[following] = reached
            continue
        reason: ClosureReason = _pick(rng, CLOSURE_REASONS[current])
        low, high = CLOSURE_DAYS[current]
        closed_on = _working(on + timedelta(days=rng.randint(low, high)))
        if closed_on <= today:
            plan.closure = (reason, closed_on)
        return


def _leave_some_uncontacted(rng: random.Random, plans: list[_Plan], today: date) -> None:
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


def _at(day: date, rng: random.Random) -> datetime:
    """A time in the London working day of `day`, in UTC (for created and recorded times)."""
    start = datetime.combine(day, time(8, 30), tzinfo=LONDON)
    return (start + timedelta(minutes=rng.randint(0, 540))).astimezone(UTC)


def _store(session: Session, rng: random.Random, plans: list[_Plan]) -> tuple[int, list[int]]:
    """Insert an authority's enquiries and their history in two bulk statements.

    Returns the number of events and the enquiries' ids, in the order of `plans`.
    """
    rows: list[dict[str, Any]] = []
    histories: list[list[dict[str, Any]]] = []
    for plan in plans:
        stage = max(plan.reached, key=lambda s: s.rank)
        history = [
            {
                "action": "created" if s is Stage.ENQUIRY else "advanced",
                "stage": s.value,
                "on_date": on,
                "note": None,
                "actor": DEMO_ACTOR,
                "recorded_at": _at(on, rng),
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
                    "recorded_at": _at(closed_on, rng),
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
            "version": len(history),
            "created_at": history[0]["recorded_at"],
            "updated_at": history[-1]["recorded_at"],
            "erased_at": None,
        }
        rows.append(row)
        histories.append(history)
    if not rows:
        return 0, []
    statement = insert(Enquiry).returning(Enquiry.id, sort_by_parameter_order=True)  # type: ignore[arg-type]
    # render_nulls keeps every row in one batch (otherwise rows are grouped by their NULLs).
    ids = session.scalars(statement, rows, execution_options={"render_nulls": True}).all()
    events = [
        event | {"enquiry_id": enquiry_id}
        for enquiry_id, history in zip(ids, histories, strict=True)
        for event in history
    ]
    session.execute(insert(EnquiryEvent), events, execution_options={"render_nulls": True})
    return len(events), list(ids)
