"""The national capacity view: every region's roll-up and England's, as at a date.

Aggregates only, and coarser than the regional view: sums per region and for England, no
council's own figures (a reader of one region sees the others only as regional sums). A sum
over fewer than `MIN_AUTHORITIES` councils would be one council's own figures, so it is
withheld, and England's sum of that care type too (England less the other regions would
give it back). The figures come from the same place as the regional view's (each council's
register, else its latest return), all councils' registers in one query.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import msgspec
from msgspec.structs import replace
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.capacity.regional import (
    AuthorityCapacity,
    RegionRollup,
    RollupPlaces,
    authority_capacity_rows,
    rollup,
)
from tracker.core.authorities import Authority

MIN_AUTHORITIES = 2
"""The fewest councils a sum of the national view covers (fewer: one council's figures)."""


class RegionCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """One region's roll-up in the national view."""

    region: str
    authorities: int
    rollup: RegionRollup


class NationalCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """Every region's roll-up and England's (sums over every council, ratios recomputed)."""

    as_at: date
    regions: list[RegionCapacity]
    england: RegionRollup


def _withheld(row: RollupPlaces) -> RollupPlaces:
    return replace(
        row,
        households=None,
        approved_places=None,
        filled_places=None,
        vacant_places=None,
        unavailable_places=None,
        occupancy=None,
        suppressed=True,
    )


def _guarded(
    whole: RegionRollup, withheld_types: Collection[str] = (), share_withheld: bool = False
) -> RegionRollup:
    """`whole` with each sum over too few councils withheld, and those named withheld too."""
    small = 0 < whole.authorities_in_share < MIN_AUTHORITIES
    share = share_withheld or small
    return replace(
        whole,
        rows=[
            _withheld(r) if r.authorities < MIN_AUTHORITIES or r.care_type in withheld_types else r
            for r in whole.rows
        ],
        children_in_care=None if share else whole.children_in_care,
        capacity_share_of_demand=None if share else whole.capacity_share_of_demand,
        share_suppressed=share,
    )


def national_capacity(session: Session, as_at: date) -> NationalCapacity:
    """Each region's capacity roll-up and England's as at a date, sums over fewer than
    `MIN_AUTHORITIES` councils withheld (and England's where a region's is)."""
    authorities = list(session.scalars(select(Authority).order_by(Authority.code)))
    rows = authority_capacity_rows(session, authorities, as_at)
    by_region: dict[str, list[AuthorityCapacity]] = {}
    for authority, row in zip(authorities, rows, strict=True):
        by_region.setdefault(authority.region, []).append(row)
    regions = [
        RegionCapacity(region=name, authorities=len(members), rollup=_guarded(rollup(members)))
        for name, members in sorted(by_region.items())
    ]
    withheld = {r.care_type for region in regions for r in region.rollup.rows if r.suppressed}
    share_withheld = any(region.rollup.share_suppressed for region in regions)
    return NationalCapacity(
        as_at=as_at,
        regions=regions,
        england=_guarded(rollup(rows), withheld, share_withheld),
    )
