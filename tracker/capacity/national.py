"""The national capacity view: every region's roll-up and England's, as at a date.

Aggregates only, and coarser than the regional view: sums per region and for England, no
council's own figures (a reader of one region sees the others only as regional sums). The
figures come from the same place as the regional view's (each council's register, else its
latest return), all councils' registers in one query.
"""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.capacity.regional import (
    AuthorityCapacity,
    RegionRollup,
    authority_capacity_rows,
    rollup,
)
from tracker.core.authorities import Authority


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


def national_capacity(session: Session, as_at: date) -> NationalCapacity:
    """Each region's capacity roll-up and England's as at a date."""
    authorities = list(session.scalars(select(Authority).order_by(Authority.code)))
    rows = authority_capacity_rows(session, authorities, as_at)
    by_region: dict[str, list[AuthorityCapacity]] = {}
    for authority, row in zip(authorities, rows, strict=True):
        by_region.setdefault(authority.region, []).append(row)
    return NationalCapacity(
        as_at=as_at,
        regions=[
            RegionCapacity(region=name, authorities=len(members), rollup=rollup(members))
            for name, members in sorted(by_region.items())
        ],
        england=rollup(rows),
    )
