"""Importing SSDA903 returns: Header, Episodes and OC3 files of one or several collection
years, checked whole before anything is stored (all or nothing) and safe to repeat.

Each return is kept whole and speaks for its year (`tracker.children.returns`). A year
already stored is left as it is when the files say the same again; files that change it are
refused unless `replace` is asked for, when each year's Episodes and OC3 rows in the files
replace that year's (rows no longer in it are removed). A later return may carry an episode
with a corrected start date: it is that year's, and no overlap with the earlier return's.
CHILD becomes a keyed pseudonym on the way in; UPN, postcodes and the full date of birth
are never stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from tracker.children import history
from tracker.children.checks import check_episodes, check_headers, check_leavers, conflicts
from tracker.children.files import SourceFile, Table, other_councils, read_tables
from tracker.children.returns import describe, dropped, open_at_end
from tracker.children.rows import MAX_ISSUES, Issue, Row, RowChecker, year_label
from tracker.children.tables import CareEpisode, CareLeaverRecord, ChildRecord, ImportRun
from tracker.children.writing import (
    DERIVED_FIELDS,
    EPISODE_FIELDS,
    LEAVER_FIELDS,
    Counts,
    apply,
    stored_children,
    stored_episodes,
    stored_leavers,
)
from tracker.children.years import assign_years
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import ImportRejectedError, RowError
from tracker.core.upload_limits import MAX_SSDA903_ROWS

__all__ = ["SourceFile", "Ssda903Report", "import_ssda903"]
EpisodeKey = tuple[int, str, date]  # (return year, child, DECOM)


class FileSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What was recognised in one file (or one sheet of a workbook)."""

    name: str
    kind: str
    # The collection year (ending 31 March) of its rows: the latest when a YEAR column
    # gives several, all of which are in `years`.
    year: int
    years: list[int]
    rows: int
    sha256: str
    # How the year was decided, when the name does not say it plainly.
    note: str | None = None


