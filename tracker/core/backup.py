"""Backing up and restoring the embedded SQLite database (PostgreSQL: pg_dump, see the README).

A backup uses SQLite's online backup API: it copies a consistent snapshot of the database
in one step while the service goes on reading and writing (WAL readers and writers do not
block each other), into a temporary file that is renamed into place once complete, so a
backup file is never half written. A restore checks that the file is a sound database of
this service with a schema this version can migrate, keeps a copy of the database it replaces
next to it (`NAME.before-restore-TIME`), copies the backup into the configured database with
the same API (readers of the target see the old or the new content, never a mix), and then
applies any pending migrations.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

import msgspec
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from tracker.core import schema
from tracker.core.clock import utcnow
from tracker.core.db import Database, normalise_url
from tracker.core.errors import ConflictError, InvalidValueError

PG_DUMP_HINT = (
    "for PostgreSQL use pg_dump and pg_restore (see 'Backup and restore' in the README), "
    'e.g. pg_dump --format=custom --file=fostering.dump "$DATABASE_URL"'
)


class BackupReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a backup or a restore did."""

    source: str
    target: str
    bytes: int
    tables: int
    rows: int
    revision: str | None
    migrated_to: str | None = None
    # A restore's copy of the database it replaced (None: there was none).
    kept: str | None = None


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database URL; InvalidValueError for any other database."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() != "sqlite":
        raise InvalidValueError(
            f"backup and restore here are for SQLite; this installation uses "
            f"{url.get_backend_name()}: {PG_DUMP_HINT}",
            rule="not_sqlite",
            field="DATABASE_URL",
        )
    if not url.database or url.database == ":memory:":
        raise InvalidValueError(
            "the database is in memory: nothing to back up", field="DATABASE_URL"
        )
    return Path(url.database)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def _counts(conn: sqlite3.Connection) -> tuple[int, int]:
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    rows = sum(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names)
    return len(names), rows


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def in_use(path: Path) -> bool:
    """True when another connection has the SQLite database open (the service, say).

    Asks for SQLite's exclusive locking mode, which a WAL database only grants to a
    connection that is alone on it, and gives it straight back.
    """
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return False


def backup(database_url: str, target: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the SQLite database online to `target` (a new file unless `overwrite`)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise InvalidValueError(f"there is no database at {source}", field="DATABASE_URL")
    if target.exists() and not overwrite:
        raise ConflictError(
            f"{target} exists: choose a new file, or pass --force to replace it",
            rule="backup_exists",
        )
    if target.resolve() == source.resolve():
        raise InvalidValueError("the backup cannot replace the database itself", field="PATH")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        src = _read_only(source)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # one step: a consistent snapshot, writers carry on meanwhile
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            tables, rows = _counts(dst)
            revision = _revision(dst)
        finally:
            dst.close()
            src.close()
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(
        source=str(source),
        target=str(target),
        bytes=target.stat().st_size,
        tables=tables,
        rows=rows,
        revision=revision,
    )


def check_backup(path: Path, script: ScriptDirectory) -> str:
    """The schema revision of a backup file, once it is a sound SQLite database of this
    service at a revision this version knows (and so can migrate); InvalidValueError else."""
    if not path.is_file():
        raise InvalidValueError(f"there is no file {path}", field="PATH")
    try:
        conn = _read_only(path)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()
            revision = _revision(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidValueError(f"{path} is not a SQLite database ({exc})", field="PATH") from exc
    if not check or check[0] != "ok":
        raise InvalidValueError(f"{path} is damaged: {check[0] if check else '?'}", field="PATH")
    if revision is None:
        raise InvalidValueError(
            f"{path} is not a database of this service (it has no schema revision)",
            field="PATH",
        )
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise InvalidValueError(
            f"{path} has schema revision {revision}, which this version does not know "
            "(a backup of a newer version?)",
            field="PATH",
        )
    return revision


def _keep_replaced(database_url: str, target: Path) -> Path | None:
    """Copy the database a restore is about to replace next to it, so a restore onto the
    wrong installation (or of the wrong backup) loses nothing; None when there is none."""
    if not target.exists() or target.stat().st_size == 0:
        return None
    kept = target.with_name(f"{target.name}.before-restore-{utcnow():%Y%m%dT%H%M%S}")
    try:
        backup(database_url, kept)
    except sqlite3.DatabaseError:  # a damaged database, the reason to restore: kept as it is
        shutil.copyfile(target, kept)
    return kept


def restore(database_url: str, source: Path, *, force: bool = False) -> BackupReport:
    """Replace the SQLite database with a backup, then migrate it to the current schema.

    Refuses while another process has the database open (stop the service first) unless
    `force`: the copy is then made in one step under SQLite's write lock, so the running
    service sees the old content or the new, never a mix.
    """
    target = sqlite_path(database_url)
    database = Database(database_url)
    try:
        script = ScriptDirectory.from_config(schema.alembic_config(database))
        revision = check_backup(source, script)
        if source.resolve() == target.resolve():
            raise InvalidValueError("the backup is the database itself", field="PATH")
        if not force and in_use(target):
            raise ConflictError(
                f"{target} is open in another process (is the service running?): stop it "
                "first, or pass --force to restore under it",
                rule="database_in_use",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        kept = _keep_replaced(database_url, target)
        src = _read_only(source)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        schema.upgrade(database)
        with contextlib.closing(_read_only(target)) as conn:
            tables, rows = _counts(conn)
            migrated = _revision(conn)
    finally:
        database.dispose()
    return BackupReport(
        source=str(source),
        target=str(target),
        bytes=target.stat().st_size,
        tables=tables,
        rows=rows,
        revision=revision,
        migrated_to=migrated,
        kept=str(kept) if kept else None,
    )
