"""bench/national.py's pure parts: goals, percentiles and the Markdown table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bench_modules import load


@pytest.fixture(scope="module")
def national():  # type: ignore[no-untyped-def]
    return load("national")


def test_a_council_read_over_3_ms_of_cpu_misses_its_goal(national) -> None:  # type: ignore[no-untyped-def]
    assert national.verdict("council_cpu_ms", 3.0) == "met"
    assert national.verdict("council_cpu_ms", 3.1) == "missed"


def test_create_at_a_tenth_of_bare_meets_its_goal(national) -> None:  # type: ignore[no-untyped-def]
    assert national.verdict("create_ratio", 0.1) == "met"
    assert national.verdict("create_ratio", 0.05) == "missed"
    assert national.verdict("create_ratio", None) == "-"


@pytest.mark.parametrize(
    ("url", "goal", "judged"),
    [
        ("sqlite:////tmp/n.db", ">= 0.1", "missed"),
        ("postgresql://postgres@127.0.0.1/n", "- (SQLite's: >= 0.1)", "-"),
    ],
)
def test_create_is_judged_against_its_goal_on_sqlite_only(national, url, goal, judged) -> None:  # type: ignore[no-untyped-def]
    points = {"bare": {"requests_per_s": 1000.0}, "enquiry create": {"requests_per_s": 66.0}}
    facts = {"councils": 155, "enquiries": 598905}
    (row,) = [r for r in national._report(url, facts, points, {})["rows"] if "create" in r["name"]]
    assert row["figure"] == "0.066 x bare req/s"
    assert (row["goal"], row["verdict"]) == (goal, judged)


def test_p99_of_a_hundred_is_the_99th_value(national) -> None:  # type: ignore[no-untyped-def]
    values = [float(v) for v in range(1, 101)]
    assert national.percentile(values, 0.99) == 99.0
    assert national.percentile(values, 0.5) == 50.0


def test_markdown_has_a_row_per_figure(national) -> None:  # type: ignore[no-untyped-def]
    report = {
        "date": "2026-12-04", "backend": "sqlite", "database": "x.db", "councils": 155,
        "enquiries": 600000,
        "rows": [{"name": "funnel small", "figure": "2.5 ms", "goal": "<= 3 ms", "verdict": "met"}],
    }  # fmt: skip
    table = national.markdown(report)
    assert "| funnel small | 2.5 ms | <= 3 ms | met |" in table


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_writes_to_a_copy_and_leaves_the_set_as_it_was(
    national: Any, backend: str, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import new_postgres_database

    def rows(url: str) -> list[int]:
        engine = create_engine(url)
        with engine.connect() as conn:
            found = [n for (n,) in conn.execute(text("SELECT n FROM t ORDER BY n"))]
        engine.dispose()
        return found

    def write(url: str, statement: str) -> None:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()

    def check(url: str) -> str:
        write(url, "CREATE TABLE t (n integer)")
        write(url, "INSERT INTO t VALUES (1), (2)")
        (tmp_path / "copy").mkdir()
        with national.working_copy(url, tmp_path / "copy") as copy:
            assert copy != url and rows(copy) == [1, 2]
            write(copy, "INSERT INTO t VALUES (3)")  # what a run adds
            assert rows(copy) == [1, 2, 3]
        assert rows(url) == [1, 2]
        return copy

    if backend == "sqlite":
        check(f"sqlite:///{tmp_path / 'national.db'}")
        return
    with new_postgres_database() as url:
        copy = check(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            name = copy.rsplit("/", 1)[1]
            left = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            assert left.first() is None  # the copy is dropped
        engine.dispose()
