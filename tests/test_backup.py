"""`fostering db backup` and `db restore` (SQLite, online) and the README's pg_dump recipe."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, text

from api.cli.base import main
from tests.conftest import IN_CI, PG_ADMIN_URL, STOKE, _postgres_available
from tracker.core import schema
from tracker.core.access import Caller, Role
from tracker.core.authorities import NewAuthority, add_authority
from tracker.core.backup import backup
from tracker.core.db import Database
from tracker.enquiries.schemas import NewEnquiry
from tracker.enquiries.service import create_enquiry
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.timeliness import london_today
from tracker.enquiries.vocabulary import Channel

TODAY = london_today()
CALLER = Caller(token_id=None, name="test", role=Role.ADMIN)


def fostering(url: str, *args: str) -> Result:
    """Run the CLI in-process against the database at `url`."""
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url}, catch_exceptions=False)


def new_database(path: Path, enquiries: int = 0, revision: str = "head") -> Database:
    database = Database(f"sqlite:///{path}")
    schema.upgrade(database, revision)
    if revision == "head":
        with database.writing() as session:
            add_authority(session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="WM"))
        add_enquiries(database, enquiries)
    return database


def add_enquiries(database: Database, count: int) -> None:
    with database.writing() as session:
        for i in range(count):
            new = NewEnquiry(
                received_on=TODAY - timedelta(days=i % 300),
                channel=Channel.PHONE,
                enquirer_name=f"Person {i}",
                external_ref=f"R-{uuid.uuid4().hex[:12]}",
            )
            create_enquiry(session, CALLER, STOKE, new, TODAY)


def rows(path: Path, table: str, up_to_id: int | None = None) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        where = f" WHERE id <= {up_to_id}" if up_to_id is not None else ""
        return conn.execute(f'SELECT * FROM "{table}"{where} ORDER BY id').fetchall()


def test_backup_while_writing_then_restore_round_trips(tmp_path):
    source_path = tmp_path / "live.db"
    source = new_database(source_path, enquiries=300)
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:
        while not stop.is_set():
            add_enquiries(source, 5)
            written[0] += 5

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while written[0] < 20:  # the writer is under way before the backup starts
            stop.wait(0.01)
        copy = tmp_path / "backups" / "fostering-backup.db"
        copy.parent.mkdir()
        result = fostering(f"sqlite:///{source_path}", "db", "backup", str(copy))
        at_backup = written[0]
        while written[0] < at_backup + 20:  # ...and still writing after it
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output and "schema revision" in result.output
    assert not list(copy.parent.glob(".*partial*"))

    restored_path = tmp_path / "restored" / "fostering.db"
    result = fostering(f"sqlite:///{restored_path}", "db", "restore", str(copy))
    assert result.exit_code == 0, result.output
    assert "restored" in result.output

    restored = Database(f"sqlite:///{restored_path}")
    try:
        assert schema.is_current(restored)
        with restored.read_session() as session:
            ids = list(session.scalars(select(Enquiry.id).order_by(Enquiry.id)))
        with source.read_session() as session:
            total = session.scalar(select(func.count()).select_from(Enquiry))
    finally:
        restored.dispose()
    # A consistent snapshot: every enquiry up to some point, none after, contents equal.
    assert ids == list(range(1, len(ids) + 1))
    assert 300 + 20 <= len(ids) < total
    assert rows(restored_path, "enquiry") == rows(source_path, "enquiry", up_to_id=len(ids))
    events = rows(restored_path, "enquiry_event")
    assert events == rows(source_path, "enquiry_event", up_to_id=len(events))
    assert len(events) == len(ids)
    with sqlite3.connect(restored_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    source.dispose()


def test_backup_refuses_postgresql_and_points_at_pg_dump():
    result = fostering("postgresql://postgres@127.0.0.1:5432/fostering", "db", "backup", "x.db")
    assert result.exit_code == 2
    assert "pg_dump" in result.output and not Path("x.db").exists()


def test_backup_does_not_replace_a_file_unless_forced(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    new_database(tmp_path / "live.db", enquiries=3).dispose()
    target = tmp_path / "copy.db"
    target.write_bytes(b"keep me")
    refused = fostering(url, "db", "backup", str(target))
    assert refused.exit_code == 2 and "--force" in refused.output
    assert target.read_bytes() == b"keep me"
    assert fostering(url, "db", "backup", "--force", str(target)).exit_code == 0
    assert len(rows(target, "enquiry")) == 3


def test_restore_refuses_files_that_are_not_backups_of_this_service(tmp_path):
    target_path = tmp_path / "fostering.db"
    new_database(target_path, enquiries=2).dispose()
    url = f"sqlite:///{target_path}"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    newer = tmp_path / "newer.db"
    shutil.copy(target_path, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    for path, says in (
        (garbage, "not a SQLite database"),
        (other, "not a database of this service"),
        (newer, "does not know"),
    ):
        result = fostering(url, "db", "restore", str(path))
        assert result.exit_code == 2, result.output
        assert says in result.output
    assert len(rows(target_path, "enquiry")) == 2


def test_restore_refuses_a_database_in_use_unless_forced(tmp_path):
    live_path = tmp_path / "fostering.db"
    live = new_database(live_path, enquiries=4)
    copy = tmp_path / "copy.db"
    backup(live.url, copy)
    add_enquiries(live, 6)  # the service holds pooled connections from here on
    url = f"sqlite:///{live_path}"
    refused = fostering(url, "db", "restore", str(copy))
    assert refused.exit_code == 2 and "open in another process" in refused.output
    with live.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 10
    forced = fostering(url, "db", "restore", "--force", str(copy))
    assert forced.exit_code == 0, forced.output
    with live.read_session() as session:  # the running service sees the restored content
        assert session.scalar(select(func.count()).select_from(Enquiry)) == 4
    live.dispose()


def test_restore_migrates_a_backup_of_an_older_schema(tmp_path):
    old = new_database(tmp_path / "old.db", revision="0005")
    old.dispose()
    copy = tmp_path / "old-backup.db"
    report = backup(old.url, copy)
    assert report.revision == "0005"
    target = tmp_path / "new.db"
    result = fostering(f"sqlite:///{target}", "db", "restore", str(copy))
    assert result.exit_code == 0, result.output
    assert "revision 0005" in result.output
    restored = Database(f"sqlite:///{target}")
    assert schema.is_current(restored)
    restored.dispose()


def test_the_readme_pg_dump_recipe_round_trips(db, tmp_path):
    """The README's PostgreSQL commands: pg_dump of a live database, pg_restore into a new one."""
    if db.is_sqlite:
        pytest.skip("the pg_dump recipe is for PostgreSQL")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if IN_CI:
            pytest.fail("pg_dump and pg_restore are needed in CI")
        pytest.skip("pg_dump/pg_restore are not installed")
    assert _postgres_available() is None
    with db.writing() as session:
        add_authority(session, NewAuthority(code=STOKE, name="Stoke-on-Trent", region="WM"))
    add_enquiries(db, 25)
    libpq = db.url.replace("postgresql+psycopg://", "postgresql://")
    dump = tmp_path / "fostering.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq], check=True, timeout=60)
    name = f"fostering_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = libpq.rsplit("/", 1)[0] + f"/{name}"
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True, timeout=60
        )
        restored = Database(target)
        try:
            assert schema.is_current(restored)
            with restored.read_session() as session:
                names = sorted(session.scalars(select(Enquiry.enquirer_name)))
            with db.read_session() as session:
                assert names == sorted(session.scalars(select(Enquiry.enquirer_name)))
            assert len(names) == 25
        finally:
            restored.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_restore_onto_a_database_with_data_keeps_a_copy_of_it(tmp_path):
    """Restoring onto the wrong installation, or the wrong backup, loses nothing."""
    other = new_database(tmp_path / "other.db", enquiries=3)
    copy = tmp_path / "other-backup.db"
    backup(other.url, copy)
    other.dispose()
    target = tmp_path / "fostering.db"
    new_database(target, enquiries=7).dispose()
    before = rows(target, "enquiry")
    result = fostering(f"sqlite:///{target}", "db", "restore", str(copy))
    assert result.exit_code == 0, result.output
    assert len(rows(target, "enquiry")) == 3
    kept = list(tmp_path.glob("fostering.db.before-restore-*"))
    assert len(kept) == 1 and kept[0].name in result.output.replace("\n", "")
    assert rows(kept[0], "enquiry") == before
    # Onto nothing, there is nothing to keep.
    fresh = tmp_path / "fresh.db"
    assert fostering(f"sqlite:///{fresh}", "db", "restore", str(copy)).exit_code == 0
    assert not list(tmp_path.glob("fresh.db.before-restore-*"))
