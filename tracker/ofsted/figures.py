"""The return's figures: each measure a collection field names, computed from the year's
facts (`queries`) together with the records it counts, so a figure and its list of records
can never disagree."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from datetime import date

import msgspec
from sqlalchemy.orm import Session

from tracker.enquiries.stages import REJECTIONS, ClosureReason, WithdrawalReason, withdrawal_code
from tracker.enquiries.vocabulary import Ethnicity
from tracker.households.care_types import HouseholdStatus, UnavailableReason
from tracker.ofsted.collections import Collection
from tracker.ofsted.queries import (
    Approval,
    Deregistration,
    EnquiryFact,
    HouseholdOnDay,
    UnavailableMark,
    approvals_between,
    deregistrations_between,
    enquiry_facts,
    households_on,
    unavailable_on,
)
from tracker.ofsted.schemas import RecordRef, Value

# A figure and the records it counts (None: a statistic of them, not a count).
Counted = tuple[Value, list[RecordRef] | None]
NOT_KNOWN = "not_known"


class YearFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the return reads for one authority and year (`end`: 31 March, or today while the
    year is under way)."""

    collection: Collection
    start: date
    end: date
    enquiries: list[EnquiryFact]
    households: list[HouseholdOnDay]
    marks: list[UnavailableMark]
    approvals: list[Approval]
    deregistrations: list[Deregistration]

    def within(self, day: date | None) -> bool:
        """Whether a date falls in the year (up to `end`)."""
        return day is not None and self.start <= day <= self.end

    def type_of(self, care_type: str, terms: list[str]) -> str | None:
        """A household's type in this year's return."""
        return self.collection.household_type(care_type, terms)


def load_facts(session: Session, code: str, collection: Collection, end: date) -> YearFacts:
    """The year's facts, fostering households only (supported lodgings and Staying Put hosts
    are not approved foster carers)."""
    start = collection.period_start
    fostering = set(collection.fostering_care_types)
    return YearFacts(
        collection=collection,
        start=start,
        end=end,
        enquiries=enquiry_facts(session, code, start, end),
        households=[h for h in households_on(session, code, end) if h.care_type in fostering],
        marks=unavailable_on(session, code, end),
        approvals=[
            a for a in approvals_between(session, code, start, end) if a.care_type in fostering
        ],
        deregistrations=[
            d
            for d in deregistrations_between(session, code, start, end)
            if d.care_type in fostering
        ],
    )


def enquiry_ref(fact: EnquiryFact, on: date | None, detail: str) -> RecordRef:
    """An enquiry as a figure lists it."""
    return RecordRef(kind="enquiry", id=fact.id, reference=fact.reference, on=on, detail=detail)


def household_ref(id_: int, reference: str, on: date | None, detail: str) -> RecordRef:
    """A household as a figure lists it."""
    return RecordRef(kind="household", id=id_, reference=reference, on=on, detail=detail)


def counted(refs: list[RecordRef]) -> Counted:
    """A count of the records listed."""
    return len(refs), refs


def summed(pairs: Iterable[tuple[int, RecordRef]]) -> Counted:
    """A sum over records, listing those that add to it."""
    kept = [(n, ref) for n, ref in pairs if n]
    return sum(n for n, _ in kept), [ref for _, ref in kept]


# --- recruitment: the funnel ---------------------------------------------------------------


def initial_enquiries(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            enquiry_ref(e, e.received_on, "received")
            for e in facts.enquiries
            if facts.within(e.received_on)
        ]
    )


def applications_received(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            enquiry_ref(e, e.application_on, f"received {e.received_on.isoformat()}")
            for e in facts.enquiries
            if facts.within(e.application_on)
        ]
    )


def approved_in_year(facts: YearFacts) -> list[EnquiryFact]:
    """Enquiries approved in the year."""
    return [e for e in facts.enquiries if facts.within(e.approved_on)]


def applications_approved(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            enquiry_ref(e, e.approved_on, f"application {_iso(e.application_on)}")
            for e in approved_in_year(facts)
        ]
    )


