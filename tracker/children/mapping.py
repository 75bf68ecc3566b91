"""The placement-category mapping, loaded from configuration and turned into SQL.

The rules live in `placement_categories.toml` (or a council's own copy named by
`FOSTERING_PLACEMENT_MAPPING`); queries use `category_case()` so no query spells out codes.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import and_, case, literal

from tracker.core.errors import InvalidValueError
from tracker.households.care_types import PlacementCategory


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """PLACE codes (and, optionally, providers) that make one category."""

    category: PlacementCategory
    place: tuple[str, ...]
    providers: tuple[str, ...] = ()


class Mapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ordered rules: the first that matches wins; no match is `other`."""

    rule: tuple[Rule, ...]

    def category(self, place: str, provider: str | None) -> PlacementCategory:
        """The category of one placement code and provider."""
        for rule in self.rule:
            if place in rule.place and (not rule.providers or provider in rule.providers):
                return rule.category
        return PlacementCategory.OTHER


def parse_mapping(text: str) -> Mapping:
    """A mapping from TOML text (InvalidValueError naming the problem when it is wrong)."""
    try:
        return msgspec.convert(tomllib.loads(text), Mapping)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise InvalidValueError(f"placement mapping: {exc}", field="mapping") from exc


@cache
def load_mapping(path: str | None = None) -> Mapping:
    """The configured mapping (the shipped one unless a path is given)."""
    if path:
        return parse_mapping(Path(path).read_text())
    return parse_mapping((files("tracker.children") / "placement_categories.toml").read_text())


def category_case(mapping: Mapping, place: Any, provider: Any) -> Any:
    """A SQL CASE giving the category of PLACE/PLACE_PROVIDER columns."""
    whens = []
    for rule in mapping.rule:
        condition = place.in_(rule.place)
        if rule.providers:
            condition = and_(condition, provider.in_(rule.providers))
        whens.append((condition, literal(rule.category.value)))
    return case(*whens, else_=literal(PlacementCategory.OTHER.value))


def mapping_digest(mapping: Mapping) -> str:
    """A fingerprint of a placement mapping (what figures built with it are kept under)."""
    return hashlib.sha256(msgspec.json.encode(mapping)).hexdigest()
