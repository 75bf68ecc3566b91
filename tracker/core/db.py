"""Engines and sessions for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import logging
import select
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from psycopg import pq
from psycopg import sql as pg_sql
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    case,
    column,
    create_engine,
    event,
    exists,
    func,
    literal,
    literal_column,
    null,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import visitors
from sqlalchemy.types import TypeEngine

from tracker.core import write_gate
from tracker.core.settings import Settings


class _NoResultRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records of result rows, which hold personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


# Whatever level logging is set to, statements may be logged (values hidden), rows never.
logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoResultRows())


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    """WAL, foreign keys, secure_delete and a busy timeout on every connection; explicit
    BEGINs.

    pysqlite's own transaction handling is turned off so that a writing session can
    start with ``BEGIN IMMEDIATE``: it takes the write lock up front (waiting up to the
    busy timeout) instead of failing with "database is locked" when it upgrades later.
    Before that, it waits its turn behind the process's other writers of the file
    (`tracker.core.write_gate`), so it rarely meets the lock taken.
    """
    gate = write_gate.gate_for(engine.url.database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content (an erased enquirer's name) is zeroed in the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        raw = conn.connection.dbapi_connection
        if not raw.hold(gate, busy_timeout_s):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            raw.release_gate()
            raise


CHECKPOINT_BUSY_MS = 2000
_CHECKPOINT_PENDING = "fostering.checkpoint_pending"
_CHECKPOINT_LISTENING = "fostering.checkpoint_listening"


def checkpoint_wal(engine: Engine) -> bool:
    """On SQLite, copy the write-ahead log into the database file and truncate it, so that
    what an erasure overwrote leaves the WAL too (secure_delete has zeroed it in the file).

    Waits at most `CHECKPOINT_BUSY_MS` for readers of older snapshots (a long export): True
    when the WAL was emptied, False when a reader kept it (the next erasure, the retention
    job or SQLite's own checkpoints copy it later). Does nothing on PostgreSQL (see README).
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            (busy_ms,) = cursor.execute("PRAGMA busy_timeout").fetchone()
            cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
            busy, _log, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cursor.close()
    if busy:
        logging.getLogger("fostering.db").warning(
            "the WAL checkpoint after an erasure waited for a reader: it runs again later"
        )
    return not busy


def checkpoint_after_commit(session: Session) -> None:
    """Checkpoint SQLite's WAL once the session's transaction commits (after an erasure);
    nothing when it rolls back, nor on PostgreSQL."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite":
        return
    session.info[_CHECKPOINT_PENDING] = True
    if session.info.get(_CHECKPOINT_LISTENING):
        return
    session.info[_CHECKPOINT_LISTENING] = True

    def _after_commit(done: Session) -> None:
        if done.info.pop(_CHECKPOINT_PENDING, False):
            try:
                checkpoint_wal(engine)
            except Exception:  # the erasure is committed; the next checkpoint catches up
                logging.getLogger("fostering.db").exception("WAL checkpoint failed")

    def _after_rollback(done: Session) -> None:
        done.info.pop(_CHECKPOINT_PENDING, None)

    event.listen(session, "after_commit", _after_commit)
    event.listen(session, "after_rollback", _after_rollback)


class PlannedOnce:
    """A statement that PostgreSQL parses and plans once per connection: a prepared statement
    (SQL PREPARE, kept for the connection's life) run with EXECUTE under plan_cache_mode
    force_generic_plan, set for that EXECUTE alone (the setting applies to every statement
    with parameters, not only prepared ones). Left to its default, PostgreSQL kept planning
    each EXECUTE afresh for a small council, whose own plans it estimates cheaper than the
    generic one. For statements whose planning costs more than their execution; elsewhere
    (SQLite) the statement runs as is.

    psycopg drops every prepared statement of a connection (DEALLOCATE ALL) at a rollback
    once it has prepared any of its own (it does after a statement's fifth run), so each run
    asks whether the statement is still there, in the query that sets the plan mode: its own,
    or a caller's query that comes first anyway (`readiness`).

    `build` returns the statement, which binds the values named in `params` (each with its
    SQL type, in the order of the prepared statement's parameters) and no others. EXECUTE
    takes no placeholders, so the values are written into its text (quoted by psycopg), where
    SQL logs and error messages show them: codes and dates only, never personal data.
    """

    def __init__(
        self, name: str, build: Callable[[], Any], params: Mapping[str, TypeEngine[Any]]
    ) -> None:
        self.name = name
        self._build = build
        self._params = dict(params)
        self._prepare_sql: str | None = None

    def prepare_statement(self) -> str:
        """PREPARE name(types) AS the statement, its own values as $1..$n and every other
        bound value (constants of the statement) written in."""
        if self._prepare_sql is None:
            order = list(self._params)

            def numbered(element: Any) -> Any:
                if isinstance(element, BindParameter) and element.key in order:
                    return literal_column(f"${order.index(element.key) + 1}", element.type)
                return None

            statement = visitors.replacement_traverse(self._build(), {}, numbered)
            # "$n" placeholders: percent signs of the statement's constants stay single.
            dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")
            body = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            types = ", ".join(
                dialect.type_compiler_instance.process(t) for t in self._params.values()
            )
            self._prepare_sql = f"PREPARE {self.name}({types}) AS {body}"
        return self._prepare_sql

    def readiness(self, when: ColumnElement[bool]) -> tuple[ColumnElement[Any], ...]:
        """PostgreSQL: columns for a caller's own query run just before `execute` on the same
        connection, saving `execute` its own: the first sets the plan mode (when `when` is
        true, else it is NULL and sets nothing), the second tells whether the statement is
        prepared on the connection, to pass to `execute` as `prepared` (then only when `when`
        was true: the plan mode is set). When it was, the caller calls `mode_set` at once."""
        setting = func.set_config("plan_cache_mode", "force_generic_plan", False)
        statements = table("pg_prepared_statements", column("name"))
        there = exists().where(statements.c.name == literal(self.name))
        return case((when, setting), else_=null()), there

    @staticmethod
    def mode_set(connection: Connection) -> None:
        """Note on the connection that a `readiness` query set the plan mode: `execute` resets
        it, or `release`, or at the latest the pool when the connection is returned
        (`reset_plan_mode`), on every path (a read session in autocommit has no rollback to
        undo it)."""
        connection.info[PLAN_MODE_SET] = True

    @staticmethod
    def release(connection: Connection) -> None:
        """Reset the plan mode when a `readiness` query set it and `execute` is not run after
        all (the statement turned out not to be needed)."""
        if connection.info.get(PLAN_MODE_SET):
            connection.exec_driver_sql("RESET plan_cache_mode", execution_options=_AS_WRITTEN)
            del connection.info[PLAN_MODE_SET]

    def execute(
        self,
        connection: Connection,
        values: Mapping[str, Any],
        prepared: bool | None = None,
    ) -> CursorResult[Any]:
        """The statement's rows for `values`, prepared on the connection when it is not;
        `prepared`: whether it is, as the columns of `readiness` told in a query run just
        before on the connection, which set the plan mode (None: asked here, in the query
        that sets it). The plan mode is back to its default when this returns or raises."""
        if connection.dialect.name != "postgresql":
            return connection.execute(self._build(), dict(values))
        raw = connection.connection.dbapi_connection
        if prepared is None:
            name = pg_sql.Literal(self.name).as_string(raw)
            # Session-wide until the RESET below (or a rollback, or the pool's at checkin).
            connection.info[PLAN_MODE_SET] = True
            prepared = connection.exec_driver_sql(
                "SELECT set_config('plan_cache_mode', 'force_generic_plan', false), "
                f"EXISTS (SELECT FROM pg_prepared_statements WHERE name = {name})",
                execution_options=_AS_WRITTEN,
            ).one()[1]
        arguments = pg_sql.SQL(", ").join(pg_sql.Literal(values[n]) for n in self._params)
        execute = pg_sql.SQL("EXECUTE {}({}); RESET plan_cache_mode").format(
            pg_sql.Identifier(self.name), arguments
        )
        try:
            if not prepared:
                connection.exec_driver_sql(self.prepare_statement(), execution_options=_AS_WRITTEN)
            # One message, two statements: the result is the EXECUTE's rows.
            rows = connection.exec_driver_sql(execute.as_string(raw), execution_options=_AS_WRITTEN)
        except Exception:
            if raw.info.transaction_status == pq.TransactionStatus.IDLE:
                # Autocommit: no rollback will undo the setting (nor, if this fails, the pool).
                with suppress(Exception):
                    self.release(connection)
            # Else the transaction's rollback undoes it (and the pool resets it at checkin).
            raise
        connection.info.pop(PLAN_MODE_SET, None)
        return rows


PLAN_MODE_SET = "fostering.plan_mode_set"
"""The key, in a pooled connection's info, noting that `PlannedOnce` set the plan mode."""
# Sent as written: no placeholders for psycopg to fill in (EXECUTE takes none).
_AS_WRITTEN = {"no_parameters": True}


def reset_plan_mode(dbapi_connection: Any, record: Any) -> None:
    """Pool checkin (PostgreSQL): reset the plan mode a `PlannedOnce` read set and did not
    reset (an error between its `readiness` query and its `execute`); nothing otherwise. A
    connection that cannot be reset is closed."""
    if dbapi_connection is None or not record.info.pop(PLAN_MODE_SET, False):
        return
    try:
        # The pool has rolled back already: out of any transaction, as the pool's ping is.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            dbapi_connection.execute("RESET plan_cache_mode")
        finally:
            dbapi_connection.autocommit = autocommit
    except Exception:
        record.invalidate()


PING_AFTER_S = 10.0
"""A pooled PostgreSQL connection idle longer than this is pinged when checked out."""
_CHECKED_IN = "fostering.checked_in"


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket has something to read: the server's goodbye
    (a terminated backend's error, a closed socket). An idle connection otherwise has
    nothing pending. No round trip: one poll of the socket."""
    try:
        return bool(select.select([dbapi_connection.fileno()], [], [], 0)[0])
    except Exception:
        return True


def check_liveness(engine: Engine, ping_after_s: float = PING_AFTER_S) -> None:
    """On checkout, ping a pooled connection only when it was idle more than `ping_after_s`
    or its socket shows the server closed it: a busy pool pays no round trip for it (the
    pool's own pre-ping pays one at every checkout). A failed ping invalidates the pool's
    connections, as pre-ping does, and the checkout goes on with a new one. A connection
    lost unseen since its last use within `ping_after_s` (a network cut) fails its
    request; the pool then replaces every connection older than the failure."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_CHECKED_IN)
        if idle_since is None:  # a new connection
            return
        if time.monotonic() - idle_since <= ping_after_s and not _closed_by_server(
            dbapi_connection
        ):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {type(error).__name__}") from error


READ_SESSION = "fostering.read_session"
"""The `Session.info` key marking a session from `Database.read_session`."""


def autocommit_reads(session: Session) -> None:
    """On PostgreSQL, run a read session's statements in autocommit, when it has not begun
    yet: no BEGIN nor ROLLBACK round trip, and psycopg keeps the statements it prepares
    (a rollback drops them all). Under READ COMMITTED each statement takes its own snapshot
    either way, so a read sees the same. For reads only: a write would commit at once.
    Nothing for a session that has begun, a write session, or SQLite."""
    if not session.info.get(READ_SESSION) or session.in_transaction():
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class Database:
    """One engine per installation, with sessions for reading and for writing."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 30.0,
        echo: bool = False,
        ping_after_s: float = PING_AFTER_S,
    ) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # The pool holds more connections than the server has worker threads (32, api.app),
        # so a request never waits for a connection that a waiting thread holds.
        kwargs: dict[str, Any] = {
            "echo": echo,
            # Bound values hold personal data: never in SQL logs nor in error messages (which
            # an unexpected error's traceback would log).
            "hide_parameters": True,
            "pool_timeout": 10,
        }
        if self.is_sqlite:
            kwargs["connect_args"] = write_gate.connect_args(busy_timeout_s)
            kwargs.update(pool_size=45, max_overflow=5)
        else:
            kwargs.update(pool_size=10, max_overflow=40)
        self.engine = create_engine(self.url, **kwargs)
        self._automatic_checkpoints = True
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_s)
            event.listen(self.engine, "connect", self._on_connect)
        else:
            check_liveness(self.engine, ping_after_s)
            event.listen(self.engine, "checkin", reset_plan_mode)
        write_engine = self.engine.execution_options(sqlite_immediate=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False, info={READ_SESSION: True})
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if not self._automatic_checkpoints:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    def set_automatic_checkpoints(self, on: bool) -> None:
        """SQLite: whether a commit that takes the WAL past 1,000 pages checkpoints it (the
        default), or another thread does (`tracker.core.wal_checkpoints`). Closes the pooled
        connections, so that every connection from now on is opened with the setting."""
        self._automatic_checkpoints = on
        self.engine.dispose()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Build the database of an installation from its settings."""
        return cls(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)

    def read_session(self) -> Session:
        """A session for queries (a deferred transaction on SQLite)."""
        return self._read()

    def write_session(self) -> Session:
        """A session that writes (takes SQLite's write lock when it begins)."""
        return self._write()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on error."""
        with self.write_session() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def refresh_statistics(self) -> None:
        """Gather the query planner's statistics after a bulk load: PostgreSQL's ANALYZE,
        which autovacuum would otherwise run only minutes later (until then the register's
        monthly queries ran about four times slower on the demo). SQLite's planner did as
        well without statistics there, so it is left alone."""
        if self.is_sqlite:
            return
        with self.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
