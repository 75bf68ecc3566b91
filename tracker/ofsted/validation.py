"""Checks before the return is exported: warnings (never refusals) naming the figures
involved and the records to look at, so the data officer can put them right first."""

from __future__ import annotations

from collections.abc import Callable

from tracker.households.care_types import HouseholdCareType
from tracker.ofsted.figures import (
    Counted,
    YearFacts,
    approved_in_year,
    carers_of,
    enquiry_ref,
    household_ref,
    withdrawals,
)
from tracker.ofsted.schemas import RecordRef, ReturnWarning, Value

SHOWN = 50


def _warning(
    rule: str, message: str, figures: dict[str, Value], records: list[RecordRef]
) -> ReturnWarning:
    return ReturnWarning(
        rule=rule,
        message=message,
        figures=figures,
        records=records[:SHOWN],
        more_records=max(0, len(records) - SHOWN),
    )


def _value(figures: dict[str, Counted], key: str) -> Value:
    return figures[key][0] if key in figures else None


def approvals_above_applications(
    facts: YearFacts, figures: dict[str, Counted]
) -> ReturnWarning | None:
    """More applications approved in the year than received in it."""
    approved = _value(figures, "applications_approved")
    received = _value(figures, "applications_received")
    if approved is None or received is None or approved <= received:
        return None
    earlier = [
        e
        for e in approved_in_year(facts)
        if e.application_on is not None and e.application_on < facts.start
    ]
    return _warning(
        "approvals_above_applications",
        f"{approved} applications were approved in the year but {received} received; "
        f"{len(earlier)} of the approvals were of applications made before 1 April "
        f"{facts.start.year}, which explains as many.",
        {"applications_approved": approved, "applications_received": received},
        [enquiry_ref(e, e.application_on, "applied before the year") for e in earlier],
    )


def approvals_apart(facts: YearFacts, figures: dict[str, Counted]) -> ReturnWarning | None:
    """The funnel's approvals and the register's in-house approvals of the year, matched by
    the household's enquiry: each approved application should add an in-house household
    (connected carers are approved without an application, so they are left out)."""
    approved = approved_in_year(facts)
    in_house = [a for a in facts.approvals if a.care_type == HouseholdCareType.IN_HOUSE.value]
    from_funnel = {e.id for e in approved}
    linked = {a.enquiry_id for a in facts.approvals if a.enquiry_id is not None}
    unlinked = [a for a in in_house if a.enquiry_id not in from_funnel]
    missing = [e for e in approved if e.id not in linked]
    if not unlinked and not missing:
        return None
    return _warning(
        "approvals_apart",
        f"{len(in_house)} in-house household(s) were approved on the register in the year and "
        f"{len(approved)} application(s) in the funnel: {len(unlinked)} of the households "
        f"come from no application approved in the year, and {len(missing)} approved "
        "application(s) have no household. Link each household to its enquiry (its "
        "enquiry_id), or record the approval that is missing.",
        {
            "applications_approved": _value(figures, "applications_approved"),
            "households_approved": _value(figures, "households_approved"),
        },
        [
            household_ref(a.id, a.reference, a.approved_on, "no approved application")
            for a in unlinked
        ]
        + [enquiry_ref(e, e.approved_on, "no household on the register") for e in missing],
    )


def deregistered_without_approval(
    facts: YearFacts, figures: dict[str, Counted]
) -> ReturnWarning | None:
    """Deregistrations of households that were never approved (active or on hold) before."""
    never = [d for d in facts.deregistrations if not d.approved_before]
    if not never:
        return None
    return _warning(
        "deregistration_without_approval",
        f"{len(never)} household(s) deregistered in the year were never approved before it "
        "(deregistered on the day they were approved, or imported as deregistered): check "
        "their approval and deregistration dates.",
        {"households_deregistered": _value(figures, "households_deregistered")},
        [household_ref(d.id, d.reference, d.on, f"deregistered ({d.reason})") for d in never],
    )


def filled_above_approved(facts: YearFacts, figures: dict[str, Counted]) -> ReturnWarning | None:
    """Households with more children placed than places approved on 31 March."""
    over = [h for h in facts.households if h.filled > h.approved]
    if not over:
        return None
    return _warning(
        "filled_above_approved",
        f"{len(over)} household(s) had more children placed than approved places on "
        f"{facts.end.isoformat()} (an exemption, or a placement or approval to correct).",
        {
            "filled_places": _value(figures, "filled_places"),
            "approved_places": _value(figures, "approved_places"),
        },
        [
            household_ref(h.id, h.reference, None, f"{h.filled} placed, {h.approved} approved")
            for h in over
        ],
    )


