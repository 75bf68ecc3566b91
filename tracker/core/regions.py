"""England's nine regions: the ONS codes (E12000001 to E12000009) beside the names the
authorities' reference data uses, so a region can be named either way."""

from __future__ import annotations

REGION_NAMES: dict[str, str] = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
}


def region_named(value: str) -> str:
    """The region's name for an ONS region code; anything else as given (a name)."""
    return REGION_NAMES.get(value.strip().upper(), value)


def region_code(name: str) -> str | None:
    """The ONS code of a region named as the reference data names it, or None."""
    return next((code for code, known in REGION_NAMES.items() if known == name), None)
