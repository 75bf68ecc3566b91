"""Importing SSDA903 Header, Episodes and OC3 files of one or several collection years.

Files are recognised by their columns. Every row of every file is checked before anything
is written (all or nothing); years are merged so each episode (child and start date) is kept
once, a later collection year superseding an earlier one; a second import of the same files
changes nothing. CHILD becomes a keyed pseudonym on the way in; UPN, postcodes and the full
date of birth are never stored.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from forecast.months import year_ending_march
from tracker.children import codes
from tracker.children.pseudonym import pseudonymise
from tracker.children.tables import CareEpisode, CareLeaverRecord, ChildRecord, ImportRun
from tracker.core import audit
from tracker.core.access import Caller
from tracker.core.authorities import get_authority
from tracker.core.errors import ImportRejectedError, RowError

MAX_ISSUES = 200
YEAR_IN_NAME = re.compile(r"(20\d\d)(?:\s*[-_/]\s*(?:20)?(\d\d))?")
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
    "age_at_start",
    "ceased_at_18",
    "period_start",
    "source_year",
)


# The longest value each free or optional column can store (the tables' column sizes).
LENGTHS: dict[str, int] = {
    "LS": CareEpisode.__table__.c.ls.type.length,  # type: ignore[attr-defined]
    "CIN": CareEpisode.__table__.c.cin.type.length,  # type: ignore[attr-defined]
    "REASON_PLACE_CHANGE": CareEpisode.__table__.c.reason_place_change.type.length,  # type: ignore[attr-defined]
    "PL_LA": CareEpisode.__table__.c.pl_la.type.length,  # type: ignore[attr-defined]
    "ACCOM": CareLeaverRecord.__table__.c.accom.type.length,  # type: ignore[attr-defined]
    "IN_TOUCH": CareLeaverRecord.__table__.c.in_touch.type.length,  # type: ignore[attr-defined]
    "ACTIV": CareLeaverRecord.__table__.c.activ.type.length,  # type: ignore[attr-defined]
}


class SourceFile(msgspec.Struct, frozen=True):
    """One uploaded file: its name (used for the year when it holds one) and bytes."""

    name: str
    content: bytes


class FileSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What was recognised in one file."""

    name: str
    kind: str
    year: int
    rows: int
    sha256: str


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """A warning: something the DfE validator would flag that does not affect the figures."""

    file: str
    row: int
    column: str | None
    message: str


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    """Created, updated and unchanged records of one kind."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


class Ssda903Report(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did (or would do, in a dry run)."""

    files: list[FileSummary]
    children: Counts
    episodes: Counts
    care_leavers: Counts
    superseded: int
    warnings: list[Issue]
    warning_count: int
    dry_run: bool


class _Row(msgspec.Struct, kw_only=True):
    file: str
    row: int
    year: int
    values: dict[str, Any]


def parse_date(text: str) -> date:
    """A dd/mm/yyyy date (ISO yyyy-mm-dd also accepted)."""
    # The usual dd/mm/yyyy is read directly: strptime was most of the time of an import.
    if len(text) == 10 and text[2] == text[5] == "/" and text.replace("/", "").isdecimal():
        with contextlib.suppress(ValueError):
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (dd/mm/yyyy)")


def year_from_name(name: str) -> int | None:
    """A collection year named in a file name: 2023, or 2022-23 or 2022-2023 (= year ending
    March 2023)."""
    match = YEAR_IN_NAME.search(name)
    if match is None:
        return None
    first = int(match.group(1))
    return first + 1 if match.group(2) and int(match.group(2)) == (first + 1) % 100 else first


def kind_of(columns: Iterable[str]) -> str | None:
    """Header, episodes or oc3, from the columns a file has."""
    present = set(columns)
    if "DECOM" in present:
        return "episodes"
    if "ACCOM" in present or "IN_TOUCH" in present:
        return "oc3"
    if "SEX" in present or "DOB" in present:
        return "header"
    return None


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _eighteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:  # 29 February: the birthday is kept on 1 March
        return date(birth.year + 18, 3, 1)


