"""A council's own figures for a year ending 31 March, counted from the service's records the
way Ofsted and DfE count theirs: the funnel's events in the year, the register's approvals and
deregistrations in it and its places on 31 March, children in foster care and Staying Put
from the SSDA903 returns (or the figures entered by hand)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from tracker.benchmarks.measures import Terms
from tracker.benchmarks.published import Published
from tracker.capacity.demand import children_in_care
from tracker.children.figures import staying_put
from tracker.children.mapping import Mapping
from tracker.households.care_types import FOSTER_CATEGORIES
from tracker.ofsted.queries import (
    approvals_between,
    deregistrations_between,
    enquiry_facts,
    households_on,
)

POPULATION = "population_0_17"


def _count(value: int | None) -> str | None:
    return None if value is None else str(value)


def population_year(published: Published, code: str, year: int) -> int | None:
    """The year of the population estimate used for `year`: its own, else the latest before."""
    years = [y for y in published.years(POPULATION) if y <= year]
    for candidate in reversed(years):
        if published.cell(code, candidate, POPULATION):
            return candidate
    return None


def council_terms(
    session: Session,
    code: str,
    year: int,
    fostering: list[str],
    mapping: Mapping,
    published: Published,
) -> Terms:
    """Every measure a benchmark reads, for the council and the year ending 31 March `year`
    (`fostering`: the care types of fostering households)."""
    start, end = date(year - 1, 4, 1), date(year, 3, 31)
    enquiries = enquiry_facts(session, code, start, end)

    def within(day: date | None) -> bool:
        return day is not None and start <= day <= end

    register = [h for h in households_on(session, code, end) if h.care_type in fostering]
    children = children_in_care(session, code, end, mapping)
    leavers = staying_put(session, code, start, end, mapping).years[-1]
    population = population_year(published, code, year)
    return {
        "enquiries": _count(sum(1 for e in enquiries if within(e.received_on))),
        "applications": _count(sum(1 for e in enquiries if within(e.application_on))),
        "applications_approved": _count(
            sum(1 for e in enquiries if within(e.application_on) and within(e.approved_on))
        ),
        "households_approved_in_year": _count(
            sum(1 for a in approvals_between(session, code, start, end) if a.care_type in fostering)
        ),
        "households_deregistered": _count(
            sum(
                1
                for d in deregistrations_between(session, code, start, end)
                if d.care_type in fostering
            )
        ),
        "households": _count(len(register)),
        "approved_places": _count(sum(h.approved for h in register)),
        "filled_places": _count(sum(h.filled for h in register)),
        "vacant_places": _count(sum(h.vacant for h in register)),
        "unavailable_places": _count(sum(h.unavailable for h in register)),
        POPULATION: published.cell(code, population, POPULATION) if population else None,
        "children_in_foster_care": _count(
            sum(c.children for c in children if c.category in FOSTER_CATEGORIES)
            if children
            else None
        ),
        "staying_put_eligible": _count(leavers.eligible),
        "staying_put_stayed": _count(leavers.stayed),
    }