class Ssda903Report(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did (or would do, in a dry run)."""

    files: list[FileSummary]
    children: Counts
    # Episodes of the returns of the years in the files.
    episodes: Counts
    # Episodes of other years' returns whose period of care was worked out again with them.
    episodes_rederived: int
    # Children in the files' Headers that a later year's stored Header already describes (the
    # latest Header decides a child's sex and month of birth): left as stored, not counted.
    children_kept_from_later: int = 0
    care_leavers: Counts
    # The years whose stored return the files replaced.
    replaced: list[str]
    warnings: list[Issue]
    warning_count: int
    dry_run: bool


def _rows(checker: RowChecker, tables: Sequence[Table]) -> dict[str, list[Row]]:
    """Every checked row, by kind."""
    found: dict[str, list[Row]] = {"header": [], "episodes": [], "oc3": []}
    parse = {"header": checker.header, "episodes": checker.episode, "oc3": checker.leaver}
    for table in tables:
        read = parse[table.kind]
        for (number, raw), year in zip(table.rows, table.years, strict=True):
            row = read(table.name, number, year, raw)
            if row is not None:
                found[table.kind].append(row)
    return found


def _summary(table: Table) -> FileSummary:
    years = sorted(set(table.years)) or [0]
    return FileSummary(
        name=table.name,
        kind=table.kind,
        year=years[-1],
        years=years,
        rows=len(table.rows),
        sha256=table.sha256,
        note=table.note,
    )


def _stored_values(stored: CareEpisode) -> dict[str, Any]:
    values = {f: getattr(stored, f) for f in (*EPISODE_FIELDS, *DERIVED_FIELDS)}
    values.update(child_key=stored.child_key, decom=stored.decom, source_year=stored.source_year)
    return values


def _derive(
    final: dict[EpisodeKey, dict[str, Any]],
    children: set[str],
    births: dict[str, dict[int, date | None]],
    birth_months: dict[str, date | None],
    incoming: set[EpisodeKey],
) -> None:
    """Work out the derived values of the episodes of `children` (whose every return is in
    `final`): the period start of each, and for the rows imported now, age at start and
    leaving care on the 18th birthday."""
    by_child: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for (year, child, _), values in final.items():
        if child in children:
            by_child[child][year].append(values)
    for child, returns in by_child.items():
        history.derive_periods(returns)
        known = births.get(child, {})
        latest = next((b for _, b in sorted(known.items(), reverse=True) if b), None)
        for year, episodes in returns.items():
            birth = known.get(year) or latest
            for values in episodes:
                if (year, child, values["decom"]) not in incoming:
                    continue
                month = None if birth else birth_months.get(child)
                start = birth or month
                values["age_at_start"] = history.age_on(start, values["decom"]) if start else None
                values["ceased_at_18"] = history.ceased_at_18(values, birth, month)


def _warn_dropped(
    checker: RowChecker,
    years: set[int],
    by_year: dict[int, dict[tuple[str, date], dict[str, Any]]],
) -> None:
    """Warn, for each pair of consecutive returns the import touches, about the episodes open
    at the end of the first that the second does not carry."""
    for year in sorted(by_year):
        if year + 1 not in by_year or not ({year, year + 1} & years):
            continue
        earlier = by_year[year]
        open_keys = [key for key, values in earlier.items() if open_at_end(values, year)]
        for episode in dropped(year, open_keys, by_year[year + 1].keys()):
            values = earlier[(episode.child_key, episode.decom)]
            file = values.get("file") or f"stored {year_label(year)} Episodes return"
            checker.warn(file, values["source_row"] or 0, "DECOM", describe(year, episode))


def import_ssda903(
    session: Session,
    caller: Caller,
    authority_code: str,
    files: Sequence[SourceFile],
    key: bytes,
    *,
    dry_run: bool = False,
    replace: bool = False,
    max_rows: int = MAX_SSDA903_ROWS,
) -> Ssda903Report:
    """Check and store SSDA903 files for an authority; all or nothing. The files hold at
    most `max_rows` data rows together (an upload's limit; the demo and benchmarks load more).

    Raises ImportRejectedError listing file, row and column of every error (first 200),
    rows whose LA column names another council among them.
    The files are read and checked before the session is first used, so a write session's
    transaction (SQLite's write lock) covers only matching and storing; a dry run writes
    nothing, and a read session serves it.
    """
    if not files:
        raise ImportRejectedError([RowError(1, None, "no files given")])
    tables: list[Table] = []
    errors: list[RowError] = []
    rows_left = max_rows
    for source in files:
        found, problems = read_tables(source, rows_left)
        rows_left -= sum(len(table.rows) for table in found)
        tables += found
        errors += problems
    errors += other_councils(tables, authority_code)
    errors += assign_years(tables)
    if errors:
        raise ImportRejectedError(errors[:MAX_ISSUES])
    checker = RowChecker(key)
    rows = _rows(checker, tables)
    births = check_headers(checker, rows["header"])
    incoming = check_episodes(checker, rows["episodes"])
    leavers = check_leavers(checker, rows["oc3"])
    if checker.errors:
        raise ImportRejectedError(checker.errors)

    get_authority(session, authority_code)
    years = {year for year, _, _ in incoming}
    children = {child for _, child, _ in incoming}
    nearby = years | {y - 1 for y in years} | {y + 1 for y in years}
    stored = stored_episodes(session, authority_code, nearby, children)
    removed = {c for (y, c, d) in stored if y in years and (y, c, d) not in incoming} - children
    if removed:
        stored.update(stored_episodes(session, authority_code, (), removed))
    stored_oc3 = stored_leavers(session, authority_code, {y for y, _ in leavers})
    replaced = conflicts(checker, tables, incoming, stored, leavers, stored_oc3, replace=replace)
    final: dict[EpisodeKey, dict[str, Any]] = {
        k: _stored_values(e) for k, e in stored.items() if k[0] not in years
    }
    for episode_key, row in incoming.items():
        final[episode_key] = dict(
            row.values, source_year=row.year, source_row=row.row, file=row.file
        )
    if checker.errors:
        raise ImportRejectedError(checker.errors)

    header_children = {r.values["child_key"] for r in rows["header"]}
    known_children = stored_children(session, authority_code, children | header_children)
    _derive(
        final,
        children | removed,
        births,
        {c: r.birth_month for c, r in known_children.items()},
        set(incoming),
    )
    by_year: dict[int, dict[tuple[str, date], dict[str, Any]]] = defaultdict(dict)
    for (year, child, decom), values in final.items():
        if year in nearby:
            by_year[year][(child, decom)] = values
    _warn_dropped(checker, years, by_year)

    columns = ("child_key", "decom", "source_year", *EPISODE_FIELDS, *DERIVED_FIELDS)
    touched = children | removed
    derived = {k: {c: v[c] for c in columns} for k, v in final.items() if k[1] in touched}
    episodes = apply(
        session,
        CareEpisode,
        authority_code,
        {k: v for k, v in derived.items() if k[0] in years},
        stored,
        [k for k in stored if k[0] in years],
        dry_run=dry_run,
    )
    rederived = apply(
        session,
        CareEpisode,
        authority_code,
        {k: v for k, v in derived.items() if k[0] not in years},
        stored,
        dry_run=dry_run,
    )
    care_leavers = apply(
        session,
        CareLeaverRecord,
        authority_code,
        {
            (y, c): {"child_key": c, "year": y, **{f: r.values[f] for f in LEAVER_FIELDS}}
            for (y, c), r in leavers.items()
        },
        stored_oc3,
        list(stored_oc3),
        dry_run=dry_run,
    )
    child_values = _child_values(rows["header"], known_children)
    children_counts = apply(
        session, ChildRecord, authority_code, child_values, known_children, dry_run=dry_run
    )
    in_headers = {row.values["child_key"] for row in rows["header"]}
    report = Ssda903Report(
        files=[_summary(t) for t in tables],
        children=children_counts,
        episodes=episodes,
        episodes_rederived=rederived.updated,
        children_kept_from_later=len(in_headers - set(child_values)),
        care_leavers=care_leavers,
        replaced=[year_label(y) for y in sorted(replaced)],
        warnings=checker.warnings,
        warning_count=checker.warning_count,
        dry_run=dry_run,
    )
    if dry_run:
        session.rollback()
        return report
    _record(session, caller, authority_code, report, "replace" if replaced else "import")
    return report


def _child_values(headers: Sequence[Row], stored: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sex and month of birth of each child, from the latest year's Header of the import
    (a Header of a year before the one stored is left out)."""
    latest: dict[str, Row] = {}
    for row in sorted(headers, key=lambda r: r.year):
        latest[row.values["child_key"]] = row
    wanted = {}
    for child, row in latest.items():
        existing = stored.get(child)
        if existing is not None and existing.source_year > row.year:
            continue
        birth = row.values["birth"]
        wanted[child] = {
            "child_key": child,
            "sex": row.values["sex"],
            "birth_month": birth.replace(day=1) if birth else None,
            "source_year": row.year,
        }
    return wanted


def _record(
    session: Session, caller: Caller, authority_code: str, report: Ssda903Report, action: str
) -> None:
    """Log the import (files and counts, never contents) and audit it."""
    counts = msgspec.to_builtins(
        {
            "children": report.children,
            "episodes": report.episodes,
            "episodes_rederived": report.episodes_rederived,
            "care_leavers": report.care_leavers,
            "replaced": report.replaced,
        }
    )
    session.add(
        ImportRun(
            authority_code=authority_code,
            actor=caller.actor,
            action=action,
            files=msgspec.to_builtins(report.files),
            counts=counts,
        )
    )
    audit.record(
        session,
        caller,
        action,
        "ssda903",
        None,
        authority_code=authority_code,
        detail={"files": [f.name for f in report.files], **counts},
    )
    session.flush()
