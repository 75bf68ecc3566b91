"""How a council compares: each benchmark for the council (from the service's records, in the
year asked) beside the latest published figures up to that year for the council itself,
England's council fostering services, its region and the median of its ten statistical
neighbours (DfE's median of neighbours), small counts suppressed as DfE published them."""

from __future__ import annotations

import re
import statistics
from datetime import date, timedelta

import msgspec
from sqlalchemy.orm import Session

from forecast.months import year_label, year_start
from tracker.benchmarks.council import council_terms, population_year
from tracker.benchmarks.measures import (
    BENCHMARKS,
    NOT_PUBLISHED,
    NOT_RECORDED,
    Benchmark,
    Figure,
    Terms,
    evaluate,
)
from tracker.benchmarks.published import (
    ENGLAND,
    OFSTED_MEASURES,
    Published,
    SourceRow,
    as_number,
    load_published,
)
from tracker.children.mapping import Mapping
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError
from tracker.ofsted.collections import collection_years, load_collection

YEAR = re.compile(r"^(\d{4})-(\d{2})$")


class Comparator(msgspec.Struct, frozen=True, kw_only=True):
    """A benchmark for one comparator (England, the region, the council as published, a
    neighbour, or the neighbours' median)."""

    code: str
    name: str
    figure: Figure
    closeness: str | None = None


class Comparison(msgspec.Struct, frozen=True, kw_only=True):
    """One benchmark: the council from the service in the year asked, and the published
    comparators of `published_year` (the latest published up to it; None when none is)."""

    key: str
    label: str
    unit: str
    definition: str
    council: Figure
    published_year: int | None
    council_published: Comparator | None
    england: Comparator | None
    region: Comparator | None
    neighbours_median: Figure | None
    neighbours: list[Comparator]


class Benchmarks(msgspec.Struct, frozen=True, kw_only=True):
    """How a council compares in a year ending 31 March."""

    authority_code: str
    authority_name: str
    year: str
    comparisons: list[Comparison]
    notes: list[str]
    sources: list[SourceRow]


def parse_year(year: str, today: date) -> int:
    """The year ending 31 March of a label ("2025-26" is 2026), ended by `today`."""
    match = YEAR.match(year)
    if (
        match is None
        or (int(match.group(1)) + 1) % 100 != int(match.group(2))
        or not 2000 <= int(match.group(1)) < 2100
    ):
        raise InvalidValueError(f"{year!r} is not a year like 2025-26", field="year")
    end = int(match.group(1)) + 1
    if date(end, 3, 31) >= today:
        raise InvalidValueError(f"the year {year} has not ended", field="year")
    return end


def latest_ended_year(today: date) -> str:
    """The label of the latest year ending 31 March before `today` ("2025-26")."""
    return year_label(year_start(today) - timedelta(days=1))


def _terms(published: Published, code: str, year: int) -> Terms:
    return {m: published.cell(code, year, m) for b in BENCHMARKS for m in b.terms()}


def _england_terms(published: Published, year: int) -> Terms:
    """England: DfE's national figures, and Ofsted's council services (the regions summed)."""
    terms = _terms(published, ENGLAND, year)
    for measure in terms.keys() & OFSTED_MEASURES:
        cells = [published.cell(r, year, measure) for r in published.regions()]
        numbers = [as_number(c) for c in cells]
        if all(n is not None for n in numbers):
            terms[measure] = str(int(sum(n or 0 for n in numbers)))
        else:
            terms[measure] = next((c for c in cells if as_number(c) is None), None) or None
    return terms


def published_year(published: Published, benchmark: Benchmark, year: int) -> int | None:
    """The latest year up to `year` every term of the benchmark is published for."""
    common = set.intersection(*(set(published.years(t)) for t in benchmark.terms()))
    earlier = [y for y in common if y <= year]
    return max(earlier) if earlier else None


def _comparator(published: Published, code: str, figure: Figure) -> Comparator:
    area = published.areas[code]
    return Comparator(code=code, name=area.name, figure=figure)


def _median(year: int, figures: list[Figure]) -> Figure:
    values = [f.value for f in figures if f.value is not None]
    return Figure(
        year=year,
        value=round(statistics.median(values), 4) if values else None,
        marker=None if values else NOT_PUBLISHED,
        parts={"neighbours_with_a_figure": str(len(values)), "neighbours": str(len(figures))},
    )


def _compare(published: Published, code: str, benchmark: Benchmark, council: Figure) -> Comparison:
    year = published_year(published, benchmark, council.year)
    area = published.areas.get(code)
    comparison = Comparison(
        key=benchmark.key,
        label=benchmark.label,
        unit=benchmark.unit,
        definition=benchmark.definition,
        council=council,
        published_year=year,
        council_published=None,
        england=None,
        region=None,
        neighbours_median=None,
        neighbours=[],
    )
    if year is None or area is None:
        return comparison

    def of(area_code: str, terms: Terms) -> Comparator:
        return _comparator(published, area_code, evaluate(benchmark, year, terms))

    neighbours = [
        msgspec.structs.replace(of(n.code, _terms(published, n.code, year)), closeness=n.closeness)
        for n in published.neighbours.get(code, [])
    ]
    return msgspec.structs.replace(
        comparison,
        council_published=of(code, _terms(published, code, year)),
        england=of(ENGLAND, _england_terms(published, year)),
        region=of(area.region, _terms(published, area.region, year)) if area.region else None,
        neighbours_median=_median(year, [n.figure for n in neighbours]) if neighbours else None,
        neighbours=neighbours,
    )


def benchmarks(session: Session, code: str, year: str, today: date, mapping: Mapping) -> Benchmarks:
    """The council's benchmarks in a year ("2025-26") against the published figures."""
    authority = get_authority(session, code)
    end = parse_year(year, today)
    published = load_published()
    fostering = load_collection(collection_years()[-1]).fostering_care_types
    terms = council_terms(session, code, end, fostering, mapping, published)
    comparisons = [
        _compare(published, code, b, evaluate(b, end, terms, NOT_RECORDED)) for b in BENCHMARKS
    ]
    notes = [
        "Ofsted's local authority figures are rounded to the nearest 5 and count the council's"
        " own fostering service; England here is the nine regions summed (Ofsted's own England"
        " figure counts independent agencies too). DfE's are for every child the council looks"
        " after; its small counts are suppressed (c) as published.",
    ]
    if code not in published.areas:
        notes.append(f"{code} is not among the published areas: no comparators.")
    population = population_year(published, code, end)
    if population is not None and population != end:
        notes.append(
            "Rates per 10,000 children use the population estimate DfE published with its"
            f" {population - 1}-{str(population)[-2:]} figures, the latest, for {year}."
        )
    used = {
        (t, c.published_year)
        for b, c in zip(BENCHMARKS, comparisons, strict=True)
        for t in b.terms()
    }
    return Benchmarks(
        authority_code=code,
        authority_name=authority.name,
        year=year,
        comparisons=comparisons,
        notes=notes,
        sources=[s for s in published.sources if (s.measure, s.year) in used],
    )
