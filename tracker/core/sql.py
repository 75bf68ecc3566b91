"""SQL expressions whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    cast,
    func,
    literal,
    or_,
)
from sqlalchemy.orm import Session


def month_of(session: Session, column: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a date column, in the database's own dialect."""
    return month_of_in(session.get_bind().dialect.name, column)


def month_of_in(dialect: str, column: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a date column in the named dialect (for statements built once per dialect)."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def json_list_in(dialect: str, column: Any) -> ColumnElement[Any]:
    """Aggregate: the values of a column in a group as a JSON array (text in SQLite, json in
    PostgreSQL; NULL there for no rows)."""
    if dialect == "sqlite":
        return func.json_group_array(column)
    return func.json_agg(column)


def joined_json_in(dialect: str, column: Any) -> ColumnElement[str]:
    """Aggregate: a group's JSON values, as stored, joined into one JSON array (text; no value
    parsed on the way)."""
    if dialect == "sqlite":
        joined = func.group_concat(column, ",")
    else:
        joined = func.string_agg(cast(column, Text), ",")
    return literal("[") + joined + literal("]")


def json_array_in(dialect: str, values: list[Any]) -> ColumnElement[Any]:
    """A JSON array of the given values (JSON values kept as JSON, not quoted)."""
    if dialect == "sqlite":
        return func.json_array(*values)
    return func.json_build_array(*values)


def days_between_in(dialect: str, start: Any, end: Any) -> ColumnElement[int]:
    """Whole days between two date columns in the named dialect."""
    if dialect == "sqlite":
        return func.cast(func.julianday(end) - func.julianday(start), Integer)
    return end - start  # type: ignore[no-any-return]


def active_on(valid_from: Any, valid_to: Any, day: date) -> Any:
    """SQL condition: a [from, to) period covers `day` (an open end covers every later day)."""
    return and_(valid_from <= day, or_(valid_to.is_(None), valid_to > day))
