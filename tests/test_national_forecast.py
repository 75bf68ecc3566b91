"""The national forecast run: one batch over every council, each council its own run with
its own lease, the same stored forecasts as council-by-council runs, on every executor."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli.base import main
from demo.generate import generate_demo
from forecast.types import ForecastOptions
from jobs.forecast_refresh import refresh_forecasts
from jobs.national_forecast import refresh_all
from tests.conftest import COVENTRY, STOCKTON, STOKE
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.forecasting.lease import claim_run
from tracker.forecasting.runs import SKIPPED_HELD
from tracker.forecasting.tables import ForecastResult, ForecastRun, RunLease, RunStatus, Trigger

TODAY = date(2026, 3, 15)
CUTOFF = date(2026, 2, 1)
OPTIONS = ForecastOptions(horizon=3, origins=1, paths=20, models=("seasonal_naive", "drift"))
COUNCILS = (STOCKTON, STOKE, COVENTRY)


@pytest.fixture
def three(db: Database) -> Database:
    """Two years of demo records for three councils."""
    with db.writing() as session:
        generate_demo(session, today=TODAY, authorities=list(COUNCILS), years=2, seed=11)
    return db


def _settings(database: Database, **changes: object) -> Settings:
    return Settings(database_url=database.url, forecast_workers=2, **changes)  # type: ignore[arg-type]


def _national(database: Database, executor: str, **changes: object) -> list:
    return refresh_all(
        database,
        settings=_settings(database, **changes),
        options=OPTIONS,
        executor=executor,
        trigger=Trigger.CLI,
        triggered_by="cli:test",
        today=TODAY,
    )


def _stored(database: Database, run_ids: list[int]) -> dict[str, tuple]:
    """Each series' stored forecast (model, points, paths, notes) over the given runs."""
    with database.read_session() as session:
        rows = session.scalars(select(ForecastResult).where(ForecastResult.run_id.in_(run_ids)))
        return {r.series_id: (r.model, r.points, r.paths, r.notes, r.scale) for r in rows}


def _per_council(database: Database) -> dict[str, tuple]:
    run_ids = []
    for code in COUNCILS:
        [outcome] = refresh_forecasts(
            database, code, Trigger.CLI, "cli:test", settings=_settings(database),
            options=OPTIONS, executor="serial", today=TODAY,
        )  # fmt: skip
        assert outcome.status is RunStatus.SUCCEEDED
        run_ids.append(outcome.run_id)
    return _stored(database, run_ids)


def test_a_national_run_stores_what_council_by_council_runs_store(three):
    by_council = _per_council(three)

    outcomes = _national(three, "process")

    assert [o.authority_code for o in outcomes] == sorted(COUNCILS)
    assert all(o.status is RunStatus.SUCCEEDED for o in outcomes)
    assert len(by_council) > 3 * 10
    assert _stored(three, [o.run_id for o in outcomes]) == by_council


def test_a_national_run_records_one_run_per_council_and_releases_every_lease(three):
    outcomes = _national(three, "serial")

    with three.read_session() as session:
        runs = list(session.scalars(select(ForecastRun).order_by(ForecastRun.authority_code)))
        leases = list(session.scalars(select(RunLease)))
    assert [(r.authority_code, r.status) for r in runs] == [
        (code, RunStatus.SUCCEEDED.value) for code in sorted(COUNCILS)
    ]
    assert [r.id for r in runs] == [o.run_id for o in outcomes]
    assert all(r.series_done == r.series_total > 0 for r in runs)
    assert all(r.cutoff == CUTOFF and r.finished_at is not None for r in runs)
    assert len(leases) == 3
    assert all(lease.holder is None for lease in leases)


def test_a_council_whose_lease_is_held_is_recorded_skipped_and_the_others_run(three):
    with three.writing() as session:
        held = claim_run(
            session, COVENTRY, trigger=Trigger.CLI, triggered_by="cli:other",
            holder="elsewhere:1:abc", cutoff=CUTOFF, horizon=3, models=OPTIONS.models,
        )  # fmt: skip

    outcomes = {o.authority_code: o for o in _national(three, "serial")}

    assert outcomes[COVENTRY].status is RunStatus.SKIPPED
    assert outcomes[COVENTRY].error == f"{SKIPPED_HELD} (run {held})"
    assert outcomes[STOKE].status is outcomes[STOCKTON].status is RunStatus.SUCCEEDED
    with three.read_session() as session:
        skipped = session.get(ForecastRun, outcomes[COVENTRY].run_id)
        results = session.scalars(
            select(ForecastResult.run_id).where(ForecastResult.series_id.like(f"{COVENTRY}/%"))
        ).all()
    assert skipped is not None and skipped.status == RunStatus.SKIPPED.value
    assert results == []


def test_a_national_run_on_a_local_dask_cluster_stores_the_same_forecasts(three):
    serial = _national(three, "serial")

    on_dask = _national(three, "dask")

    assert [o.status for o in on_dask] == [RunStatus.SUCCEEDED] * 3
    assert _stored(three, [o.run_id for o in on_dask]) == _stored(three, [o.run_id for o in serial])


def test_refresh_without_an_authority_is_the_national_batch(three):
    outcomes = refresh_forecasts(
        three, None, Trigger.CLI, "cli:test", settings=_settings(three), options=OPTIONS,
        executor="serial", today=TODAY,
    )  # fmt: skip

    assert [(o.authority_code, o.status) for o in outcomes] == [
        (code, RunStatus.SUCCEEDED) for code in sorted(COUNCILS)
    ]


def test_the_cli_refuses_a_scheduler_address_without_the_dask_executor(three, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", three.url)

    result = CliRunner().invoke(
        main, ["forecast", "run", "--executor", "process", "--scheduler", "tcp://127.0.0.1:1"]
    )

    assert result.exit_code != 0
    assert "--scheduler" in result.output
