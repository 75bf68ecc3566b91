"""Inserting many rows into one table at once: PostgreSQL's COPY where the session is on
PostgreSQL, one executemany INSERT elsewhere (SQLite) or when asked.

Both paths store the same rows: a value of None is stored as NULL (a JSON column's as JSON
null, as SQLAlchemy does), never replaced by the column's default; a column missing from
the rows gets its Python-side default (as SQLAlchemy's INSERT gives it) or, failing that,
the database's own (the primary key's sequence). Values go through the columns' SQLAlchemy
types (JSON) before COPY. Used by bulk loads (the national demo set); a request's writes
stay on the ORM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Column, Table, insert, text
from sqlalchemy.orm import Session

__all__ = ["insert_rows", "insert_rows_returning_ids"]

Rows = Sequence[Mapping[str, Any]]


def insert_rows(session: Session, table: Any, rows: Rows, *, copy: bool = True) -> None:
    """Insert `rows` (dicts of column values) into `table` (a model class or a Table) in
    the session's transaction; with `copy` false, by executemany on PostgreSQL too."""
    if not rows:
        return
    _check_columns(_table_of(table), rows)
    if copy and _on_postgresql(session):
        _copy(session, _table_of(table), rows)
        return
    session.execute(insert(table), list(rows), execution_options={"render_nulls": True})


def insert_rows_returning_ids(
    session: Session, table: Any, rows: Rows, *, copy: bool = True
) -> list[int]:
    """Insert `rows` as `insert_rows` does and return their `id`s in the order of `rows`.

    On PostgreSQL the ids are taken from the table's sequence first, in ascending order,
    so the rows get the ids an INSERT of them in that order would have given them."""
    if not rows:
        return []
    target = _table_of(table)
    _check_columns(target, rows)
    if copy and _on_postgresql(session):
        ids = sorted(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"table": _qualified(target), "n": len(rows)},
            )
        )
        _copy(session, target, [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])
        return ids
    statement = insert(table).returning(target.c.id, sort_by_parameter_order=True)
    return list(
        session.scalars(statement, list(rows), execution_options={"render_nulls": True}).all()
    )


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _table_of(table: Any) -> Table:
    return table if isinstance(table, Table) else table.__table__


def _qualified(table: Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def _check_columns(table: Table, rows: Rows) -> None:
    """Refuse a key that is no column of the table (SQLAlchemy's INSERT would drop it)."""
    unknown = set().union(*(row.keys() for row in rows)) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(sorted(unknown))}")


def _copy(session: Session, table: Table, rows: Rows) -> None:
    """COPY the rows in text format on the session's own connection (and transaction)."""
    connection = session.connection()
    dialect = connection.dialect
    given = set().union(*(row.keys() for row in rows))
    columns = [c for c in table.columns if c.name in given or _python_default(c)]
    # Each column's SQLAlchemy bind processing (JSON to a psycopg Json, type decorators).
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    target = sql.Identifier(*([table.schema] if table.schema else []), table.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as out:
        for row in rows:
            values = []
            for column, process in zip(columns, processors, strict=True):
                value = row[column.name] if column.name in row else _default_value(column)
                # None too: a JSON column stores None as JSON null, as SQLAlchemy's INSERT does.
                values.append(value if process is None else process(value))
            out.write_row(values)


def _python_default(column: Column[Any]) -> bool:
    """Whether SQLAlchemy's INSERT would fill the column in Python when a row lacks it."""
    return column.default is not None and not column.default.is_sequence


def _default_value(column: Column[Any]) -> Any:
    """The Python-side default of a column missing from a row (None where it has none); a
    callable default is called without SQLAlchemy's execution context."""
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]
    raise ValueError(f"COPY cannot give {column.table.name}.{column.name} its SQL default")
