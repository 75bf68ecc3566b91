"""Work-back: from a recruitment-driven target to approvals, applications and enquiries a year.

For a target such as "2% more children with in-house foster carers each year" or "5 more
supported lodgings hosts a year", the chain is:

* net households a year = increase / years, divided by children per household for the
  children metric (filled places per in-house household on `as_at`);
* approvals a year = net households + the households expected to stop fostering: the
  deregistration rate (deregistrations of that care type in the window / household-years,
  the households counted at the four 31 Marches that bound it) times the average stock over
  the target's period (today's households plus half the growth the target adds);
* applications a year = approvals / P(application -> approval);
* enquiries a year = applications / P(enquiry -> application).

Every rate is the authority's own when it has the history for it, else the national figure
for council fostering services (Ofsted 2018-19, `tracker.reference`; the England row covers
independent agencies too, so the LA sector is the sum of the LA rows). The window is the last
three complete years ending 31 March on or before `as_at`. "Too little history": fewer than
100 enquiries or 20 applications in the window, or fewer than 10 households on average.

Censoring: the latest cohorts have not finished (an application takes eight months or more),
so a plain "approved / applications" would understate conversion. Each conversion is the
Aalen-Johansen cumulative incidence: enquiries received (applications made) in the window
are followed to `as_at`; reaching the next stage is the event, closing before it a competing
event, and those still open are censored at `as_at`, so they count by the pace of the earlier
ones rather than as failures. Dates after `as_at` are ignored, so the answer for a past date
is what was known then.

National P(application -> approval) cannot be read off Ofsted's "applications approved"
(only applications received in the same year, so 23% in the LA sector) nor off the concluded
ones (40%, but withdrawals conclude faster than approvals). It is the steady-state ratio of
mainstream approvals to applications in the LA sector's year: 5,540 households approved less
3,190 family-and-friends households (who do not come through enquiries), 2,350, against 4,350
applications received: 54%, inside the 40-64% that the in-year outcomes allow. The family and
friends split is not in `tracker.reference`, so these three totals (all LA columns of Ofsted's
2018-19 LA-level file, Tri-borough included) are constants here.

Rounding: each of approvals, applications and enquiries a year is rounded up from its own
unrounded value, which is computed from the unrounded value before it (no rounding compounds).
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from typing import Any, Literal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.capacity.register import place_counts
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError
from tracker.enquiries.stages import STAGE_ORDER, Stage
from tracker.enquiries.tables import Enquiry
from tracker.households.care_types import HouseholdCareType, HouseholdStatus
from tracker.households.tables import HouseholdVersion
from tracker.reference import ENGLAND_CODE, load_reference

__all__ = ["METRICS", "RateUsed", "WorkBack", "work_back"]

METRICS = (
    "inhouse_foster_children",
    "inhouse_households",
    "supported_lodgings_hosts",
    "approvals",
)
CARE_TYPES: dict[str, HouseholdCareType] = {
    "inhouse_foster_children": HouseholdCareType.IN_HOUSE,
    "inhouse_households": HouseholdCareType.IN_HOUSE,
    "supported_lodgings_hosts": HouseholdCareType.SUPPORTED_LODGINGS,
}
WINDOW_YEARS = 3
MIN_ENQUIRIES = 100
MIN_APPLICATIONS = 20
MIN_HOUSEHOLDS = 10
"""Households (on `as_at`, or on average over the window) below which national rates apply."""

# Ofsted 2018-19, all LA columns of the LA-level file (see the module docstring).
LA_APPLICATIONS_2019 = 4350
LA_HOUSEHOLDS_APPROVED_2019 = 5540
LA_FAMILY_AND_FRIENDS_APPROVED_2019 = 3190
NATIONAL = "England council fostering services, Ofsted 2018-19"

Source = Literal["authority", "national"]


class RateUsed(msgspec.Struct, frozen=True, kw_only=True):
    """One rate in the chain: its value, whose it is and what it rests on."""

    name: str
    value: float
    source: Source
    basis: str


class WorkBack(msgspec.Struct, frozen=True, kw_only=True):
    """What a target asks of recruitment each year, and how that was worked out.

    `households_needed` is the net growth in households a year (unrounded; None for the
    approvals metric); approvals, applications and enquiries are whole numbers rounded up,
    with their unrounded values in the `_exact` fields."""

    authority_code: str
    metric: str
    increase: float
    years: float
    as_at: date
    children_per_household: float | None
    households_needed: float | None
    expected_deregistrations_per_year: float | None
    approvals_per_year: int
    applications_per_year: int
    enquiries_per_year: int
    approvals_per_year_exact: float
    applications_per_year_exact: float
    enquiries_per_year_exact: float
    rates: list[RateUsed]
    explanation: list[str]


def work_back(
    session: Session, code: str, *, metric: str, increase: float, years: float, as_at: date
) -> WorkBack:
    """Approvals, applications and enquiries a year needed to add `increase` over `years`.

    `metric` is one of METRICS; for "approvals" the increase is the approvals wanted (per year
    when `years` is 1). A negative increase (a target that lets numbers fall) still needs
    approvals to replace leavers; approvals never go below zero."""
    authority = get_authority(session, code)
    if metric not in METRICS:
        raise InvalidValueError(
            f"metric must be one of {', '.join(METRICS)}, not {metric!r}", field="metric"
        )
    if not math.isfinite(increase):
        raise InvalidValueError("increase must be a number", field="increase")
    if not (math.isfinite(years) and years > 0):
        raise InvalidValueError("years must be more than 0", field="years")
    window = _Window.ending_by(as_at)
    per_year = increase / years
    rates: list[RateUsed] = []
    lines: list[str] = []
    children_per_household = households_needed = deregistrations = None
    if metric == "approvals":
        approvals = max(0.0, per_year)
        lines.append(f"The target asks for {_number(per_year)} approvals a year.")
    else:
        care_type = CARE_TYPES[metric]
        now = _households(session, code, as_at, care_type)
        noun = _NOUNS[care_type]
        if metric == "inhouse_foster_children":
            cph = _children_per_household(session, authority.name, code, as_at)
            rates.append(cph)
            children_per_household = cph.value
            households_needed = per_year / cph.value
            lines.append(
                f"To add {_number(per_year)} children a year with in-house foster carers you "
                f"need about {households_needed:.1f} more {noun} a year: "
                f"{cph.value:.2f} children per household ({_whose(cph, authority.name)})."
            )
        else:
            households_needed = per_year
            lines.append(f"The target adds {_number(per_year)} {noun} a year, net.")
        leaving = _deregistration_rate(session, authority.name, code, window, care_type)
        rates.append(leaving)
        average = max(0.0, now + households_needed * years / 2)
        deregistrations = leaving.value * average
        approvals = max(0.0, households_needed + deregistrations)
        lines.append(
            f"About {deregistrations:.1f} {noun} a year are expected to stop "
            f"({leaving.value:.1%} a year of about {average:.0f}: {now} now, "
            f"{'growing' if households_needed >= 0 else 'shrinking'} with the target; "
            f"{_whose(leaving, authority.name)}), so you need about {approvals:.1f} "
            f"approvals a year: {_whole(approvals)} rounded up."
        )
    to_approval = _application_to_approval(session, authority.name, code, window, as_at)
    to_application = _enquiry_to_application(session, authority.name, code, window, as_at)
    rates += [to_approval, to_application]
    applications = approvals / to_approval.value
    enquiries = applications / to_application.value
    lines.append(
        f"About {to_approval.value:.0%} of applications end in approval "
        f"({_whose(to_approval, authority.name)}), so {_number(approvals)} approvals take about "
        f"{applications:.1f} applications a year: {_whole(applications)} rounded up."
    )
    lines.append(
        f"About {to_application.value:.1%} of enquiries become applications "
        f"({_whose(to_application, authority.name)}), so that takes about {enquiries:.1f} "
        f"enquiries a year: {_whole(enquiries)} rounded up."
    )
    if metric == "supported_lodgings_hosts":
        lines.append(
            "Conversion rates are those of all enquiries (the funnel does not record which "
            "enquirers become supported lodgings hosts); national figures are for foster carers."
        )
    if any(r.source == "national" for r in rates):
        lines.append(
            "National figures are for council fostering services in 2018-19: replace them with "
            "your own as your records build up."
        )
    return WorkBack(
        authority_code=code,
        metric=metric,
        increase=increase,
        years=years,
        as_at=as_at,
        children_per_household=children_per_household,
        households_needed=households_needed,
        expected_deregistrations_per_year=deregistrations,
        approvals_per_year=_whole(approvals),
        applications_per_year=_whole(applications),
        enquiries_per_year=_whole(enquiries),
        approvals_per_year_exact=approvals,
        applications_per_year_exact=applications,
        enquiries_per_year_exact=enquiries,
        rates=rates,
        explanation=lines,
    )


_NOUNS = {
    HouseholdCareType.IN_HOUSE: "in-house households",
    HouseholdCareType.SUPPORTED_LODGINGS: "supported lodgings hosts",
}


def _whole(value: float) -> int:
    """Rounded up, ignoring floating-point dust (10.000000001 is 10)."""
    return max(0, math.ceil(round(value, 6)))


def _number(value: float) -> str:
    return f"{value:g}" if value == round(value) else f"{value:.1f}"


def _whose(rate: RateUsed, name: str) -> str:
    if rate.source == "authority":
        return f"{name}'s own figure"
    return "national figure for councils"


class _Window(msgspec.Struct, frozen=True):
    """The last WINDOW_YEARS complete years ending 31 March."""

    first: date
    last: date

    @classmethod
    def ending_by(cls, as_at: date) -> _Window:
        end_year = as_at.year if as_at >= date(as_at.year, 3, 31) else as_at.year - 1
        return cls(date(end_year - WINDOW_YEARS, 4, 1), date(end_year, 3, 31))

    @property
    def label(self) -> str:
        first, last = self.first.year, self.last.year
        return f"{first}-{str(first + 1)[-2:]} to {last - 1}-{str(last)[-2:]}"

    def year_ends(self) -> list[date]:
        return [date(self.first.year + i, 3, 31) for i in range(WINDOW_YEARS + 1)]


# Households ---------------------------------------------------------------------------------


def _households(session: Session, code: str, day: date, care_type: HouseholdCareType) -> int:
    _, by_type = place_counts(session, code, day)
    return next(c.households for c in by_type if c.care_type == care_type.value)


def _national_sums() -> dict[str, int]:
    rows = [r for c, r in load_reference().items() if c != ENGLAND_CODE]
    fields = ("enquiries", "applications", "households", "filled_places", "households_deregistered")
    return {f: sum(getattr(r, f) or 0 for r in rows) for f in fields}


def _children_per_household(session: Session, name: str, code: str, as_at: date) -> RateUsed:
    _, by_type = place_counts(session, code, as_at)
    own = next(c for c in by_type if c.care_type == HouseholdCareType.IN_HOUSE.value)
    if own.households >= MIN_HOUSEHOLDS and own.filled_places > 0:
        return RateUsed(
            name="children_per_household",
            value=own.filled_places / own.households,
            source="authority",
            basis=(
                f"{name}, {own.filled_places} children in {own.households} in-house households "
                f"on {as_at.isoformat()}, from the household register's placements (the "
                "target itself may count the SSDA903 return's children)"
            ),
        )
    sums = _national_sums()
    return RateUsed(
        name="children_per_household",
        value=sums["filled_places"] / sums["households"],
        source="national",
        basis=(
            f"{NATIONAL}: {sums['filled_places']:,} filled places in {sums['households']:,} "
            f"households (family and friends included); {name} has {own.households} in-house "
            f"households on {as_at.isoformat()}, too few to use"
        ),
    )


def _deregistration_rate(
    session: Session, name: str, code: str, window: _Window, care_type: HouseholdCareType
) -> RateUsed:
    v = HouseholdVersion
    leavers = session.scalar(
        select(func.count()).where(
            v.authority_code == code,
            v.status == HouseholdStatus.DEREGISTERED.value,
            v.care_type == care_type.value,
            col(v.valid_from) >= window.first,
            col(v.valid_from) <= window.last,
        )
    )
    counts = [_households(session, code, day, care_type) for day in window.year_ends()]
    average = sum(counts) / len(counts)
    noun = _NOUNS[care_type]
    if average >= MIN_HOUSEHOLDS and min(counts) > 0:
        return RateUsed(
            name="deregistrations_per_household_per_year",
            value=int(leavers or 0) / (average * WINDOW_YEARS),
            source="authority",
            basis=(
                f"{name}, {int(leavers or 0)} {noun} deregistered {window.label}, "
                f"about {average:.0f} households on average"
            ),
        )
    sums = _national_sums()
    return RateUsed(
        name="deregistrations_per_household_per_year",
        value=sums["households_deregistered"] / sums["households"],
        source="national",
        basis=(
            f"{NATIONAL}: {sums['households_deregistered']:,} of {sums['households']:,} "
            f"fostering households deregistered in the year (family and friends included); "
            f"{name} had {min(counts)} to {max(counts)} {noun} at the 31 Marches of "
            f"{window.label}, too few to use"
        ),
    )


# Conversions --------------------------------------------------------------------------------


def _reached(stage: Stage) -> Any:
    """The date a stage (or, when it was skipped, a later one) was reached."""
    columns = [getattr(Enquiry, s.date_column) for s in STAGE_ORDER[stage.rank :]]
    return columns[0] if len(columns) == 1 else func.coalesce(*columns)


class _Cohort(msgspec.Struct, frozen=True):
    size: int
    reached: int
    closed: int
    open: int
    estimate: float


def _cohort(session: Session, code: str, window: _Window, as_at: date, origin: Stage) -> _Cohort:
    """Who of those reaching `origin` in the window reached the next stage that counts
    (application after an enquiry, approval after an application), with censoring."""
    target = Stage.APPLICATION if origin is Stage.ENQUIRY else Stage.APPROVED
    start, end = _reached(origin), _reached(target)
    rows = session.execute(
        select(start, end, Enquiry.closed_on).where(
            Enquiry.authority_code == code,
            start >= window.first,  # type: ignore[operator]
            start <= window.last,  # type: ignore[operator]
        )
    ).all()
    times: list[tuple[int, int]] = []  # (days, kind): 1 reached, 2 closed first, 0 still open
    for began, reached, closed in rows:
        if reached is not None and reached <= as_at:
            times.append(((reached - began).days, 1))
        elif closed is not None and closed <= as_at:
            times.append(((closed - began).days, 2))
        else:
            times.append(((as_at - began).days, 0))
    counts = [sum(1 for _, kind in times if kind == k) for k in (1, 2, 0)]
    return _Cohort(len(times), counts[0], counts[1], counts[2], _cumulative_incidence(times))


def _cumulative_incidence(times: list[tuple[int, int]]) -> float:
    """Aalen-Johansen estimate of the share that ever reach the event (kind 1), with closure
    (kind 2) competing and open ones (kind 0) censored; events come before censoring."""
    at_risk, survival, incidence = len(times), 1.0, 0.0
    for _, group in itertools.groupby(sorted(times), key=lambda item: item[0]):
        kinds = [kind for _, kind in group]
        events, competing = kinds.count(1), kinds.count(2)
        if events + competing:
            incidence += survival * events / at_risk
            survival *= 1 - (events + competing) / at_risk
        at_risk -= len(kinds)
    return incidence


def _describe(cohort: _Cohort, what: str, outcome: str, as_at: date) -> str:
    text = f"{cohort.size} {what} {{label}}: {cohort.reached} {outcome}, {cohort.closed} closed"
    if cohort.open:
        text += (
            f", {cohort.open} still open on {as_at.isoformat()} (counted by the pace of earlier "
            "ones, not as failures)"
        )
    return text


def _application_to_approval(
    session: Session, name: str, code: str, window: _Window, as_at: date
) -> RateUsed:
    cohort = _cohort(session, code, window, as_at, Stage.APPLICATION)
    text = _describe(cohort, "applications made", "approved", as_at).format(label=window.label)
    if cohort.size >= MIN_APPLICATIONS and cohort.estimate > 0:
        return RateUsed(
            name="application_to_approval",
            value=cohort.estimate,
            source="authority",
            basis=f"{name}, {text}",
        )
    mainstream = LA_HOUSEHOLDS_APPROVED_2019 - LA_FAMILY_AND_FRIENDS_APPROVED_2019
    return RateUsed(
        name="application_to_approval",
        value=mainstream / LA_APPLICATIONS_2019,
        source="national",
        basis=(
            f"{NATIONAL}: {mainstream:,} mainstream households approved "
            f"({LA_HOUSEHOLDS_APPROVED_2019:,} less {LA_FAMILY_AND_FRIENDS_APPROVED_2019:,} "
            f"family and friends) against {LA_APPLICATIONS_2019:,} applications received; "
            f"{name}: {text}, {_too_few(cohort, MIN_APPLICATIONS, 'applications')}"
        ),
    )


def _enquiry_to_application(
    session: Session, name: str, code: str, window: _Window, as_at: date
) -> RateUsed:
    cohort = _cohort(session, code, window, as_at, Stage.ENQUIRY)
    text = _describe(cohort, "enquiries received", "applied", as_at).format(label=window.label)
    if cohort.size >= MIN_ENQUIRIES and cohort.estimate > 0:
        return RateUsed(
            name="enquiry_to_application",
            value=cohort.estimate,
            source="authority",
            basis=f"{name}, {text}",
        )
    sums = _national_sums()
    return RateUsed(
        name="enquiry_to_application",
        value=sums["applications"] / sums["enquiries"],
        source="national",
        basis=(
            f"{NATIONAL}: {sums['applications']:,} applications from {sums['enquiries']:,} "
            f"enquiries; {name}: {text}, {_too_few(cohort, MIN_ENQUIRIES, 'enquiries')}"
        ),
    )


def _too_few(cohort: _Cohort, minimum: int, what: str) -> str:
    if cohort.size < minimum:
        return f"too few to use (fewer than {minimum} {what})"
    return "none went on, so no rate of its own can be used"
