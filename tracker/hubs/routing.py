"""Routing a new enquiry to a member council: the enquirer's choice first, then the hub's
own choice for the postcode district, then the shipped lookup of districts to councils
(`data/postcode_districts.csv`, see `data/README.md` for its source and licence)."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.errors import InvalidValueError
from tracker.hubs.rules import RoutedBy
from tracker.hubs.tables import HubDistrict, HubMember

LOOKUP = Path(__file__).with_name("data") / "postcode_districts.csv"


@cache
def district_lookup(path: Path = LOOKUP) -> dict[str, tuple[str, ...]]:
    """Each postcode district's local authority codes, most postcodes first."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found[row["district"].upper()].append((-int(row["postcodes"]), row["authority_code"]))
    return {district: tuple(code for _, code in sorted(codes)) for district, codes in found.items()}


def member_codes(session: Session, hub_id: int) -> list[str]:
    """The hub's member councils."""
    query = select(HubMember.authority_code).where(HubMember.hub_id == hub_id)
    return sorted(session.scalars(query))


def route(
    session: Session,
    hub_id: int,
    *,
    district: str | None,
    chosen: str | None,
    lookup: dict[str, tuple[str, ...]] | None = None,
) -> tuple[str, RoutedBy]:
    """The member council a new enquiry goes to, and how it was chosen.

    A district the lookup places in several member councils (and the hub has not chosen
    for) is refused, naming them, so the hub chooses.
    """
    members = member_codes(session, hub_id)
    if chosen is not None:
        if chosen not in members:
            raise InvalidValueError(
                f"{chosen} is not a council of this hub (members: {', '.join(members)})",
                field="authority_code",
            )
        return chosen, RoutedBy.ENQUIRER
    if district is None:
        raise InvalidValueError(
            "give the enquirer's postcode_district or the authority_code they chose",
            field="postcode_district",
        )
    district = district.upper()
    choice = session.get(HubDistrict, (hub_id, district))
    if choice is not None:
        return choice.authority_code, RoutedBy.HUB_DISTRICT
    codes = [c for c in (lookup if lookup is not None else district_lookup()).get(district, ())]
    inside = [c for c in codes if c in members]
    if len(inside) == 1:
        return inside[0], RoutedBy.POSTCODE
    if len(inside) > 1:
        raise InvalidValueError(
            f"postcode district {district} spans councils {', '.join(inside)}: choose one"
            " (authority_code), or set the hub's choice for the district",
            field="authority_code",
        )
    raise InvalidValueError(
        f"postcode district {district} is in none of this hub's councils"
        + (f" (it is in {', '.join(codes)})" if codes else " as far as the lookup knows")
        + ": give the authority_code",
        field="postcode_district",
    )
