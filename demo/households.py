"""The demo's household register, placements, unavailable places and capacity figures.

`generate_demo` calls `plan_register` and `store_register` for each demo authority, over the
same window as its enquiries, with an RNG of its own (so adding the register left the demo
enquiries as they were). Sizes come from the shipped reference, Ofsted 2018-19 for the
council's own fostering service, with fallbacks where a council has none:

* households: a stock approved before the window, then approvals spread over the years (about
  `households_approved_in_year` a year, with drift) and deregistrations, about
  `households_deregistered` a year, as many as leave today's active and on-hold households at
  the reference `households`. Where approvals and deregistrations differ a lot, the net change
  is capped at 6% of the stock a year and deregistrations follow. In-house approvals are taken
  first from the demo's approved enquiries: linked by `enquiry_id`, approved on the enquiry's
  date, with the enquirer's ethnicity and terms from their interests (at most one household an
  enquiry). Connected carers never come from enquiries; their first child is placed on the
  day of approval.
* care types: in-house mainstream about 65%, connected carers 28%, a few supported lodgings
  and Staying Put hosts; places 1-4 (mostly 1-2), the in-house mix tilted so approved places
  per household match the reference; several terms each.
* month by month, in this order: deregistrations (placements and unavailable periods running
  then end that day), households back from hold, approvals, changes of approved places, new
  holds (about 3% of households, only those with nobody placed), unavailable periods on
  vacant places (to the reference share of approved places, on-hold places included), and
  placements into vacant places up to a target occupancy of available places: in-house set
  so that filled places overall match the reference, between 78% and 90% (the Stoke strategy
  reports 85%), a little lower early in the window; connected carers 92%. Targets wander a
  little from month to month.

Each household has one slot per approved place, and a slot holds one placement or one
unavailable period at a time, so no day has more children than approved places; places drop
only when a slot is free; a child moving on (about one new placement in five) starts after
their last placement ended. Placements and periods still running today are stored open.
Children in care figures (source "demo") come from the DfE count with a plausible mix, and
the Stoke strategy's own figures where it gives them (1,022 children in March 2022, 1,109 in
March 2023 of whom 211 with in-house and 205 with connected carers; local IFA and private
children's home provision in April 2023).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from datetime import date, timedelta
from typing import Any

import msgspec
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from demo import DEMO_ACTOR
from demo.draws import at_work, pick, poisson
from tracker.core.bulk import insert_rows, insert_rows_returning_ids
from tracker.enquiries.vocabulary import Ethnicity, Interest
from tracker.households.care_types import (
    CarerAgeBand,
    DeregistrationReason,
    HouseholdCareType,
    HouseholdStatus,
    Term,
    UnavailableReason,
)
from tracker.households.rules import EARLIEST
from tracker.households.tables import Household, HouseholdVersion, Placement, Unavailability
from tracker.reference import AuthorityFigures

__all__ = [
    "ApprovedEnquiry",
    "RegisterPlan",
    "plan_register",
    "store_register",
]


HC = HouseholdCareType
T = Term
CARE_TYPES: tuple[tuple[HouseholdCareType, float], ...] = (
    (HC.IN_HOUSE, 65.5), (HC.CONNECTED, 28), (HC.SUPPORTED_LODGINGS, 4), (HC.STAYING_PUT, 2.5),
)  # fmt: skip
# Approved places; the in-house weights are tilted per authority to the reference mean.
PLACES: dict[HouseholdCareType, tuple[tuple[int, float], ...]] = {
    HC.IN_HOUSE: ((1, 40), (2, 38), (3, 15), (4, 7)),
    HC.CONNECTED: ((1, 62), (2, 28), (3, 10)),
    HC.SUPPORTED_LODGINGS: ((1, 80), (2, 20)),
    HC.STAYING_PUT: ((1, 95), (2, 5)),
}
# Target occupancy of available places; in-house is derived from the reference.
OCCUPANCY: dict[HouseholdCareType, float] = {
    HC.CONNECTED: 0.92,
    HC.SUPPORTED_LODGINGS: 0.8,
    HC.STAYING_PUT: 0.9,
}
IN_HOUSE_OCCUPANCY = (0.78, 0.9)  # the Stoke strategy reports 85%
OCCUPANCY_RISE = 0.03  # in-house occupancy this much lower at the window start
# Placement lengths in days: (weight, shortest, longest), log-uniform within each.
DURATIONS: dict[HouseholdCareType, tuple[tuple[float, int, int], ...]] = {
    HC.IN_HOUSE: ((28, 7, 60), (42, 60, 540), (30, 540, 2900)),
    HC.CONNECTED: ((12, 30, 180), (88, 365, 2500)),
    HC.SUPPORTED_LODGINGS: ((100, 120, 900),),
    HC.STAYING_PUT: ((100, 180, 1100),),
}
AGE_RANGES: dict[HouseholdCareType, tuple[tuple[tuple[int, int], float], ...]] = {
    HC.IN_HOUSE: (
        ((0, 17), 30), ((0, 10), 15), ((0, 4), 8), ((0, 1), 3), ((5, 17), 15), ((8, 17), 14),
        ((11, 17), 15),
    ),
    HC.SUPPORTED_LODGINGS: (((16, 21), 70), ((16, 25), 30)),
    HC.STAYING_PUT: (((18, 21), 80), ((18, 25), 20)),
}  # fmt: skip
# Chance of each term of approval (at least one is always given).
TERMS: dict[HouseholdCareType, tuple[tuple[Term, float], ...]] = {
    HC.IN_HOUSE: (
        (T.SHORT_TERM, 0.75), (T.LONG_TERM, 0.55), (T.SHORT_BREAKS, 0.25), (T.EMERGENCY, 0.2),
        (T.SIBLING_GROUP, 0.35), (T.PARENT_AND_CHILD, 0.06), (T.THERAPEUTIC, 0.05),
    ),
    HC.CONNECTED: ((T.LONG_TERM, 0.85), (T.SHORT_TERM, 0.3), (T.SIBLING_GROUP, 0.2)),
    HC.SUPPORTED_LODGINGS: ((T.LONG_TERM, 0.6), (T.SHORT_TERM, 0.6), (T.EMERGENCY, 0.1)),
    HC.STAYING_PUT: ((T.LONG_TERM, 1.0),),
}  # fmt: skip
INTEREST_TERMS: dict[Interest, Term] = {
    Interest.MAINSTREAM_SHORT_TERM: T.SHORT_TERM,
    Interest.MAINSTREAM_LONG_TERM: T.LONG_TERM,
    Interest.SHORT_BREAKS: T.SHORT_BREAKS,
    Interest.PARENT_AND_CHILD: T.PARENT_AND_CHILD,
    Interest.EMERGENCY: T.EMERGENCY,
    Interest.SIBLING_GROUPS: T.SIBLING_GROUP,
    Interest.THERAPEUTIC: T.THERAPEUTIC,
}
DR = DeregistrationReason
LEAVING: dict[HouseholdCareType, tuple[tuple[DeregistrationReason, float], ...]] = {
    HC.IN_HOUSE: (
        (DR.RESIGNED, 40), (DR.RETIRED, 30), (DR.MOVED_AGENCY, 12), (DR.STANDARDS_CONCERN, 3),
        (DR.OTHER, 15),
    ),
    # Kinship care mostly ends with a special guardianship order or the child going home.
    HC.CONNECTED: (
        (DR.OTHER, 40), (DR.RESIGNED, 32), (DR.RETIRED, 20), (DR.MOVED_AGENCY, 5),
        (DR.STANDARDS_CONCERN, 3),
    ),
}  # fmt: skip
UR = UnavailableReason
# Unavailable periods: (reason, weight, shortest and longest days).
BLOCKS: tuple[tuple[UnavailableReason, float, int, int], ...] = (
    (UR.CARER_CIRCUMSTANCES, 45, 30, 270),
    (UR.MATCHED_PENDING, 25, 10, 42),
    (UR.UNDER_INVESTIGATION, 12, 30, 200),
    (UR.OTHER, 18, 21, 150),
)
ETHNICITY_MIX: tuple[tuple[Ethnicity | None, float], ...] = (
    (Ethnicity.WHITE_BRITISH, 72), (Ethnicity.WHITE_IRISH, 1), (Ethnicity.WHITE_OTHER, 2.5),
    (Ethnicity.WHITE_GYPSY_OR_IRISH_TRAVELLER, 0.3),
    (Ethnicity.MIXED_WHITE_AND_BLACK_CARIBBEAN, 1.5), (Ethnicity.MIXED_WHITE_AND_ASIAN, 0.7),
    (Ethnicity.MIXED_OTHER, 0.5), (Ethnicity.ASIAN_INDIAN, 2.5),
    (Ethnicity.ASIAN_PAKISTANI, 3.5), (Ethnicity.ASIAN_BANGLADESHI, 0.4),
    (Ethnicity.ASIAN_OTHER, 0.6), (Ethnicity.BLACK_AFRICAN, 2), (Ethnicity.BLACK_CARIBBEAN, 2),
    (Ethnicity.OTHER_ANY, 0.5), (Ethnicity.NOT_STATED, 7), (None, 3),
)  # fmt: skip
# Approved carers' age bands (Ofsted: about two in three carers are over 50, one in four over
# 60), and the shares of households with nothing recorded about their carers, one carer's
# age not known, disability not known, and of carers disabled.
CARER_AGES: tuple[tuple[CarerAgeBand, float], ...] = (
    (CarerAgeBand.AGE_18_19, 0.1), (CarerAgeBand.AGE_20_24, 0.5),
    (CarerAgeBand.AGE_25_29, 1.5), (CarerAgeBand.AGE_30_34, 3.5),
    (CarerAgeBand.AGE_35_39, 6), (CarerAgeBand.AGE_40_44, 9), (CarerAgeBand.AGE_45_49, 13),
    (CarerAgeBand.AGE_50_54, 17), (CarerAgeBand.AGE_55_59, 18), (CarerAgeBand.AGE_60_64, 14),
    (CarerAgeBand.AGE_65_69, 10), (CarerAgeBand.AGE_70_PLUS, 6),
)  # fmt: skip
CARERS_UNRECORDED = 0.04
AGE_UNKNOWN = 0.03
DISABILITY_UNKNOWN = 0.05
DISABLED = 0.06
MOVE_SHARE = 0.2  # new placements of a child whose last placement ended in the last 4 months
MOVE_WINDOW = 120
HOLD_SHARE = 0.03
HOLD_DAYS = (45, 365)
PLACES_CORRECTION = 3.0
CHANGE_RATE = 0.004  # per household and month: approved places changed at a review
STOCK_NET_CAP = 0.06  # of the stock a year: the largest net change the demo keeps
REVIEW_OVERDUE = 0.08


class ApprovedEnquiry(msgspec.Struct, frozen=True):
    """An approved demo enquiry a household can come from."""

    id: int
    approved_on: date
    ethnicity: str | None
    interests: list[str]


class _Placement:
    __slots__ = ("child", "end", "start")

    def __init__(self, child: str, start: date, end: date) -> None:
        self.child, self.start, self.end = child, start, end


class _Block:
    __slots__ = ("end", "places", "reason", "start")

    def __init__(self, places: int, reason: UnavailableReason, start: date, end: date) -> None:
        self.places, self.reason, self.start, self.end = places, reason, start, end


class _Slot:
    """One approved place: it holds one placement or unavailable period at a time."""

    __slots__ = ("busy_from", "free_from", "item")

    def __init__(self, free_from: date) -> None:
        self.free_from = free_from
        self.busy_from: date | None = None
        self.item: _Placement | _Block | None = None

    def holds(self, kind: type, day: date) -> bool:
        return (
            isinstance(self.item, kind)
            and self.busy_from is not None
            and self.busy_from <= day < self.free_from
        )


class _Home:
    __slots__ = (
        "approved_on", "blocks", "care_type", "enquiry_id", "ethnicity", "hold_until", "left_on",
        "placements", "slots", "status", "versions",
    )  # fmt: skip

    def __init__(
        self,
        care_type: HouseholdCareType,
        approved_on: date,
        version: dict[str, Any],
        enquiry_id: int | None,
        ethnicity: str | None,
    ) -> None:
        self.care_type = care_type
        self.approved_on = approved_on
        self.enquiry_id = enquiry_id
        self.ethnicity = ethnicity
        self.status = HouseholdStatus.ACTIVE
        self.hold_until: date | None = None
        self.left_on: date | None = None
        self.versions = [version]
        self.slots = [_Slot(approved_on) for _ in range(version["approved_places"])]
        self.placements: list[_Placement] = []
        self.blocks: list[_Block] = []

    def change(self, day: date, note: str, **fields: Any) -> None:
        """A new period from `day` (the latest period is corrected when it starts that day)."""
        last = self.versions[-1]
        assert day >= last["valid_from"], (day, last["valid_from"])
        row = last | {"valid_from": day, "note": note, "deregistration_reason": None} | fields
        if day == last["valid_from"]:
            self.versions[-1] = row
        else:
            self.versions.append(row)

    def empty_from(self) -> date:
        return max(slot.free_from for slot in self.slots)


class RegisterPlan(msgspec.Struct, kw_only=True):
    """An authority's generated register before it is stored."""

    homes: list[Any]
    start: date
    today: date


