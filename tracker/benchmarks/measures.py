"""What a council is compared on: each benchmark as a ratio of published measures, worked out
by the one rule `evaluate` for the council's own figures and for the published ones alike, so
both sides are counted the same way."""

from __future__ import annotations

from typing import Literal

import msgspec

from tracker.benchmarks.published import as_number
from tracker.core.ratios import ratio

Terms = dict[str, str | None]


class Benchmark(msgspec.Struct, frozen=True, kw_only=True):
    """A benchmark: (sum of `numerator` terms) / (sum of `denominator` terms), a term
    prefixed with "-" subtracted, times `scale`."""

    key: str
    label: str
    unit: Literal["share", "per_10k"]
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    definition: str
    scale: int = 1

    def terms(self) -> list[str]:
        """The measures it reads."""
        return [t.removeprefix("-") for t in (*self.numerator, *self.denominator)]


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """A benchmark's value for one area and year ending 31 March (`year` 2026 for 2025-26);
    `marker` says why there is none (a suppression as published, "c", "x", "..", or "not
    published"; None when the denominator is 0); `parts` are the figures it was worked out
    from, as published or counted."""

    year: int
    value: float | None
    marker: str | None
    parts: dict[str, str | None]


NOT_PUBLISHED = "not published"
NOT_RECORDED = "not recorded"
PER_10K = "per 10,000 children aged 0 to 17 (DfE's population estimate of the year)"

BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        key="enquiry_to_application",
        label="Enquiry to application",
        unit="share",
        numerator=("applications",),
        denominator=("enquiries",),
        definition="Applications received in the year / initial enquiries in the year (Ofsted).",
    ),
    Benchmark(
        key="application_to_approval",
        label="Application to approval",
        unit="share",
        numerator=("applications_approved",),
        denominator=("applications",),
        definition="Applications received and approved in the same year / applications received"
        " in the year (Ofsted counts approvals of in-year applications only).",
    ),
    Benchmark(
        key="approvals_per_10k",
        label="Households approved",
        unit="per_10k",
        numerator=("households_approved_in_year",),
        denominator=("population_0_17",),
        scale=10_000,
        definition="Fostering households approved in the year, family and friends included,"
        f" {PER_10K}.",
    ),
    Benchmark(
        key="deregistrations_per_10k",
        label="Households deregistered",
        unit="per_10k",
        numerator=("households_deregistered",),
        denominator=("population_0_17",),
        scale=10_000,
        definition=f"Fostering households deregistered in the year, {PER_10K}.",
    ),
    Benchmark(
        key="net_change_per_10k",
        label="Net change in households",
        unit="per_10k",
        numerator=("households_approved_in_year", "-households_deregistered"),
        denominator=("population_0_17",),
        scale=10_000,
        definition=f"Households approved less households deregistered in the year, {PER_10K}.",
    ),
    Benchmark(
        key="occupancy",
        label="Occupancy",
        unit="share",
        numerator=("filled_places",),
        denominator=("approved_places", "-unavailable_places"),
        definition="Filled places / places available (approved less not available) at 31 March,"
        " the capacity page's rule, applied to Ofsted's figures too.",
    ),
    Benchmark(
        key="in_house_share_of_foster",
        label="In-house share of foster care",
        unit="share",
        numerator=("filled_places",),
        denominator=("children_in_foster_care",),
        definition="Children placed with the council's own foster carers (family and friends"
        " included: Ofsted's filled places) / children looked after in foster placements at 31"
        " March (DfE). The two sources differ: a share above 100% can happen.",
    ),
    Benchmark(
        key="staying_put_18",
        label="Staying Put at 18",
        unit="share",
        numerator=("staying_put_stayed",),
        denominator=("staying_put_eligible",),
        definition="Young people who ceased to be looked after in a foster placement on their"
        " 18th birthday and were eligible for care-leaver support, living with their former"
        " foster carers (DfE).",
    ),
)


def evaluate(benchmark: Benchmark, year: int, terms: Terms, missing: str = NOT_PUBLISHED) -> Figure:
    """A benchmark from its terms: None when any of them is not a number, with its marker
    as published ("c"), or `missing` when there is no figure at all."""
    parts = {name: terms.get(name) for name in benchmark.terms()}
    for raw in parts.values():
        if as_number(raw) is None:
            return Figure(year=year, value=None, marker=raw or missing, parts=parts)

    def total(names: tuple[str, ...]) -> float:
        return sum(
            -(as_number(parts[n.removeprefix("-")]) or 0.0)
            if n.startswith("-")
            else as_number(parts[n]) or 0.0
            for n in names
        )

    numerator, denominator = total(benchmark.numerator), total(benchmark.denominator)
    if benchmark.unit == "share":
        value = ratio(numerator, denominator)
    else:
        # `or 0.0`: a rate that rounds to nothing is 0, never -0.
        value = round(numerator / denominator * benchmark.scale, 1) or 0.0 if denominator else None
    return Figure(year=year, value=value, marker=None, parts=parts)