def household_without_type(facts: YearFacts, figures: dict[str, Counted]) -> ReturnWarning | None:
    """In-house households with no terms of approval: their type in the return cannot be told."""
    untold = [
        h
        for h in facts.households
        if h.care_type == HouseholdCareType.IN_HOUSE.value and not h.terms
    ]
    if not untold:
        return None
    return _warning(
        "household_without_type",
        f"{len(untold)} in-house household(s) have no terms of approval, so their type (short "
        "breaks, parent and child or mainstream) cannot be told: they count as mainstream.",
        {
            "approved_households": _value(figures, "approved_households"),
            "households_mainstream": _value(figures, "households_mainstream"),
        },
        [household_ref(h.id, h.reference, None, "no terms of approval") for h in untold],
    )


def characteristics_missing(facts: YearFacts, figures: dict[str, Counted]) -> ReturnWarning | None:
    """Approved households whose carers' number, age bands, ethnicity or disability are not
    recorded (their carers count as not known)."""
    if "approved_carers" not in figures:
        return None
    gaps = []
    for h in facts.households:
        missing = [
            name
            for name, absent in (
                ("number of carers", h.carers is None),
                ("age bands", len(h.carers_age_bands) < carers_of(h)),
                ("ethnicity", not h.carers_ethnicity),
                ("disability", h.carers_disabled is None),
            )
            if absent
        ]
        if missing:
            gaps.append(household_ref(h.id, h.reference, None, "no " + ", ".join(missing)))
    if not gaps:
        return None
    return _warning(
        "carers_characteristics_missing",
        f"{len(gaps)} of {len(facts.households)} approved household(s) lack some of their "
        "carers' characteristics: those carers count as not known.",
        {
            "approved_households": _value(figures, "approved_households"),
            "approved_carers": _value(figures, "approved_carers"),
            "carers_age_not_known": _value(figures, "carers_age_not_known"),
            "carers_ethnicity_not_known": _value(figures, "carers_ethnicity_not_known"),
            "carers_disabled_unknown": _value(figures, "carers_disabled_unknown"),
        },
        gaps,
    )


def withdrawals_without_reason(
    facts: YearFacts, figures: dict[str, Counted]
) -> ReturnWarning | None:
    """Applicant withdrawals with no Ofsted reason recorded (they count under AW0)."""
    unrecorded = [e for e, _ in withdrawals(facts) if e.withdrawal_reason is None]
    if not unrecorded:
        return None
    return _warning(
        "withdrawal_reason_not_recorded",
        f"{len(unrecorded)} withdrawal(s) in the year have no reason recorded and count as AW0 "
        "(other or unknown): record the reason on each closure where it is known.",
        {
            "applications_withdrawn": _value(figures, "applications_withdrawn"),
            "withdrawn_aw0": _value(figures, "withdrawn_aw0"),
        },
        [enquiry_ref(e, e.closed_on, str(e.closure_reason)) for e in unrecorded],
    )


CHECK_TITLES: dict[str, str] = {
    "approvals_above_applications": "More applications approved than received",
    "approvals_apart": "Approvals on the register and in the funnel that do not match",
    "deregistration_without_approval": "Households deregistered that were never approved",
    "filled_above_approved": "More children placed than places approved",
    "household_without_type": "In-house households with no terms of approval",
    "carers_characteristics_missing": "Carers' characteristics not recorded",
    "withdrawal_reason_not_recorded": "Withdrawals with no reason recorded",
}
"""Each check's name for people, by its rule."""

CHECKS: tuple[Callable[[YearFacts, dict[str, Counted]], ReturnWarning | None], ...] = (
    approvals_above_applications,
    approvals_apart,
    deregistered_without_approval,
    filled_above_approved,
    household_without_type,
    characteristics_missing,
    withdrawals_without_reason,
)


def warnings_of(facts: YearFacts, figures: dict[str, Counted]) -> list[ReturnWarning]:
    """Every check's warning, in the order of `CHECKS`."""
    return [w for check in CHECKS if (w := check(facts, figures)) is not None]