class _Targets(msgspec.Struct, frozen=True, kw_only=True):
    households: int
    places_per_household: float
    occupancy: float
    unavailable_share: float
    approvals: float
    deregistrations: float


def _targets(figures: AuthorityFigures) -> _Targets:
    """Reference sizes, with fallbacks for councils Ofsted gives no figures for."""
    households = figures.households
    if households is None:
        if figures.children_in_foster_care_2019:
            households = round(0.45 * figures.children_in_foster_care_2019)
        elif figures.children_in_care:
            households = round(0.25 * figures.children_in_care)
        else:
            households = 10
    households = max(households, 10)
    places = figures.approved_places or round(households * 1.65)
    ratio = min(2.4, max(1.2, places / households))
    unavailable = figures.unavailable_places
    share = 0.08 if unavailable is None else min(0.2, unavailable / (ratio * households))
    filled = figures.filled_places
    available = ratio * households * (1 - share)
    occupancy = 0.85 if filled is None else min(0.93, max(0.78, filled / available))
    approvals = figures.households_approved_in_year
    leavers = figures.households_deregistered
    return _Targets(
        households=households,
        places_per_household=ratio,
        occupancy=occupancy,
        unavailable_share=share,
        approvals=float(approvals if approvals is not None else round(0.17 * households)),
        deregistrations=float(leavers if leavers is not None else round(0.15 * households)),
    )


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _tilted(weights: tuple[tuple[int, float], ...], mean: float) -> tuple[tuple[int, float], ...]:
    """The weights times exp(theta * places), theta chosen so the mean is `mean`."""
    low, high = -6.0, 6.0
    tilted = weights
    for _ in range(60):
        theta = (low + high) / 2
        tilted = tuple((k, w * math.exp(theta * k)) for k, w in weights)
        got = sum(k * w for k, w in tilted) / sum(w for _, w in tilted)
        if got < mean:
            low = theta
        else:
            high = theta
    return tilted