def withdrawals(facts: YearFacts) -> list[tuple[EnquiryFact, WithdrawalReason]]:
    """Applications closed in the year by the applicant's side, with the code each counts under."""
    found = []
    for e in facts.enquiries:
        if e.application_on is None or not facts.within(e.closed_on) or e.closure_reason is None:
            continue
        recorded = WithdrawalReason(e.withdrawal_reason) if e.withdrawal_reason else None
        counted_as = withdrawal_code(ClosureReason(e.closure_reason), recorded)
        if counted_as is not None:
            found.append((e, counted_as))
    return found


def _withdrawal_ref(fact: EnquiryFact, counted_as: WithdrawalReason) -> RecordRef:
    recorded = fact.withdrawal_reason or f"no reason recorded, counted as {counted_as}"
    return enquiry_ref(fact, fact.closed_on, f"{fact.closure_reason} at {fact.stage}: {recorded}")


def applications_withdrawn(facts: YearFacts, code: str | None) -> Counted:
    return counted([_withdrawal_ref(e, aw) for e, aw in withdrawals(facts)])


def withdrawn(facts: YearFacts, code: str | None) -> Counted:
    return counted([_withdrawal_ref(e, aw) for e, aw in withdrawals(facts) if aw == code])


def applications_rejected(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            enquiry_ref(e, e.closed_on, f"{e.closure_reason} at {e.stage}")
            for e in facts.enquiries
            if e.application_on is not None
            and facts.within(e.closed_on)
            and e.closure_reason in REJECTIONS
        ]
    )


def applications_in_progress(facts: YearFacts, code: str | None) -> Counted:
    def concluded(day: date | None) -> bool:
        return day is not None and day <= facts.end

    return counted(
        [
            enquiry_ref(e, e.application_on, f"at {e.stage} on {facts.end.isoformat()}")
            for e in facts.enquiries
            if e.application_on is not None
            and e.application_on <= facts.end
            and not concluded(e.approved_on)
            and not concluded(e.closed_on)
        ]
    )


def application_to_approval(facts: YearFacts, code: str | None) -> Counted:
    timed = [
        (e, (e.approved_on - e.application_on).days)
        for e in approved_in_year(facts)
        if e.approved_on is not None and e.application_on is not None
    ]
    refs = [enquiry_ref(e, e.approved_on, f"{days} days") for e, days in timed]
    days = [d for _, d in timed]
    if not days:
        return None, refs
    value = round(statistics.fmean(days), 1) if code == "mean" else statistics.median(days)
    return value, refs


# --- the register: flows in the year --------------------------------------------------------


def households_approved(facts: YearFacts, code: str | None) -> Counted:
    refs = []
    for a in facts.approvals:
        kind = facts.type_of(a.care_type, a.terms)
        if code is None or kind == code:
            refs.append(household_ref(a.id, a.reference, a.approved_on, kind or a.care_type))
    return counted(refs)


def deregistration_code(facts: YearFacts, d: Deregistration) -> str:
    """The return's reason for a deregistration (the mapping of this year's collection)."""
    return facts.collection.deregistration_reasons.get(d.reason or "", "unknown")


def deregistered(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            household_ref(d.id, d.reference, d.on, f"{d.reason} ({deregistration_code(facts, d)})")
            for d in facts.deregistrations
            if code is None or deregistration_code(facts, d) == code
        ]
    )


# --- the register at 31 March ---------------------------------------------------------------


def _at_end(h: HouseholdOnDay, detail: str) -> RecordRef:
    return household_ref(h.id, h.reference, None, detail)


def households(facts: YearFacts, code: str | None) -> Counted:
    return counted(
        [
            _at_end(h, f"{facts.type_of(h.care_type, h.terms)}, {h.status}")
            for h in facts.households
            if code is None or facts.type_of(h.care_type, h.terms) == code
        ]
    )


def households_by_places(facts: YearFacts, code: str | None) -> Counted:
    def band(places: int) -> str:
        return "4+" if places >= 4 else str(places)

    return counted(
        [
            _at_end(h, f"{h.approved} places")
            for h in facts.households
            if h.approved and band(h.approved) == code
        ]
    )


def places(facts: YearFacts, code: str | None) -> Counted:
    name = code or "approved"
    return summed(
        (
            getattr(h, name),
            _at_end(h, f"{getattr(h, name)} {name} of {h.approved} approved"),
        )
        for h in facts.households
    )


