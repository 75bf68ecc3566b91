"""Reference figures for each English local authority (LA), shipped with the package.

``authorities.csv`` holds one row per English LA (the 155 LAs of the DfE 2025 release, keyed
by ONS code) plus one row for England (``E92000001``). It is built by
``scripts/build_reference.py`` from unmodified copies of official statistics:

* Ofsted, *Fostering in England 1 April 2018 to 31 March 2019*, LA-level fostering data
  (``ofsted_year`` = 2019): enquiries, applications and their outcomes, approved households,
  foster places (approved, filled, vacant, unavailable), households approved and deregistered.
  Figures are rounded to the nearest 5 and cover only the LA's **own** fostering service. The
  England row covers **all** services (LA and independent fostering agencies), so it is not the
  sum of the LA rows. Ofsted figures are empty for Birmingham, Sandwell, City of London, Isles
  of Scilly and the three Tri-borough councils (Hammersmith and Fulham, Kensington and Chelsea,
  Westminster, reported only jointly), and for LAs created after 2019 or whose boundary changed
  in 2019 (Bournemouth, Christchurch and Poole; Dorset; Cumberland; Westmorland and Furness;
  North and West Northamptonshire).
* DfE, *Children looked after in England including adoption* (SSDA903): children looked after
  at 31 March and children starting to be looked after in ``cla_year`` (the latest year the LA
  existed in the 2025 release); children in foster placements at 31 March 2019 (2019 release);
  Staying Put at 18 (eligible care leavers and those still living with former foster carers) in
  ``staying_put_year`` (2024 release). LA counts are unrounded; England counts are rounded to
  the nearest 10.

Empty fields (``None``) mean suppressed, not available or not applicable, never zero.

Contains public sector information licensed under the Open Government Licence v3.0
(Crown copyright: Ofsted and Department for Education).
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

import msgspec

__all__ = ["ENGLAND_CODE", "AuthorityFigures", "england", "find_by_name", "load_reference"]

ENGLAND_CODE = "E92000001"
_CSV_NAME = "authorities.csv"


class AuthorityFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Reference figures for one LA, or for England (``region`` is None for England)."""

    code: str
    name: str
    region: str | None
    # Ofsted 2018-19, LA's own fostering service (England: all services), rounded to 5.
    ofsted_year: int | None
    enquiries: int | None
    applications: int | None
    applications_approved: int | None
    applications_withdrawn_by_applicant: int | None
    applications_withdrawn_by_service: int | None
    applications_rejected_at_panel: int | None
    applications_in_progress: int | None
    households: int | None
    approved_places: int | None
    filled_places: int | None
    vacant_places: int | None
    unavailable_places: int | None
    households_approved_in_year: int | None
    households_deregistered: int | None
    # DfE, all children the LA looks after.
    cla_year: int | None
    children_in_care: int | None
    starters: int | None
    children_in_foster_care_2019: int | None
    staying_put_year: int | None
    staying_put_eligible: int | None
    staying_put_stayed: int | None


@functools.cache
def load_reference() -> dict[str, AuthorityFigures]:
    """Return the shipped reference figures keyed by ONS code (cached after the first call)."""
    text = resources.files(__name__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    figures: dict[str, AuthorityFigures] = {}
    for row in csv.DictReader(text.splitlines()):
        values = {key: (value if value != "" else None) for key, value in row.items()}
        item = msgspec.convert(values, AuthorityFigures, strict=False)
        figures[item.code] = item
    return figures


def england() -> AuthorityFigures:
    """Return the England row (Ofsted fields cover all fostering services, LA and IFA)."""
    return load_reference()[ENGLAND_CODE]


def find_by_name(name: str) -> AuthorityFigures | None:
    """Return the area whose DfE name equals ``name`` ignoring case, or None.

    DfE spellings are used, e.g. "County Durham", "Bristol, City of", "St. Helens".
    """
    wanted = name.strip().casefold()
    for item in load_reference().values():
        if item.name.casefold() == wanted:
            return item
    return None