class _Simulation:
    """One authority's register, simulated month by month from the window start to today."""

    def __init__(
        self,
        rng: random.Random,
        targets: _Targets,
        start: date,
        today: date,
        enquiries: list[ApprovedEnquiry],
    ) -> None:
        self.rng = rng
        self.targets = targets
        self.start = start
        self.today = today
        self.enquiries = enquiries
        self.homes: list[_Home] = []
        self.live: list[_Home] = []
        self.children = 0
        self.ending: list[tuple[date, int, _Placement]] = []
        self.moved: deque[_Placement] = deque()
        self.sequence = 0
        mean = {k: sum(p * w for p, w in v) / sum(w for _, w in v) for k, v in PLACES.items()}
        share = {k: w / sum(w for _, w in CARE_TYPES) for k, w in CARE_TYPES}
        others = sum(share[k] * mean[k] for k in share if k is not HC.IN_HOUSE)
        in_house = (targets.places_per_household - others) / share[HC.IN_HOUSE]
        self.places = dict(PLACES)
        self.in_house_places = (in_house, share[HC.IN_HOUSE])
        self._retilt(0.0)
        # In-house occupancy that gives the reference occupancy over all places.
        weight = {k: share[k] * mean[k] for k in share}
        weight[HC.IN_HOUSE] = share[HC.IN_HOUSE] * in_house
        total = sum(weight.values())
        rest = sum(weight[k] * OCCUPANCY[k] for k in OCCUPANCY) / total
        wanted = (targets.occupancy - rest) / (weight[HC.IN_HOUSE] / total)
        self.occupancy = dict(OCCUPANCY)
        self.occupancy[HC.IN_HOUSE] = min(IN_HOUSE_OCCUPANCY[1], max(IN_HOUSE_OCCUPANCY[0], wanted))
        self.noise = {"occupancy": 0.0, "unavailable": 0.0, "hold": 0.0}

    # Households

    def _retilt(self, gap: float) -> None:
        """In-house approvals' places: the reference mean, corrected by `gap` (the reference
        places per household less today's), as households that leave are often small ones."""
        mean, share = self.in_house_places
        wanted = min(3.3, max(1.1, mean + PLACES_CORRECTION * gap / share))
        self.places[HC.IN_HOUSE] = _tilted(PLACES[HC.IN_HOUSE], wanted)

    def _version(self, care_type: HouseholdCareType, terms: set[Term]) -> dict[str, Any]:
        rng = self.rng
        places: int = pick(rng, self.places[care_type])
        if care_type is HC.CONNECTED:
            low = rng.choice((0, 0, 1, 2, 3, 5, 7, 9, 11, 13))
            age_min, age_max = low, min(17, low + rng.randint(2, 8))
        else:
            age_min, age_max = pick(rng, AGE_RANGES[care_type])
        for term, chance in TERMS[care_type]:
            if term is T.SIBLING_GROUP and places < 2:
                continue
            if term is T.PARENT_AND_CHILD and age_min > 0:
                continue
            if rng.random() < chance:
                terms.add(term)
        if places < 2:
            terms.discard(T.SIBLING_GROUP)
        if not terms:
            terms.add(TERMS[care_type][0][0])
        return {
            "care_type": care_type.value,
            "status": HouseholdStatus.ACTIVE.value,
            "approved_places": places,
            "age_min": age_min,
            "age_max": age_max,
            "terms": "|" + "|".join(sorted(t.value for t in terms)) + "|",
            "deregistration_reason": None,
            "note": "approved",
        }

    def _home(
        self,
        care_type: HouseholdCareType,
        approved_on: date,
        enquiry: ApprovedEnquiry | None = None,
    ) -> _Home:
        terms: set[Term] = set()
        ethnicity: str | None
        if enquiry is not None:
            ethnicity = enquiry.ethnicity
            for interest in enquiry.interests:
                term = INTEREST_TERMS.get(Interest(interest))
                if term is not None:
                    terms.add(term)
        else:
            chosen: Ethnicity | None = pick(self.rng, ETHNICITY_MIX)
            ethnicity = chosen.value if chosen else None
        version = self._version(care_type, terms) | {"valid_from": approved_on}
        home = _Home(care_type, approved_on, version, enquiry.id if enquiry else None, ethnicity)
        self.homes.append(home)
        self.live.append(home)
        return home

    def _stock(self, count: int) -> None:
        """Households approved before the window, with the children placed at its start."""
        rng = self.rng
        for _ in range(count):
            care_type: HouseholdCareType = pick(rng, CARE_TYPES)
            longest = {HC.IN_HOUSE: 25.0, HC.CONNECTED: 8.0}.get(care_type, 4.0)
            years = min(longest, 0.1 + rng.gammavariate(1.5, 4.0))
            approved_on = max(EARLIEST, self.start - timedelta(days=round(years * 365.25) + 1))
            home = self._home(care_type, approved_on)
            occupancy = self.occupancy[care_type] * (1 - self.targets.unavailable_share)
            for slot in home.slots:
                if rng.random() < occupancy:
                    # Length-biased: a placement running at the start is likely a long one.
                    days = max(self._duration(care_type) for _ in range(3))
                    begun = max(approved_on, self.start - timedelta(days=rng.randint(1, days)))
                    end = max(begun + timedelta(days=days), self.start + timedelta(days=7))
                    self._place(home, slot, begun, end)

    def _approvals(self, years: int) -> dict[tuple[int, int], list[tuple[date, Any, Any]]]:
        """Approvals by month: dates, care types and the enquiries in-house ones came from."""
        rng = self.rng
        plan: dict[tuple[int, int], list[tuple[date, Any, Any]]] = {}
        for first, last, level in self._years(years):
            count = poisson(rng, self.targets.approvals * level)
            kinds: list[HouseholdCareType] = [pick(rng, CARE_TYPES) for _ in range(count)]
            in_house = sum(1 for k in kinds if k is HC.IN_HOUSE)
            offered = [e for e in self.enquiries if first <= e.approved_on <= last]
            linked = rng.sample(offered, min(in_house, round(0.9 * len(offered))))
            for kind in kinds:
                enquiry = linked.pop() if kind is HC.IN_HOUSE and linked else None
                on = enquiry.approved_on if enquiry else _day_between(rng, first, last)
                plan.setdefault((on.year, on.month), []).append((on, kind, enquiry))
        for month in plan.values():
            month.sort(key=lambda item: item[0])
        return plan

    def _years(self, years: int) -> list[tuple[date, date, float]]:
        """Each year of the window with a drifting level (mean 1)."""
        levels, level = [], 1.0
        for _ in range(years):
            levels.append(level)
            level = min(1.3, max(0.75, level * math.exp(self.rng.gauss(0, 0.08))))
        mean = sum(levels) / len(levels)
        return [
            (
                self.start + relativedelta(years=k),
                min(self.today, self.start + relativedelta(years=k + 1) - timedelta(days=1)),
                levels[k] / mean,
            )
            for k in range(years)
        ]

    # Placements and unavailable periods

    def _duration(self, care_type: HouseholdCareType) -> int:
        low, high = pick(self.rng, [((lo, hi), w) for w, lo, hi in DURATIONS[care_type]])
        return round(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def _child(self, start: date) -> str:
        """A child moving on from a placement that ended lately, or a new child."""
        moved = self.moved
        while moved and moved[0].end < start - timedelta(days=MOVE_WINDOW):
            moved.popleft()
        if moved and self.rng.random() < MOVE_SHARE:
            for index, placement in enumerate(moved):
                if index > 20:
                    break
                if placement.end <= start:
                    del moved[index]
                    return placement.child
        self.children += 1
        return f"DEMO-C-{self.children:06d}"

    def _place(self, home: _Home, slot: _Slot, start: date, end: date) -> _Placement:
        placement = _Placement(self._child(start), start, end)
        slot.item, slot.busy_from, slot.free_from = placement, start, end
        home.placements.append(placement)
        self.sequence += 1
        heapq.heappush(self.ending, (end, self.sequence, placement))
        return placement

    def _release(self, last: date) -> None:
        """Children whose placement ended by `last` may move to another household."""
        while self.ending and self.ending[0][0] <= last:
            self.moved.append(heapq.heappop(self.ending)[2])

    def _wander(self, key: str, step: float, limit: float) -> float:
        value = 0.7 * self.noise[key] + self.rng.gauss(0, step)
        self.noise[key] = min(limit, max(-limit, value))
        return self.noise[key]

    # The months

    def run(self, years: int) -> None:
        targets = self.targets
        approvals = self._approvals(years)
        planned = sum(len(v) for v in approvals.values())
        stock = round(
            targets.households
            - years
            * max(
                -STOCK_NET_CAP * targets.households,
                min(
                    STOCK_NET_CAP * targets.households, targets.approvals - targets.deregistrations
                ),
            )
        )
        leavers = max(0, stock + planned - targets.households)
        stock = max(stock, targets.households - planned + leavers)
        self._stock(stock)
        # Deregistrations over the months, with a drifting yearly level of their own.
        months = self._months()
        levels = self._years(years)
        weights = [
            ((last - first).days + 1) * next(lv for lo, hi, lv in levels if lo <= first <= hi)
            for first, last in months
        ]
        by_month: dict[tuple[int, int], int] = {}
        for index in self.rng.choices(range(len(months)), weights=weights, k=leavers):
            key = (months[index][0].year, months[index][0].month)
            by_month[key] = by_month.get(key, 0) + 1
        span = max(1, (self.today - self.start).days)
        for first, last in months:
            share = (last - self.start).days / span
            self._release(last)
            self._deregister(first, last, by_month.get((first.year, first.month), 0))
            self._end_holds(first, last)
            approved = approvals.get((first.year, first.month), [])
            if approved and self.live:
                now = sum(len(h.slots) for h in self.live) / len(self.live)
                self._retilt(self.targets.places_per_household - now)
            for on, kind, enquiry in approved:
                home = self._home(kind, on, enquiry)
                if kind is HC.CONNECTED:  # kinship carers are approved for a child living there
                    slot = home.slots[0]
                    self._place(home, slot, on, on + timedelta(days=self._duration(kind)))
            self._changes(first, last)
            self._holds(first, last)
            self._blocks(first, last)
            self._fill(first, last, share)

    def _months(self) -> list[tuple[date, date]]:
        months = []
        first = self.start
        while first <= self.today:
            following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
            months.append((first, min(self.today, following - timedelta(days=1))))
            first = following
        return months

    def _deregister(self, first: date, last: date, count: int) -> None:
        rng = self.rng
        settled = first - timedelta(days=90)
        eligible = [h for h in self.live if h.approved_on <= settled]
        weights = [
            (
                3.0
                if h.status is HouseholdStatus.ON_HOLD
                else 2.0
                if h.empty_from() <= first
                else 1.0
            )
            for h in eligible
        ]
        for _ in range(min(count, len(eligible))):
            index = rng.choices(range(len(eligible)), weights=weights)[0]
            home = eligible.pop(index)
            weights.pop(index)
            day = _day_between(rng, first, last)
            for slot in home.slots:  # children move on and periods end that day
                if slot.item is not None and slot.item.end > day:
                    slot.item.end = day
            reason: DeregistrationReason = pick(
                rng, LEAVING.get(home.care_type, LEAVING[HC.IN_HOUSE])
            )
            home.status = HouseholdStatus.DEREGISTERED
            home.left_on = day
            home.change(
                day,
                "deregistered",
                status=HouseholdStatus.DEREGISTERED.value,
                deregistration_reason=reason.value,
            )
            self.live.remove(home)

    def _end_holds(self, first: date, last: date) -> None:
        for home in self.live:
            if home.status is not HouseholdStatus.ON_HOLD or home.hold_until is None:
                continue
            if home.hold_until <= last:
                day = max(first, home.hold_until)
                home.change(day, "back from hold", status=HouseholdStatus.ACTIVE.value)
                home.status, home.hold_until = HouseholdStatus.ACTIVE, None
                for slot in home.slots:
                    slot.free_from = max(slot.free_from, day)

    def _changes(self, first: date, last: date) -> None:
        rng = self.rng
        for home in self.live:
            if (
                home.status is not HouseholdStatus.ACTIVE
                or home.care_type is not HC.IN_HOUSE
                or rng.random() >= CHANGE_RATE
            ):
                continue
            version = home.versions[-1]
            day = max(first, version["valid_from"] + timedelta(days=1))
            day += timedelta(days=rng.randint(0, 10))
            if day > last:
                continue
            places = version["approved_places"]
            if rng.random() < 0.5:
                if places >= 4:
                    continue
                home.slots.append(_Slot(day))
                places += 1
            else:
                free = [s for s in home.slots if s.free_from <= day]
                if places < 2 or not free:
                    continue
                home.slots.remove(free[0])
                places -= 1
            terms = version["terms"]
            if places < 2:
                terms = terms.replace(f"|{T.SIBLING_GROUP.value}|", "|")
                if terms == "|":
                    terms = f"|{T.LONG_TERM.value}|"
            home.change(
                day, "approved places changed at review", approved_places=places, terms=terms
            )

    def _holds(self, first: date, last: date) -> None:
        rng = self.rng
        holding = sum(1 for h in self.live if h.status is HouseholdStatus.ON_HOLD)
        share = HOLD_SHARE * (1 + self._wander("hold", 0.15, 0.4))
        need = min(round(share * len(self.live)) - holding, max(1, len(self.live) // 100))
        if need <= 0:
            return
        candidates = [
            h
            for h in self.live
            if h.status is HouseholdStatus.ACTIVE
            and h.approved_on < first
            and h.empty_from() <= last
            and (h.care_type is HC.IN_HOUSE or rng.random() < 0.3)
        ]
        for home in rng.sample(candidates, min(need, len(candidates))):
            day = max(first, home.empty_from(), home.versions[-1]["valid_from"] + timedelta(days=1))
            day += timedelta(days=rng.randint(0, 5))
            if day > last:
                continue
            home.status = HouseholdStatus.ON_HOLD
            home.hold_until = day + timedelta(days=rng.randint(*HOLD_DAYS))
            home.change(day, "on hold", status=HouseholdStatus.ON_HOLD.value)

    def _blocks(self, first: date, last: date) -> None:
        rng = self.rng
        approved = held = blocked = 0
        free: list[tuple[_Home, _Slot]] = []
        for home in self.live:
            approved += len(home.slots)
            if home.status is HouseholdStatus.ON_HOLD:
                held += len(home.slots)
                continue
            for slot in home.slots:
                if slot.free_from <= last:
                    free.append((home, slot))
                elif slot.holds(_Block, last):
                    blocked += 1
        share = self.targets.unavailable_share * (1 + self._wander("unavailable", 0.05, 0.15))
        need = round(share * approved) - held - blocked
        rng.shuffle(free)
        while need > 0 and free:
            home, slot = free.pop()
            if slot.free_from > last:
                continue
            begin = _day_between(rng, max(first, slot.free_from), last)
            reason, low, high = pick(rng, [((r, lo, hi), w) for r, w, lo, hi in BLOCKS])
            end = max(begin + timedelta(days=rng.randint(low, high)), last + timedelta(days=1))
            slots = [slot]
            if rng.random() < 0.25:
                slots += [s for s in home.slots if s is not slot and s.free_from <= begin]
            block = _Block(len(slots), reason, begin, end)
            home.blocks.append(block)
            for taken in slots:
                taken.item, taken.busy_from, taken.free_from = block, begin, end
            need -= len(slots)

    def _fill(self, first: date, last: date, share: float) -> None:
        rng = self.rng
        wander = self._wander("occupancy", 0.012, 0.04)
        available: dict[HouseholdCareType, int] = dict.fromkeys(HC, 0)
        filled: dict[HouseholdCareType, int] = dict.fromkeys(HC, 0)
        free: dict[HouseholdCareType, list[tuple[_Home, _Slot]]] = {k: [] for k in HC}
        for home in self.live:
            if home.status is not HouseholdStatus.ACTIVE:
                continue
            kind = home.care_type
            for slot in home.slots:
                if slot.free_from <= last:
                    free[kind].append((home, slot))
                    available[kind] += 1
                elif slot.holds(_Placement, last):
                    filled[kind] += 1
                    available[kind] += 1
        for kind in HC:
            occupancy = self.occupancy[kind]
            if kind is HC.IN_HOUSE:
                occupancy += wander - OCCUPANCY_RISE * (1 - share)
            need = round(min(0.99, occupancy) * available[kind]) - filled[kind]
            slots = free[kind]
            rng.shuffle(slots)
            while need > 0 and slots:
                home, slot = slots.pop()
                begin = _day_between(rng, max(first, slot.free_from), last)
                placement = self._place(
                    home, slot, begin, begin + timedelta(days=self._duration(kind))
                )
                if placement.end > last:
                    need -= 1
                else:
                    slots.insert(0, (home, slot))


def plan_register(
    rng: random.Random,
    figures: AuthorityFigures,
    *,
    start: date,
    today: date,
    years: int,
    enquiries: list[ApprovedEnquiry],
) -> RegisterPlan:
    """Simulate an authority's households, placements and unavailable places."""
    simulation = _Simulation(rng, _targets(figures), start, today, enquiries)
    simulation.run(years)
    return RegisterPlan(homes=simulation.homes, start=start, today=today)


def _last_review(rng: random.Random, home: _Home, today: date) -> date | None:
    """The latest annual review before the household left (or today); a few are overdue."""
    until = home.left_on or today
    years = relativedelta(until, home.approved_on).years
    if years < 1:
        return None
    review = home.approved_on + relativedelta(years=years) + timedelta(days=rng.randint(-20, 30))
    if review > until:
        review -= relativedelta(years=1)
    if years >= 2 and rng.random() < REVIEW_OVERDUE:
        review -= relativedelta(years=1)
    while review.weekday() >= 5:
        review -= timedelta(days=1)
    return review if review > home.approved_on else None


def carers_of(code: str, number: int, care_type: HouseholdCareType) -> dict[str, Any]:
    """A demo household's carers (number, age bands, disabled), from a random stream of its
    own so adding them changed none of the demo's other figures."""
    rng = random.Random(f"carers-{code}-{number}")
    if rng.random() < CARERS_UNRECORDED:
        return {"carers": None, "carers_age_bands": None, "carers_disabled": None}
    couple = 0.6 if care_type is HouseholdCareType.IN_HOUSE else 0.5
    carers = 2 if rng.random() < couple else 1
    bands = [pick(rng, CARER_AGES).value for _ in range(carers) if rng.random() >= AGE_UNKNOWN]
    disabled = (
        None
        if rng.random() < DISABILITY_UNKNOWN
        else sum(1 for _ in range(carers) if rng.random() < DISABLED)
    )
    return {"carers": carers, "carers_age_bands": bands or None, "carers_disabled": disabled}


def store_register(
    session: Session, rng: random.Random, code: str, plan: RegisterPlan, *, copy: bool = True
) -> tuple[int, int, int]:
    """Insert the households, their versions, placements and unavailable periods in bulk
    (COPY on PostgreSQL unless `copy` is false: `tracker.core.bulk`).

    Returns the numbers of households, placements and unavailable periods stored.
    """
    today, start = plan.today, plan.start
    homes: list[_Home] = sorted(plan.homes, key=lambda h: h.approved_on)
    rows: list[dict[str, Any]] = []
    for number, home in enumerate(homes, start=1):
        created = at_work(max(home.approved_on, start), rng)
        review = _last_review(rng, home, today)
        changed = max(home.versions[-1]["valid_from"], review or home.approved_on, start)
        rows.append(
            {
                "authority_code": code,
                "reference": f"DEMO-H-{number:05d}",
                "enquiry_id": home.enquiry_id,
                "approved_on": home.approved_on,
                "carers_ethnicity": home.ethnicity,
                **carers_of(code, number, home.care_type),
                "last_review_on": review,
                "version": len(home.versions),
                "created_at": created,
                "updated_at": max(created, at_work(changed, rng)),
            }
        )
    if not rows:
        return 0, 0, 0
    ids = insert_rows_returning_ids(session, Household, rows, copy=copy)
    versions: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    for household_id, home in zip(ids, homes, strict=True):
        for index, version in enumerate(home.versions):
            following = home.versions[index + 1] if index + 1 < len(home.versions) else None
            versions.append(
                version
                | {
                    "household_id": household_id,
                    "authority_code": code,
                    "valid_to": following["valid_from"] if following else None,
                    "actor": DEMO_ACTOR,
                }
            )
        for placement in home.placements:
            if placement.start > today:
                continue
            placements.append(
                {
                    "household_id": household_id,
                    "authority_code": code,
                    "child_ref": placement.child,
                    "start_on": placement.start,
                    "end_on": placement.end if placement.end <= today else None,
                    "created_at": at_work(max(placement.start, start), rng),
                }
            )
        for block in home.blocks:
            if block.end <= block.start:
                continue
            blocks.append(
                {
                    "household_id": household_id,
                    "authority_code": code,
                    "places": block.places,
                    "reason": block.reason.value,
                    "start_on": block.start,
                    "end_on": block.end if block.end <= today else None,
                }
            )
    insert_rows(session, HouseholdVersion, versions, copy=copy)
    insert_rows(session, Placement, placements, copy=copy)
    insert_rows(session, Unavailability, blocks, copy=copy)
    return len(rows), len(placements), len(blocks)