class _Reader:
    """Reads and checks every file, collecting errors and warnings."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.errors: list[RowError] = []
        self.warnings: list[Issue] = []
        self.warning_count = 0
        self.summaries: list[FileSummary] = []
        self.headers: list[_Row] = []
        self.episodes: list[_Row] = []
        self.leavers: list[_Row] = []

    def error(self, file: str, row: int, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_ISSUES:
            self.errors.append(RowError(row, column, message, file=file))

    def warn(self, file: str, row: int, column: str | None, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_ISSUES:
            self.warnings.append(Issue(file=file, row=row, column=column, message=message))

    def read(self, files: Sequence[SourceFile]) -> None:
        pending_year: list[tuple[SourceFile, str, list[tuple[int, dict[str, str]]]]] = []
        episode_years: set[int] = set()
        for source in files:
            records = csv.reader(io.StringIO(_decode(source.content)))
            columns = [c.strip().upper() for c in next(records, [])]
            kind = kind_of(columns)
            if kind is None:
                self.error(source.name, 1, None, "not a Header, Episodes or OC3 file (columns)")
                continue
            missing = [c for c in codes.REQUIRED[kind] if c not in columns]
            for column in missing:
                self.error(source.name, 1, column, f"required column {column} is missing")
            if missing:
                continue
            rows = self._rows(source.name, columns, records)
            year = year_from_name(source.name)
            if kind == "episodes":
                year = year or _latest_year([raw for _, raw in rows])
                if year is not None:
                    episode_years.add(year)
            if year is None:
                pending_year.append((source, kind, rows))
                continue
            self._read_rows(source, kind, year, rows)
        for source, kind, rows in pending_year:
            # With several years at once the file's year cannot be told (and an OC3 row's
            # year decides Staying Put), so it is asked for rather than guessed.
            if len(episode_years) != 1:
                self.error(
                    source.name,
                    1,
                    None,
                    "no collection year: put it in the file name (e.g. 2022-23) or "
                    "import the year's Episodes file alone with it",
                )
                continue
            self._read_rows(source, kind, max(episode_years), rows)

    def _rows(
        self, file: str, columns: list[str], records: Iterable[list[str]]
    ) -> list[tuple[int, dict[str, str]]]:
        """Each non-blank row by its number (the header is row 1), cells keyed by column."""
        rows = []
        width = len(columns)
        for number, cells in enumerate(records, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                self.error(file, number, None, f"{len(cells)} cells but {width} columns")
                continue
            rows.append(
                (
                    number,
                    {
                        c: (cells[i].strip() if i < len(cells) else "")
                        for i, c in enumerate(columns)
                    },
                )
            )
        return rows

    def _read_rows(
        self, source: SourceFile, kind: str, year: int, rows: list[tuple[int, dict[str, str]]]
    ) -> None:
        self.summaries.append(
            FileSummary(
                name=source.name,
                kind=kind,
                year=year,
                rows=len(rows),
                sha256=hashlib.sha256(source.content).hexdigest(),
            )
        )
        parse = {"header": self._header, "episodes": self._episode, "oc3": self._leaver}[kind]
        target = {"header": self.headers, "episodes": self.episodes, "oc3": self.leavers}[kind]
        for number, raw in rows:
            values = parse(source.name, number, raw)
            if values is not None:
                target.append(_Row(file=source.name, row=number, year=year, values=values))

    def _child(self, file: str, row: int, raw: dict[str, str]) -> str | None:
        child = raw.get("CHILD", "")
        if not child:
            self.error(file, row, "CHILD", "CHILD is required")
            return None
        return pseudonymise(self.key, child)

    def _date(
        self, file: str, row: int, raw: dict[str, str], column: str, required: bool
    ) -> date | None:
        text = raw.get(column, "")
        if not text:
            if required:
                self.error(file, row, column, f"{column} is required")
            return None
        try:
            return parse_date(text)
        except ValueError as exc:
            self.error(file, row, column, str(exc))
            return None

    def _fitting(
        self, file: str, row: int, raw: dict[str, str], column: str, length: int
    ) -> str | None:
        """An optional value, dropped with a warning when longer than it can be stored."""
        value = raw.get(column) or None
        if value is not None and len(value) > length:
            self.warn(file, row, column, f"{column} is longer than {length} characters: not kept")
            return None
        return value

    def _header(self, file: str, row: int, raw: dict[str, str]) -> dict[str, Any] | None:
        key = self._child(file, row, raw)
        birth = self._date(file, row, raw, "DOB", required=False)
        if raw.get("DOB") and birth is None:
            return None
        if birth is None:
            self.warn(file, row, "DOB", "DOB is missing: ages cannot be worked out for this child")
        sex = raw.get("SEX") or None
        if sex is not None and sex not in codes.SEX:
            self.warn(file, row, "SEX", f"SEX {sex!r} is not 1 or 2")
            sex = None
        if raw.get("UPN") and not re.fullmatch(r"[A-Z]\d{11}[0-9A-Z]", raw["UPN"]):
            self.warn(file, row, "UPN", "UPN is not in the DfE format (it is not stored anyway)")
        if key is None:
            return None
        return {"child_key": key, "birth": birth, "sex": sex}

    def _code(
        self,
        file: str,
        row: int,
        raw: dict[str, str],
        column: str,
        valid: frozenset[str],
        required: bool,
    ) -> str | None:
        value = raw.get(column, "").upper() or None
        if value is None:
            if required:
                self.error(file, row, column, f"{column} is required")
            return None
        if value not in valid:
            self.error(file, row, column, f"unknown {column} code {value!r}")
            return None
        return value

    def _episode(self, file: str, row: int, raw: dict[str, str]) -> dict[str, Any] | None:
        errors_before = len(self.errors)
        key = self._child(file, row, raw)
        decom = self._date(file, row, raw, "DECOM", required=True)
        dec = self._date(file, row, raw, "DEC", required=False)
        rne = self._code(file, row, raw, "RNE", codes.RNE, required=True)
        place = self._code(file, row, raw, "PLACE", codes.PLACES, required=True)
        provider = self._code(file, row, raw, "PLACE_PROVIDER", codes.PROVIDERS, required=False)
        rec = self._code(file, row, raw, "REC", codes.REASON_ENDED, required=dec is not None)
        if rec is not None and dec is None and raw.get("DEC", "") == "":
            self.error(file, row, "DEC", f"REC {rec} is given but DEC is empty")
        if decom and dec and dec < decom:
            self.error(
                file, row, "DEC", f"DEC {dec.isoformat()} is before DECOM {decom.isoformat()}"
            )
        if place in codes.FOSTER_PLACES and place not in {"U1", "U2", "U3"} and provider is None:
            self.error(
                file,
                row,
                "PLACE_PROVIDER",
                "PLACE_PROVIDER is required for foster placements U4-U6",
            )
        ls, cin = raw.get("LS", "").upper() or None, raw.get("CIN", "").upper() or None
        if ls is not None and ls not in codes.LEGAL_STATUS:
            self.warn(file, row, "LS", f"unknown LS code {ls!r}")
            ls = ls if len(ls) <= LENGTHS["LS"] else None
        if cin is not None and cin not in codes.NEED:
            self.warn(file, row, "CIN", f"unknown CIN code {cin!r}")
            cin = cin if len(cin) <= LENGTHS["CIN"] else None
        if rne in {"P", "T", "B"} and not raw.get("REASON_PLACE_CHANGE"):
            self.warn(file, row, "REASON_PLACE_CHANGE", "missing for a change of placement")
        if len(self.errors) > errors_before or key is None or decom is None:
            return None
        return {
            "child_key": key,
            "decom": decom,
            "rne": rne,
            "ls": ls,
            "cin": cin,
            "place": place,
            "place_provider": provider,
            "dec": dec,
            "rec": rec,
            "reason_place_change": self._fitting(
                file, row, raw, "REASON_PLACE_CHANGE", LENGTHS["REASON_PLACE_CHANGE"]
            ),
            "pl_la": self._fitting(file, row, raw, "PL_LA", LENGTHS["PL_LA"]),
        }

    def _leaver(self, file: str, row: int, raw: dict[str, str]) -> dict[str, Any] | None:
        key = self._child(file, row, raw)
        accom = raw.get("ACCOM", "").upper() or None
        if accom is not None and len(accom) > LENGTHS["ACCOM"]:
            self.error(file, row, "ACCOM", f"ACCOM {accom!r} is not an accommodation code")
            return None
        if accom is not None and accom[0] not in codes.ACCOM_LETTERS:
            self.warn(file, row, "ACCOM", f"unknown ACCOM code {accom!r}")
        if key is None:
            return None
        return {
            "child_key": key,
            "accom": accom,
            "in_touch": self._fitting(file, row, raw, "IN_TOUCH", LENGTHS["IN_TOUCH"]),
            "activ": self._fitting(file, row, raw, "ACTIV", LENGTHS["ACTIV"]),
        }


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _latest_year(rows: list[dict[str, str]]) -> int | None:
    latest: date | None = None
    for raw in rows:
        for column in ("DECOM", "DEC"):
            try:
                day = parse_date(raw.get(column, ""))
            except ValueError:
                continue
            latest = day if latest is None or day > latest else latest
    return year_ending_march(latest) if latest else None


def import_ssda903(
    session: Session,
    caller: Caller,
    authority_code: str,
    files: Sequence[SourceFile],
    key: bytes,
    *,
    dry_run: bool = False,
) -> Ssda903Report:
    """Check, merge and store SSDA903 files for an authority; all or nothing.

    Raises ImportRejectedError listing file, row and column of every error (first 200).
    """
    get_authority(session, authority_code)
    if not files:
        raise ImportRejectedError([RowError(1, None, "no files given")])
    reader = _Reader(key)
    reader.read(files)
    if reader.errors:
        raise ImportRejectedError(reader.errors)

    births: dict[str, date | None] = {}
    header_rows: dict[str, _Row] = {}
    for row in sorted(reader.headers, key=lambda r: r.year):
        header_rows[row.values["child_key"]] = row
        births[row.values["child_key"]] = row.values["birth"]

    incoming: dict[tuple[str, date], _Row] = {}
    for row in reader.episodes:
        episode_key = (row.values["child_key"], row.values["decom"])
        earlier = incoming.get(episode_key)
        if earlier is not None and earlier.year == row.year:
            reader.error(
                row.file,
                row.row,
                "DECOM",
                f"the same child and DECOM appear twice in {row.year} (row {earlier.row})",
            )
        elif earlier is None or row.year > earlier.year:
            incoming[episode_key] = row
    if reader.errors:
        raise ImportRejectedError(reader.errors)

    children_touched = {k for k, _ in incoming} | set(header_rows)
    stored_children = _stored_children(session, authority_code, children_touched)
    stored_episodes = _stored_episodes(session, authority_code, {k for k, _ in incoming})

    superseded = 0
    merged: dict[str, dict[date, dict[str, Any]]] = defaultdict(dict)
    origin: dict[tuple[str, date], _Row] = {}
    for (child, decom), stored in stored_episodes.items():
        merged[child][decom] = _episode_values(stored)
    for episode_key, row in incoming.items():
        child, decom = episode_key
        stored = stored_episodes.get(episode_key)
        if stored is not None and stored.source_year > row.year:
            superseded += 1
            continue
        merged[child][decom] = dict(row.values, source_year=row.year, incoming=True)
        origin[episode_key] = row
    _check_overlaps(reader, merged, origin)
    if reader.errors:
        raise ImportRejectedError(reader.errors)

    birth_months = {k: c.birth_month for k, c in stored_children.items()}
    for child, episodes in merged.items():
        _derive(episodes, births.get(child), birth_months.get(child))

    children = _write_children(session, authority_code, header_rows, stored_children, dry_run)
    episodes = _write_episodes(session, authority_code, merged, stored_episodes, dry_run)
    leavers = _write_leavers(session, authority_code, reader.leavers, dry_run)
    report = Ssda903Report(
        files=reader.summaries,
        children=children,
        episodes=episodes,
        care_leavers=leavers,
        superseded=superseded,
        warnings=reader.warnings,
        warning_count=reader.warning_count,
        dry_run=dry_run,
    )
    if dry_run:
        session.rollback()
        return report
    counts = msgspec.to_builtins(
        {"children": children, "episodes": episodes, "care_leavers": leavers}
    )
    session.add(
        ImportRun(
            authority_code=authority_code,
            actor=caller.actor,
            files=msgspec.to_builtins(reader.summaries),
            counts=counts,
        )
    )
    audit.record(
        session,
        caller,
        "import",
        "ssda903",
        None,
        authority_code=authority_code,
        detail={"files": [f.name for f in reader.summaries], **counts},
    )
    session.flush()
    return report


def _among(column: Any, keys: Sequence[str]) -> Any:
    """`column IN (keys)` with the keys written into the statement: PostgreSQL then hashes
    the list, where a thousand bound parameters are compared one by one on every row (which
    made a repeat import of a large authority several times slower than the first)."""
    return column.in_(bindparam("keys", list(keys), expanding=True, literal_execute=True))


def _stored_children(
    session: Session, authority_code: str, keys: set[str]
) -> dict[str, ChildRecord]:
    found: dict[str, ChildRecord] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), 1000):
        query = select(ChildRecord).where(
            ChildRecord.authority_code == authority_code,
            _among(ChildRecord.child_key, wanted[start : start + 1000]),
        )
        found.update({c.child_key: c for c in session.scalars(query)})
    return found


def _stored_episodes(
    session: Session, authority_code: str, keys: set[str]
) -> dict[tuple[str, date], CareEpisode]:
    found: dict[tuple[str, date], CareEpisode] = {}
    wanted = sorted(keys)
    for start in range(0, len(wanted), 1000):
        query = select(CareEpisode).where(
            CareEpisode.authority_code == authority_code,
            _among(CareEpisode.child_key, wanted[start : start + 1000]),
        )
        found.update({(e.child_key, e.decom): e for e in session.scalars(query)})
    return found


def _episode_values(stored: CareEpisode) -> dict[str, Any]:
    values = {field: getattr(stored, field) for field in EPISODE_FIELDS}
    values.update(child_key=stored.child_key, decom=stored.decom)
    return values


def _check_overlaps(
    reader: _Reader,
    merged: dict[str, dict[date, dict[str, Any]]],
    origin: dict[tuple[str, date], _Row],
) -> None:
    for child, episodes in merged.items():
        ordered = sorted(episodes.values(), key=lambda e: e["decom"])
        for first, second in itertools.pairwise(ordered):
            if first["dec"] is None or first["dec"] > second["decom"]:
                row = origin.get((child, second["decom"])) or origin.get((child, first["decom"]))
                if row is None:
                    continue
                ended = first["dec"].isoformat() if first["dec"] else "open"
                reader.error(
                    row.file,
                    row.row,
                    "DECOM",
                    f"episodes of one child overlap: one from {first['decom'].isoformat()}"
                    f" ({ended}) and one from {second['decom'].isoformat()}",
                )


def _derive(
    episodes: dict[date, dict[str, Any]], birth: date | None, birth_month: date | None
) -> None:
    """Age at start, leaving care on the 18th birthday, and the start of each period of care.

    With only the month of birth (a child whose Header is not in this import), ages of the
    episodes imported now count from the first of the month and the 18th birthday is matched
    by month; stored episodes keep what was worked out when their Header was at hand.
    """
    period_start: date | None = None
    period_ended = False
    for decom in sorted(episodes):
        episode = episodes[decom]
        # A period begins with RNE S, or (a file missing its S) after one that ceased.
        if episode["rne"] == codes.STARTED or period_start is None or period_ended:
            period_start = decom
        episode["period_start"] = period_start
        period_ended = episode["dec"] is not None and episode["rec"] != codes.CONTINUES
        dec = episode["dec"]
        if birth is not None:
            episode["age_at_start"] = _age_on(birth, decom)
            at_18 = dec is not None and dec == _eighteenth_birthday(birth)
        elif birth_month is not None and episode.get("incoming"):
            episode["age_at_start"] = _age_on(birth_month, decom)
            eighteenth = birth_month.replace(year=birth_month.year + 18)
            at_18 = dec is not None and (dec.year, dec.month) == (eighteenth.year, eighteenth.month)
        elif episode.get("incoming"):
            episode["age_at_start"], at_18 = None, False
        else:
            continue
        episode["ceased_at_18"] = bool(at_18 and episode["rec"] != codes.CONTINUES)


def _insert(table: Any) -> Any:
    """A bulk INSERT that writes None as NULL: otherwise the ORM leaves None columns out and
    splits the rows into a statement per run of rows with the same empty columns."""
    return insert(table).execution_options(render_nulls=True)


def _write_children(
    session: Session,
    authority_code: str,
    header_rows: dict[str, _Row],
    stored: dict[str, ChildRecord],
    dry_run: bool,
) -> Counts:
    new, changed, same = [], [], 0
    for child, row in header_rows.items():
        birth = row.values["birth"]
        values = {"sex": row.values["sex"], "birth_month": birth.replace(day=1) if birth else None}
        existing = stored.get(child)
        if existing is None:
            new.append(
                {
                    "authority_code": authority_code,
                    "child_key": child,
                    "source_year": row.year,
                    **values,
                }
            )
        elif existing.source_year > row.year or all(
            getattr(existing, k) == v for k, v in values.items()
        ):
            same += 1
        else:
            changed.append({"id": existing.id, "source_year": row.year, **values})
    if not dry_run:
        if new:
            session.execute(_insert(ChildRecord), new)
        if changed:
            session.execute(update(ChildRecord), changed)
    return Counts(created=len(new), updated=len(changed), unchanged=same)


def _write_episodes(
    session: Session,
    authority_code: str,
    merged: dict[str, dict[date, dict[str, Any]]],
    stored: dict[tuple[str, date], CareEpisode],
    dry_run: bool,
) -> Counts:
    new, changed, same = [], [], 0
    for child, episodes in merged.items():
        for decom, values in episodes.items():
            row = {field: values.get(field) for field in EPISODE_FIELDS}
            existing = stored.get((child, decom))
            if existing is None:
                new.append(
                    {"authority_code": authority_code, "child_key": child, "decom": decom, **row}
                )
            elif all(getattr(existing, k) == v for k, v in row.items()):
                same += 1
            else:
                changed.append({"id": existing.id, **row})
    if not dry_run:
        for start in range(0, len(new), 5000):
            session.execute(_insert(CareEpisode), new[start : start + 5000])
        for start in range(0, len(changed), 5000):
            session.execute(update(CareEpisode), changed[start : start + 5000])
    return Counts(created=len(new), updated=len(changed), unchanged=same)


def _write_leavers(
    session: Session, authority_code: str, rows: list[_Row], dry_run: bool
) -> Counts:
    latest: dict[tuple[str, int], _Row] = {}
    for row in rows:
        latest[(row.values["child_key"], row.year)] = row
    stored: dict[tuple[str, int], CareLeaverRecord] = {}
    keys = sorted({k for k, _ in latest})
    for start in range(0, len(keys), 1000):
        query = select(CareLeaverRecord).where(
            CareLeaverRecord.authority_code == authority_code,
            _among(CareLeaverRecord.child_key, keys[start : start + 1000]),
        )
        stored.update({(r.child_key, r.year): r for r in session.scalars(query)})
    new, changed, same = [], [], 0
    for (child, year), row in latest.items():
        values = {k: row.values[k] for k in ("accom", "in_touch", "activ")}
        existing = stored.get((child, year))
        if existing is None:
            new.append(
                {"authority_code": authority_code, "child_key": child, "year": year, **values}
            )
        elif all(getattr(existing, k) == v for k, v in values.items()):
            same += 1
        else:
            changed.append({"id": existing.id, **values})
    if not dry_run:
        if new:
            session.execute(_insert(CareLeaverRecord), new)
        if changed:
            session.execute(update(CareLeaverRecord), changed)
    return Counts(created=len(new), updated=len(changed), unchanged=same)
