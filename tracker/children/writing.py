"""Storing SSDA903 records: what is stored now for the children and years an import touches,
and the inserts, updates and deletes that make the store what the import says, in bulk and
in the caller's transaction (all or nothing)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tracker.children.tables import CareEpisode, CareLeaverRecord, ChildRecord

CHUNK = 1000
BATCH = 5000
# What an Episodes row says, as against what the import works out from it.
EPISODE_FIELDS = (
    "rne",
    "ls",
    "cin",
    "place",
    "place_provider",
    "dec",
    "rec",
    "reason_place_change",
    "pl_la",
)
DERIVED_FIELDS = ("age_at_start", "ceased_at_18", "period_start", "source_row")
LEAVER_FIELDS = ("accom", "in_touch", "activ")


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """Created, updated, removed and unchanged records of one kind."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


def among(column: Any, keys: Sequence[Any]) -> Any:
    """`column IN (keys)` with the keys written into the statement: PostgreSQL then hashes
    the list, where a thousand bound parameters are compared one by one on every row (which
    made a repeat import of a large authority several times slower than the first)."""
    return column.in_(bindparam("keys", list(keys), expanding=True, literal_execute=True))


def _chunks(keys: Collection[Any]) -> Iterable[list[Any]]:
    wanted = sorted(keys)
    for start in range(0, len(wanted), CHUNK):
        yield wanted[start : start + CHUNK]


def _rows_of(model: Any) -> Any:
    """A SELECT of every column of a table: rows are read as plain tuples with attribute
    access, several times faster than ORM objects for the tens of thousands an import of
    a large authority compares."""
    return select(*model.__table__.columns)


def stored_children(session: Session, code: str, keys: Collection[str]) -> dict[str, Any]:
    """The stored children among `keys`, by pseudonym."""
    found: dict[str, Any] = {}
    for chunk in _chunks(keys):
        query = _rows_of(ChildRecord).where(
            ChildRecord.authority_code == code, among(ChildRecord.child_key, chunk)
        )
        found.update({c.child_key: c for c in session.execute(query)})
    return found


def stored_episodes(
    session: Session, code: str, years: Collection[int], children: Collection[str]
) -> dict[tuple[int, str, Any], Any]:
    """Every stored episode of the returns of `years`, and of the children of `children` in
    any other return, by (return year, child, DECOM)."""
    e = CareEpisode
    queries = []
    if years:
        queries.append(
            _rows_of(e).where(e.authority_code == code, among(e.source_year, list(years)))
        )
    others = [e.source_year.not_in(list(years))] if years else []  # type: ignore[attr-defined]
    queries += [
        _rows_of(e).where(e.authority_code == code, among(e.child_key, chunk), *others)
        for chunk in _chunks(children)
    ]
    found: dict[tuple[int, str, Any], Any] = {}
    for query in queries:
        found.update({(r.source_year, r.child_key, r.decom): r for r in session.execute(query)})
    return found


def stored_leavers(
    session: Session, code: str, years: Collection[int]
) -> dict[tuple[int, str], Any]:
    """Every stored OC3 row of the years, by (year, child)."""
    if not years:
        return {}
    query = _rows_of(CareLeaverRecord).where(
        CareLeaverRecord.authority_code == code, among(CareLeaverRecord.year, list(years))
    )
    return {(r.year, r.child_key): r for r in session.execute(query)}


def _insert(table: Any) -> Any:
    """A bulk INSERT that writes None as NULL: otherwise the ORM leaves None columns out and
    splits the rows into a statement per run of rows with the same empty columns."""
    return insert(table).execution_options(render_nulls=True)


def apply(
    session: Session,
    model: type[CareEpisode | CareLeaverRecord | ChildRecord],
    code: str,
    wanted: Mapping[Any, dict[str, Any]],
    stored: Mapping[Any, Any],
    removable: Collection[Any] = (),
    *,
    dry_run: bool,
) -> Counts:
    """Make the stored records of `model` what `wanted` says: insert what is new, update what
    differs, delete the keys of `removable` that are no longer wanted."""
    new, changed, same = [], [], 0
    for key, values in wanted.items():
        existing = stored.get(key)
        if existing is None:
            new.append({"authority_code": code, **values})
        elif all(getattr(existing, k) == v for k, v in values.items()):
            same += 1
        else:
            changed.append({"id": existing.id, **values})
    gone = sorted(stored[k].id for k in removable if k in stored and k not in wanted)
    if not dry_run:
        for start in range(0, len(new), BATCH):
            session.execute(_insert(model), new[start : start + BATCH])
        for start in range(0, len(changed), BATCH):
            session.execute(update(model), changed[start : start + BATCH])
        for chunk in _chunks(gone):
            session.execute(
                delete(model).where(among(model.id, chunk)),  # type: ignore[arg-type]
                execution_options={"synchronize_session": False},
            )
    return Counts(created=len(new), updated=len(changed), removed=len(gone), unchanged=same)


def remove_orphans(session: Session, code: str, children: Collection[str]) -> int:
    """Delete the children of `children` that no episode or OC3 row mentions any more."""
    orphans = []
    for chunk in _chunks(children):
        mentioned = select(CareEpisode.child_key).where(
            CareEpisode.authority_code == code, among(CareEpisode.child_key, chunk)
        )
        leaving = select(CareLeaverRecord.child_key).where(
            CareLeaverRecord.authority_code == code, among(CareLeaverRecord.child_key, chunk)
        )
        kept = set(session.scalars(mentioned)) | set(session.scalars(leaving))
        orphans += [c for c in chunk if c not in kept]
    for chunk in _chunks(orphans):
        session.execute(
            delete(ChildRecord).where(
                ChildRecord.authority_code == code, among(ChildRecord.child_key, chunk)
            ),
            execution_options={"synchronize_session": False},
        )
    return len(orphans)