def places_of_type(facts: YearFacts, code: str | None) -> Counted:
    return summed(
        (h.approved, _at_end(h, f"{h.approved} approved"))
        for h in facts.households
        if facts.type_of(h.care_type, h.terms) == code
    )


def unavailable_split(facts: YearFacts) -> dict[int, dict[str, int]]:
    """Each household's places not available by reason: all of a household on hold's, else
    its marked periods in the order they began, up to the places the one rule counts."""
    marks: dict[int, list[UnavailableMark]] = {}
    for mark in facts.marks:
        marks.setdefault(mark.household_id, []).append(mark)
    split: dict[int, dict[str, int]] = {}
    for h in facts.households:
        left, reasons = h.unavailable, {}
        if h.status == HouseholdStatus.ON_HOLD.value:
            reasons[UnavailableReason.HOUSEHOLD_ON_HOLD.value] = left
            left = 0
        for mark in marks.get(h.id, []):
            taken = min(left, mark.places)
            if taken:
                reasons[mark.reason] = reasons.get(mark.reason, 0) + taken
            left -= taken
        if left:
            other = UnavailableReason.OTHER.value
            reasons[other] = reasons.get(other, 0) + left
        split[h.id] = reasons
    return split


def unavailable_by_reason(facts: YearFacts, code: str | None) -> Counted:
    split = unavailable_split(facts)
    return summed(
        (split[h.id].get(code or "", 0), _at_end(h, f"{split[h.id].get(code or '', 0)} places"))
        for h in facts.households
    )


# --- carers' characteristics at 31 March, as counts -----------------------------------------


def carers_of(h: HouseholdOnDay) -> int:
    """A household's approved carers: as recorded, else one."""
    return h.carers or 1


def _carers_where(facts: YearFacts, count: Callable[[HouseholdOnDay], int]) -> Counted:
    return summed(
        (count(h), _at_end(h, f"{count(h)} of {carers_of(h)} carers")) for h in facts.households
    )


def carers(facts: YearFacts, code: str | None) -> Counted:
    return _carers_where(facts, carers_of)


def carers_by_age(facts: YearFacts, code: str | None) -> Counted:
    if code == NOT_KNOWN:
        return _carers_where(facts, lambda h: carers_of(h) - len(h.carers_age_bands))
    return _carers_where(facts, lambda h: h.carers_age_bands.count(code or ""))


def ethnic_group(facts: YearFacts, h: HouseholdOnDay) -> str:
    """The return's ethnic group of a household's carers."""
    if not h.carers_ethnicity:
        return NOT_KNOWN
    group = Ethnicity(h.carers_ethnicity).group
    return facts.collection.ethnic_groups.get(group, NOT_KNOWN)


def carers_by_ethnicity(facts: YearFacts, code: str | None) -> Counted:
    return _carers_where(facts, lambda h: carers_of(h) if ethnic_group(facts, h) == code else 0)


def carers_by_disability(facts: YearFacts, code: str | None) -> Counted:
    def count(h: HouseholdOnDay) -> int:
        if h.carers_disabled is None:
            return carers_of(h) if code == "unknown" else 0
        if code == "yes":
            return h.carers_disabled
        return carers_of(h) - h.carers_disabled if code == "no" else 0

    return _carers_where(facts, count)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "not recorded"


MEASURES: dict[str, Callable[[YearFacts, str | None], Counted]] = {
    "initial_enquiries": initial_enquiries,
    "applications_received": applications_received,
    "applications_approved": applications_approved,
    "applications_withdrawn": applications_withdrawn,
    "withdrawn": withdrawn,
    "applications_rejected": applications_rejected,
    "applications_in_progress": applications_in_progress,
    "application_to_approval": application_to_approval,
    "households_approved": households_approved,
    "deregistered": deregistered,
    "households": households,
    "households_by_places": households_by_places,
    "places": places,
    "places_of_type": places_of_type,
    "unavailable_by_reason": unavailable_by_reason,
    "carers": carers,
    "carers_by_age": carers_by_age,
    "carers_by_ethnicity": carers_by_ethnicity,
    "carers_by_disability": carers_by_disability,
}


def compute(facts: YearFacts) -> dict[str, Counted]:
    """Every figure the year's collection produces, by field key, in the return's order."""
    return {
        spec.key: MEASURES[spec.measure](facts, spec.code) for spec in facts.collection.produced()
    }
