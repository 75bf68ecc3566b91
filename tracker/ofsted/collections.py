"""Ofsted's annual fostering data collection of each year, as data: its sections and fields
in the return's order, each field's definition and sources, and how the register's codes map
to the return's (`collections/<year>.toml`, one file per collection year, because Ofsted
changes the collection every year)."""

from __future__ import annotations

import functools
import re
import tomllib
from datetime import date
from importlib import resources
from typing import Literal

import msgspec

from tracker.core.errors import NotFoundError

YEAR_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
# How the register's codes map to the return's: compared between years like the fields.
MAPPINGS = ("fostering_care_types", "household_types", "deregistration_reasons", "ethnic_groups")


class Source(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a rule of the collection comes from."""

    key: str
    title: str
    url: str
    seen: str


class Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A part of the return; `level` "carer" is a part Ofsted collects one carer at a time,
    which this service never produces (it holds no rows about people to send)."""

    key: str
    title: str
    level: Literal["aggregate", "carer"]
    required: bool
    note: str


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One figure of the return: what it counts (`measure`, narrowed by `code`) and why."""

    key: str
    section: str
    label: str
    measure: str
    definition: str
    sources: list[str]
    code: str | None = None
    unit: Literal["count", "days"] = "count"
    required: bool = True


class HouseholdType(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rule giving a household its type: its care type is one of `care_types`, and (when
    given) its terms include one of `terms_any`, or are all among `terms_only`."""

    key: str
    care_types: list[str]
    terms_any: list[str] = msgspec.field(default_factory=list)
    terms_only: list[str] = msgspec.field(default_factory=list)

    def matches(self, care_type: str, terms: list[str]) -> bool:
        """Whether a household of this care type and these terms has this type."""
        if care_type not in self.care_types:
            return False
        if self.terms_any and not set(terms) & set(self.terms_any):
            return False
        return not self.terms_only or (bool(terms) and set(terms) <= set(self.terms_only))


class Collection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One year's collection."""

    year: str
    title: str
    period_start: date
    period_end: date
    fostering_care_types: list[str]
    sources: list[Source]
    sections: list[Section]
    fields: list[FieldSpec]
    household_types: list[HouseholdType]
    deregistration_reasons: dict[str, str]
    ethnic_groups: dict[str, str]

    def section(self, key: str) -> Section:
        """The section with this key."""
        return next(s for s in self.sections if s.key == key)

    def produced(self) -> list[FieldSpec]:
        """The fields this service builds: those of aggregate sections, in the return's order."""
        aggregate = {s.key for s in self.sections if s.level == "aggregate"}
        return [f for f in self.fields if f.section in aggregate]

    def household_type(self, care_type: str, terms: list[str]) -> str | None:
        """The type of a household: the key of the first rule it meets (None: no rule)."""
        return next((t.key for t in self.household_types if t.matches(care_type, terms)), None)


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """How a later collection differs from an earlier one in one section or field."""

    item: str
    kind: Literal["added", "removed", "changed"]
    what: list[str] = msgspec.field(default_factory=list)


def _files() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("collections")
    return {
        entry.name.removesuffix(".toml"): entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def collection_years() -> list[str]:
    """The years a collection is shipped for, oldest first ("2024-25", ...)."""
    return sorted(_files())


@functools.cache
def load_collection(year: str) -> Collection:
    """The collection of a year ("2025-26"); NotFoundError naming `year` when none is shipped."""
    name = _files().get(year)
    if name is None:
        shipped = ", ".join(collection_years())
        raise NotFoundError(
            f"no Ofsted collection for {year!r}: this service has {shipped}", field="year"
        )
    text = resources.files(__package__).joinpath("collections", name).read_bytes()
    collection = msgspec.convert(tomllib.loads(text.decode()), Collection)
    check_collection(collection, year)
    return collection


def check_collection(collection: Collection, year: str) -> None:
    """Refuse a collection file that contradicts itself (a packaging error, not user input)."""
    match = YEAR_PATTERN.match(collection.year)
    if collection.year != year or match is None:
        raise ValueError(f"{year}.toml declares the year {collection.year!r}")
    start = int(match.group(1))
    if (collection.period_start, collection.period_end) != (
        date(start, 4, 1),
        date(start + 1, 3, 31),
    ):
        raise ValueError(f"{year}: the period is not 1 April {start} to 31 March {start + 1}")
    sections = {s.key for s in collection.sections}
    sources = {s.key for s in collection.sources}
    keys = [f.key for f in collection.fields]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{year}: a field key repeats")
    for spec in collection.fields:
        if spec.section not in sections or not set(spec.sources) <= sources:
            raise ValueError(f"{year}: field {spec.key} names an unknown section or source")


def changes_between(earlier: Collection, later: Collection) -> list[Change]:
    """What the later collection added, removed or changed, section by section and field by
    field (the year, period and sources aside)."""
    result: list[Change] = []
    for kind, before, after in (
        ("section", {s.key: s for s in earlier.sections}, {s.key: s for s in later.sections}),
        ("field", {f.key: f for f in earlier.fields}, {f.key: f for f in later.fields}),
    ):
        for key in [k for k in before if k not in after]:
            result.append(Change(item=f"{kind}:{key}", kind="removed"))
        for key, item in after.items():
            old = before.get(key)
            if old is None:
                result.append(Change(item=f"{kind}:{key}", kind="added"))
                continue
            differing = [
                name for name in item.__struct_fields__ if getattr(old, name) != getattr(item, name)
            ]
            if differing:
                result.append(Change(item=f"{kind}:{key}", kind="changed", what=differing))
    for name in MAPPINGS:
        if getattr(earlier, name) != getattr(later, name):
            result.append(Change(item=name, kind="changed"))
    return result


def default_year(today: date) -> str:
    """The latest collection whose year has ended by `today` (else the earliest shipped)."""
    years = collection_years()
    ended = [y for y in years if load_collection(y).period_end < today]
    return ended[-1] if ended else years[0]
