"""The demo's dated figures entered by hand: children in care by placement category (sized
from the authority's published figures) and external provision in use."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from demo import SOURCE, STOKE
from demo.draws import at_work
from tracker.capacity.tables import ChildrenInCareFigure, ExternalProvisionFigure
from tracker.core.bulk import insert_rows
from tracker.households.care_types import (
    ExternalProvision,
    PlacementCategory,
)
from tracker.reference import AuthorityFigures

# Children in care by placement category: a mix near England's (foster care about 70%).
CARE_MIX: dict[PlacementCategory, float] = {
    PlacementCategory.IN_HOUSE_FOSTER: 0.27,
    PlacementCategory.CONNECTED_FOSTER: 0.17,
    PlacementCategory.IFA_FOSTER: 0.23,
    PlacementCategory.OTHER_COUNCIL_FOSTER: 0.02,
    PlacementCategory.CHILDRENS_HOME: 0.10,
    PlacementCategory.OTHER_RESIDENTIAL: 0.02,
    PlacementCategory.SUPPORTED_ACCOMMODATION: 0.05,
    PlacementCategory.PLACED_WITH_PARENTS: 0.07,
    PlacementCategory.PLACED_FOR_ADOPTION: 0.03,
    PlacementCategory.OTHER: 0.04,
}


# Children in care on 31 March of a year, as the councils' own strategies give them.
SEED_CHILDREN: dict[str, dict[int, int]] = {STOKE: {2022: 1022, 2023: 1109}}


# Children with in-house and connected carers on 31 March (Stoke 2023-28, section 7).
SEED_FOSTER: dict[str, dict[int, dict[PlacementCategory, int]]] = {
    STOKE: {2023: {PlacementCategory.IN_HOUSE_FOSTER: 211, PlacementCategory.CONNECTED_FOSTER: 205}}
}


# (provision, households, places, used by the council) on a date (Stoke 2023-28: April 2023).
SEED_PROVISION: dict[
    str, tuple[date, tuple[tuple[ExternalProvision, int | None, int, int], ...]]
] = {
    STOKE: (
        date(2023, 3, 31),
        (
            (ExternalProvision.IFA_FOSTERING, 92, 219, 94),
            (ExternalProvision.PRIVATE_CHILDRENS_HOME, None, 57, 3),
        ),
    )
}


def _dates(start: date, today: date) -> list[date]:
    """31 March of every year in the window, and the latest month end."""
    dates = [date(y, 3, 31) for y in range(start.year, today.year + 1)]
    dates = [d for d in dates if start <= d <= today]
    month_end = date(today.year, today.month, 1) - timedelta(days=1)
    if today == date(today.year, today.month, 1) + relativedelta(months=1, days=-1):
        month_end = today
    if month_end >= start and month_end not in dates:
        dates.append(month_end)
    return dates


def _totals(rng: random.Random, figures: AuthorityFigures, first: int, last: int) -> dict[int, int]:
    """Children in care on 31 March of each year from `first` to `last`."""
    anchors = dict(SEED_CHILDREN.get(figures.code, {}))
    if figures.children_in_care and figures.cla_year:
        anchors.setdefault(figures.cla_year, figures.children_in_care)
    if not anchors:
        anchors[last] = round(2.3 * (figures.children_in_foster_care_2019 or 10))
    known = sorted(anchors)
    totals: dict[int, float] = {}
    for year in range(min(first, known[0]), max(last, known[-1]) + 1):
        if year in anchors:
            totals[year] = anchors[year]
            continue
        before = [k for k in known if k < year]
        after = [k for k in known if k > year]
        if before and after:
            a, b = before[-1], after[0]
            totals[year] = anchors[a] + (anchors[b] - anchors[a]) * (year - a) / (b - a)
    for year in range(known[0] - 1, min(first, known[0]) - 1, -1):
        totals[year] = totals[year + 1] * math.exp(rng.gauss(0, 0.035))
    for year in range(known[-1] + 1, max(last, known[-1]) + 1):
        totals[year] = totals[year - 1] * math.exp(rng.gauss(0, 0.035))
    return {year: round(value) for year, value in totals.items()}


def _split(total: int, shares: dict[PlacementCategory, float]) -> dict[PlacementCategory, int]:
    """Whole numbers in proportion to `shares` that add up to `total` (largest remainders)."""
    whole = sum(shares.values())
    exact = {k: total * v / whole for k, v in shares.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[:left]:
        counts[k] += 1
    return counts


def children_in_care_rows(
    rng: random.Random, figures: AuthorityFigures, start: date, today: date
) -> list[dict[str, Any]]:
    """Children in care by category on each 31 March of the window and the latest month end."""
    dates = _dates(start, today)
    if not dates:
        return []
    totals = _totals(rng, figures, dates[0].year - 1, dates[-1].year + 1)
    seeds = SEED_FOSTER.get(figures.code, {})
    base = dict(CARE_MIX)
    if seeds:  # the council's own mix, in the year it gives it
        year = min(seeds)
        for category, children in seeds[year].items():
            base[category] = children / totals[year]
        rest = 1 - sum(base[c] for c in seeds[year])
        others = sum(v for k, v in CARE_MIX.items() if k not in seeds[year])
        for category in CARE_MIX:
            if category not in seeds[year]:
                base[category] = CARE_MIX[category] * rest / others
    drift = dict.fromkeys(CARE_MIX, 0.0)
    rows = []
    for as_at in dates:
        march = as_at.year if as_at >= date(as_at.year, 3, 31) else as_at.year - 1
        part = (as_at - date(march, 3, 31)).days / 365
        total = round(totals[march] + (totals[march + 1] - totals[march]) * part)
        drift = {k: 0.8 * v + rng.gauss(0, 0.04) for k, v in drift.items()}
        shares = {k: base[k] * math.exp(drift[k]) for k in CARE_MIX}
        fixed = seeds.get(as_at.year, {}) if as_at == date(as_at.year, 3, 31) else {}
        counts = _split(
            total - sum(fixed.values()), {k: shares[k] for k in CARE_MIX if k not in fixed}
        )
        counts |= fixed
        rows += [
            {
                "authority_code": figures.code,
                "as_at": as_at,
                "category": category.value,
                "children": counts[category],
                "source": SOURCE,
                "recorded_at": at_work(min(today, as_at + timedelta(days=14)), rng),
            }
            for category in CARE_MIX
        ]
    return rows


def external_provision_rows(code: str, today: date, rng: random.Random) -> list[dict[str, Any]]:
    """Local provision the council's strategy counts (Stoke-on-Trent only)."""
    if code not in SEED_PROVISION:
        return []
    as_at, figures = SEED_PROVISION[code]
    if as_at > today:
        return []
    return [
        {
            "authority_code": code,
            "as_at": as_at,
            "provision": provision.value,
            "households": households,
            "places": places,
            "used_by_authority": used,
            "recorded_at": at_work(min(today, as_at + timedelta(days=30)), rng),
        }
        for provision, households, places, used in figures
    ]


def store_figures(
    session: Session,
    cic: list[dict[str, Any]],
    provision: list[dict[str, Any]],
    *,
    copy: bool = True,
) -> int:
    """Insert children in care and external provision figures (COPY on PostgreSQL unless
    `copy` is false); returns the rows stored."""
    insert_rows(session, ChildrenInCareFigure, cic, copy=copy)
    insert_rows(session, ExternalProvisionFigure, provision, copy=copy)
    return len(cic) + len(provision)
