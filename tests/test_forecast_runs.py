"""Forecast runs: storage of results, progress, failures, the lease, the persistent schedule,
accuracy of past vintages, the API's role checks and the `forecast file` command.

The engine (`forecast.engine`, `forecast.csvio`) is used when it is there; until it is, a small
stand-in that keeps the agreed contract is put in its place for these tests only.
"""

from __future__ import annotations

import csv
import importlib
import io
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from unittest.mock import patch

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select, text

from api.app import create_app
from api.cli.base import main
from demo.generate import generate_demo
from forecast.months import add_months
from forecast.types import (
    CandidateScore,
    ForecastOptions,
    ForecastPoint,
    MonthlySeries,
    SeriesForecast,
)
from jobs import scheduler as jobs_scheduler
from jobs.forecast_refresh import refresh_forecasts
from tests.conftest import STOKE, bearer
from tracker.children.figures import Metric, MonthlyFigure, record_monthly_figures
from tracker.core.access import SYSTEM
from tracker.core.clock import utcnow
from tracker.core.db import Database
from tracker.core.settings import Settings
from tracker.forecasting.accuracy import vintage_accuracy
from tracker.forecasting.lease import claim_run, release_lease
from tracker.forecasting.results import unpack_paths
from tracker.forecasting.runs import SKIPPED_HELD, finish_run, start_run
from tracker.forecasting.tables import ForecastResult, ForecastRun, RunLease, RunStatus, Trigger
from tracker.series.registry import series_for_authority
from tracker.series.window import last_complete_month

TODAY = date(2026, 3, 15)
CUTOFF = date(2026, 2, 1)
MODELS = ("seasonal_naive", "drift")
OPTIONS = ForecastOptions(horizon=4, origins=2, paths=40, models=MODELS)


# --- the engine, or a stand-in keeping its contract ----------------------------------------


def _stand_in_series(series: MonthlySeries, options: ForecastOptions) -> SeriesForecast:
    known = [v for v in series.values if v is not None]
    level = known[-1] if known else 0.0
    last = add_months(series.start, len(series.values) - 1)
    points = [
        ForecastPoint(
            month=add_months(last, h),
            mean=level,
            lo80=level - h,
            hi80=level + h,
            lo95=level - 2 * h,
            hi95=level + 2 * h,
        )
        for h in range(1, options.horizon + 1)
    ]
    paths = [[level + (i % 5) - 2.0] * options.horizon for i in range(options.paths)]
    candidates = [
        CandidateScore(model=m, mase=1.0 + i / 10, coverage80=0.8)
        for i, m in enumerate(options.models)
    ]
    return SeriesForecast(
        series_id=series.series_id,
        cutoff=last,
        model=options.models[0],
        candidates=candidates,
        points=points,
        paths=paths,
        notes=[],
    )


def _stand_in_many(
    series: list[MonthlySeries],
    options: ForecastOptions,
    *,
    executor: str = "process",
    workers: int | None = None,
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SeriesForecast]:
    result = []
    for index, one in enumerate(series, start=1):
        result.append(_stand_in_series(one, options))
        if progress is not None:
            progress(index, len(series))
    return result


def _stand_in_read(text: str) -> list[MonthlySeries]:
    rows: dict[str, dict[date, float]] = {}
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    if header != ["series_id", "month", "value"]:
        raise ValueError("line 1: the header must be series_id, month, value")
    for line, row in enumerate(reader, start=2):
        try:
            year, month = row[1].split("-")
            rows.setdefault(row[0], {})[date(int(year), int(month), 1)] = float(row[2])
        except (ValueError, IndexError) as exc:
            raise ValueError(f"line {line}, column month/value: {exc}") from None
    result = []
    for series_id, values in rows.items():
        start, end = min(values), max(values)
        count = (end.year - start.year) * 12 + end.month - start.month + 1
        months = [add_months(start, i) for i in range(count)]
        result.append(
            MonthlySeries(series_id=series_id, start=start, values=[values.get(m) for m in months])
        )
    return result


def _stand_in_write(forecasts: list[SeriesForecast]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["series_id", "month", "model", "mean", "lo80", "hi80", "lo95", "hi95"])
    for f in forecasts:
        for p in f.points:
            writer.writerow(
                [f.series_id, f"{p.month:%Y-%m}", f.model, p.mean, p.lo80, p.hi80, p.lo95, p.hi95]
            )
    return out.getvalue()


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """`forecast.engine` (and `forecast.csvio`): the real modules once written, else stand-ins."""
    import forecast

    try:
        module = importlib.import_module("forecast.engine")
    except ModuleNotFoundError:
        module = types.ModuleType("forecast.engine")
        module.forecast_many = _stand_in_many  # type: ignore[attr-defined]
        module.forecast_series = _stand_in_series  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "forecast.engine", module)
        monkeypatch.setattr(forecast, "engine", module, raising=False)
    try:
        importlib.import_module("forecast.csvio")
    except ModuleNotFoundError:
        csvio = types.ModuleType("forecast.csvio")
        csvio.read_series_csv = _stand_in_read  # type: ignore[attr-defined]
        csvio.write_forecast_csv = _stand_in_write  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "forecast.csvio", csvio)
        monkeypatch.setattr(forecast, "csvio", csvio, raising=False)
    return module


# --- data ----------------------------------------------------------------------------------


def _months(first: date, count: int) -> list[date]:
    return [add_months(first, i) for i in range(count)]


def _enter_starters(database: Database, values: dict[date, int], today: date = TODAY) -> None:
    """Starters (and children in care, Staying Put) entered by hand, as a council without an
    SSDA903 extract does."""
    figures = []
    for month, value in values.items():
        label = f"{month:%Y-%m}"
        figures += [
            MonthlyFigure(month=label, metric=Metric.STARTERS, value=value),
            MonthlyFigure(month=label, metric=Metric.STARTERS, value=value // 2, breakdown="10_15"),
            MonthlyFigure(
                month=label,
                metric=Metric.CHILDREN_IN_CARE,
                value=100 + value,
                breakdown="in_house_foster",
            ),
            MonthlyFigure(month=label, metric=Metric.STAYING_PUT_ELIGIBLE, value=2),
            MonthlyFigure(month=label, metric=Metric.STAYING_PUT_STAYED, value=1),
        ]
    with database.writing() as session:
        record_monthly_figures(session, SYSTEM, STOKE, figures, today)


@pytest.fixture
def demo(db: Database) -> Database:
    """Two years of demo enquiries and register for Stoke-on-Trent, and entered SSDA903
    figures for the last 18 months."""
    with db.writing() as session:
        generate_demo(session, today=TODAY, authorities=[STOKE], years=2, seed=7)
    _enter_starters(db, {m: 5 + m.month % 4 for m in _months(date(2024, 9, 1), 18)})
    return db


@pytest.fixture
def small(authorities: Database) -> Database:
    """Three authorities; Stoke-on-Trent with a year of entered SSDA903 figures."""
    _enter_starters(authorities, {m: 4 + m.month % 3 for m in _months(date(2025, 2, 1), 12)})
    return authorities


def _refresh(database: Database, **kwargs: object) -> list:
    kwargs.setdefault("options", OPTIONS)
    kwargs.setdefault("executor", "serial")
    kwargs.setdefault("today", TODAY)
    return refresh_forecasts(database, STOKE, Trigger.CLI, "cli:test", **kwargs)  # type: ignore[arg-type]


def _runs(database: Database) -> list[ForecastRun]:
    with database.read_session() as session:
        return list(session.scalars(select(ForecastRun).order_by(ForecastRun.id)))


# --- runs ----------------------------------------------------------------------------------


def test_a_run_over_demo_data_stores_every_series_with_model_scores_and_intervals(demo, engine):
    with demo.read_session() as session:
        series = series_for_authority(session, STOKE, CUTOFF)
    ids = {s.series_id for s in series}
    assert {
        f"{STOKE}/enquiries/total",
        f"{STOKE}/applications/total",
        f"{STOKE}/approvals/total",
        f"{STOKE}/deregistrations/total",
        f"{STOKE}/net_households/total",
        f"{STOKE}/starters/total",
        f"{STOKE}/starters/age=10_15",
        f"{STOKE}/children_in_care/category=in_house_foster",
        f"{STOKE}/staying_put/leavers",
        f"{STOKE}/staying_put/stayed",
    } <= ids
    assert any(i.startswith(f"{STOKE}/enquiries/channel=") for i in ids)
    assert all(add_months(s.start, len(s.values) - 1) == CUTOFF for s in series)

    [outcome] = _refresh(demo)

    assert outcome.status is RunStatus.SUCCEEDED
    with demo.read_session() as session:
        rows = list(session.scalars(select(ForecastResult)))
    assert {r.series_id for r in rows} == ids
    for row in rows:
        assert row.run_id == outcome.run_id
        assert row.model and row.candidates
        assert all(c["model"] for c in row.candidates)
        assert len(row.points) == OPTIONS.horizon
        for p in row.points:
            assert p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"]
        assert unpack_paths(row.paths, row.path_count).shape == (OPTIONS.paths, OPTIONS.horizon)
    [enquiries] = [r for r in rows if r.series_id == f"{STOKE}/enquiries/total"]
    assert enquiries.model in {c["model"] for c in enquiries.candidates}
    assert all(c["mase"] is not None for c in enquiries.candidates)


def test_progress_reaches_the_number_of_series(small, engine):
    seen: list[tuple[str, int, int]] = []

    [outcome] = _refresh(small, progress=lambda code, done, total: seen.append((code, done, total)))

    [run] = _runs(small)
    assert run.status == RunStatus.SUCCEEDED.value
    assert run.series_total == run.series_done == outcome.series > 0
    assert seen[0] == (STOKE, 0, run.series_total)
    assert seen[-1] == (STOKE, run.series_total, run.series_total)


def test_a_failing_run_is_recorded_with_its_error_and_releases_the_lease(
    small, engine, monkeypatch
):
    def broken(*_args: object, **_kwargs: object) -> list[SeriesForecast]:
        raise RuntimeError("model server unreachable")

    working = engine.forecast_many
    monkeypatch.setattr(engine, "forecast_many", broken)

    [outcome] = _refresh(small)

    assert outcome.status is RunStatus.FAILED
    [run] = _runs(small)
    assert run.status == RunStatus.FAILED.value
    assert run.error == "RuntimeError: model server unreachable"
    assert run.finished_at is not None
    with small.read_session() as session:
        assert session.get(RunLease, STOKE).holder is None
        assert session.scalar(select(func.count()).select_from(ForecastResult)) == 0
    monkeypatch.setattr(engine, "forecast_many", working)
    [again] = _refresh(small)
    assert again.status is RunStatus.SUCCEEDED


def _claim(database: Database, holder: str, now: datetime | None = None) -> int:
    with database.writing() as session:
        return claim_run(
            session,
            STOKE,
            trigger=Trigger.API,
            triggered_by="manager:other",
            holder=holder,
            cutoff=CUTOFF,
            horizon=OPTIONS.horizon,
            models=MODELS,
            now=now,
        )


def test_a_run_while_another_holds_the_lease_is_skipped(small, engine):
    held = _claim(small, "other-host:1:abcd")

    [outcome] = _refresh(small)

    assert outcome.status is RunStatus.SKIPPED
    runs = {r.id: r for r in _runs(small)}
    assert runs[held].status == RunStatus.QUEUED.value
    skipped = runs[outcome.run_id]
    assert skipped.status == RunStatus.SKIPPED.value
    assert skipped.error == f"{SKIPPED_HELD} (run {held})"


def test_an_expired_lease_of_a_crashed_run_is_taken_over_and_the_run_marked_abandoned(
    small, engine
):
    crashed_at = utcnow() - timedelta(minutes=10)
    crashed = _claim(small, "gone-host:1:dead", now=crashed_at)
    with small.writing() as session:
        start_run(session, crashed, 7, now=crashed_at)

    [outcome] = _refresh(small)

    assert outcome.status is RunStatus.SUCCEEDED
    runs = {r.id: r for r in _runs(small)}
    assert runs[crashed].status == RunStatus.FAILED.value
    assert runs[crashed].error.startswith("abandoned:")


def test_a_scheduled_run_fired_again_just_after_it_succeeded_is_skipped(small, engine):
    def scheduled() -> list:
        return refresh_forecasts(
            small, STOKE, Trigger.SCHEDULE, "scheduler", options=OPTIONS, executor="serial",
            today=TODAY,
        )  # fmt: skip

    [first] = scheduled()
    [second] = scheduled()
    [by_hand] = _refresh(small)

    assert (first.status, second.status, by_hand.status) == ("succeeded", "skipped", "succeeded")
    assert second.error == f"skipped: 2026-02 is already forecast by scheduled run {first.run_id}"


def test_two_simultaneous_runs_of_one_authority_run_once(small, engine, monkeypatch):
    working = engine.forecast_many

    def slow(*args: object, **kwargs: object) -> list[SeriesForecast]:
        time.sleep(0.6)
        return working(*args, **kwargs)

    monkeypatch.setattr(engine, "forecast_many", slow)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def fire() -> None:
        barrier.wait()
        outcomes.extend(
            refresh_forecasts(
                small,
                STOKE,
                Trigger.SCHEDULE,
                "scheduler",
                options=OPTIONS,
                executor="serial",
                today=TODAY,
            )
        )

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(o.status.value for o in outcomes) == ["skipped", "succeeded"]
    [skipped] = [r for r in _runs(small) if r.status == RunStatus.SKIPPED.value]
    assert skipped.error.startswith(SKIPPED_HELD)


# --- the schedule --------------------------------------------------------------------------


def _scheduler_settings(database: Database, **changes: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database.url,
        "forecast_horizon": OPTIONS.horizon,
        "forecast_models": MODELS,
        "forecast_executor": "serial",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def jobstore(db: Database) -> Iterator[list]:
    """Started schedulers are shut down and the job table dropped after the test."""
    started: list = []
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))
    yield started
    for scheduler in started:
        jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {jobs_scheduler.JOBSTORE_TABLE}"))


def _start(settings: Settings, database: Database, started: list):
    scheduler = jobs_scheduler.start_scheduler(settings, database)
    started.append(scheduler)
    return scheduler


def _stop(scheduler, started: list) -> None:
    jobs_scheduler.shutdown_scheduler(scheduler, wait=True)
    started.remove(scheduler)


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _make_due(settings: Settings, months_ago: int) -> None:
    """Move the stored job's next run time into the past, as if the service had been down.

    Done on the job store itself: a scheduler started and stopped for it would process the
    due job once on its way down."""
    database = Database(settings.database_url)
    store = SQLAlchemyJobStore(engine=database.engine, tablename=jobs_scheduler.JOBSTORE_TABLE)
    store.start(BackgroundScheduler(timezone=jobs_scheduler.TIMEZONE), "default")
    job = store.lookup_job(jobs_scheduler.SCHEDULE_JOB_ID)
    missed = datetime.now(jobs_scheduler.TIMEZONE) - timedelta(days=31 * months_ago)
    job._modify(next_run_time=missed)
    store.update_job(job)
    store.shutdown()


def test_the_schedule_survives_a_restart_with_its_next_run_time(small, jobstore):
    settings = _scheduler_settings(small)
    first = _start(settings, small, jobstore)
    job = first.get_job(jobs_scheduler.SCHEDULE_JOB_ID)
    next_run = job.next_run_time
    assert (next_run.day, next_run.hour, next_run.minute) == (1, 2, 0)
    assert job.coalesce is True and job.misfire_grace_time == jobs_scheduler.MISFIRE_GRACE_S
    _stop(first, jobstore)

    second = _start(settings, small, jobstore)

    again = second.get_job(jobs_scheduler.SCHEDULE_JOB_ID)
    assert again.next_run_time == next_run
    assert str(again.trigger) == str(job.trigger)
    assert _runs(small) == []


def test_starting_the_scheduler_marks_runs_of_a_stopped_process_abandoned(small, jobstore):
    crashed_at = utcnow() - timedelta(minutes=10)
    crashed = _claim(small, "gone-host:1:dead", now=crashed_at)
    with small.writing() as session:
        start_run(session, crashed, 7, now=crashed_at)

    _start(_scheduler_settings(small), small, jobstore)

    [run] = _runs(small)
    assert run.status == RunStatus.FAILED.value
    assert run.error.startswith("abandoned: the process running it stopped renewing its lease")


def test_a_run_missed_while_down_runs_once_on_start(small, engine, jobstore):
    settings = _scheduler_settings(small)
    _stop(_start(settings, small, jobstore), jobstore)
    _make_due(settings, months_ago=3)

    scheduler = _start(settings, small, jobstore)

    def done() -> bool:
        runs = _runs(small)
        return len(runs) == 3 and all(r.status == RunStatus.SUCCEEDED.value for r in runs)

    _wait_for(done)
    time.sleep(0.3)
    runs = _runs(small)
    assert sorted(r.authority_code for r in runs) == sorted(["E06000021", "E08000026", "E06000004"])
    assert {r.trigger for r in runs} == {"schedule"}
    assert scheduler.get_job(jobs_scheduler.SCHEDULE_JOB_ID).next_run_time > datetime.now(
        jobs_scheduler.TIMEZONE
    )


def test_a_failed_scheduled_run_is_retried_after_a_back_off(small, engine, jobstore, monkeypatch):
    def broken(*_args: object, **_kwargs: object) -> list[SeriesForecast]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(engine, "forecast_many", broken)
    settings = _scheduler_settings(small)
    scheduler = _start(settings, small, jobstore)

    jobs_scheduler.scheduled_refresh(STOKE)

    [run] = _runs(small)
    assert (run.status, run.attempt, run.error) == ("failed", 1, "RuntimeError: out of memory")
    retry = scheduler.get_job(jobs_scheduler.retry_job_id(STOKE))
    assert retry.args == (STOKE, 2)
    delay = retry.next_run_time - datetime.now(jobs_scheduler.TIMEZONE)
    assert timedelta(minutes=4) < delay <= timedelta(minutes=5)
    assert jobs_scheduler.schedule_retry(scheduler, STOKE, 4) is None


def test_two_schedulers_on_one_postgresql_database_run_a_due_job_once(
    small, engine, jobstore, monkeypatch
):
    if small.is_sqlite:
        pytest.skip("two processes sharing a job store is a PostgreSQL deployment")
    working, store_update = engine.forecast_many, SQLAlchemyJobStore.update_job

    def slow(*args: object, **kwargs: object) -> list[SeriesForecast]:
        time.sleep(0.5)
        return working(*args, **kwargs)

    def late_update(self: SQLAlchemyJobStore, job: object) -> None:
        # Widen the window in which both schedulers read the job as due, so both fire it.
        time.sleep(1.0)
        store_update(self, job)

    monkeypatch.setattr(engine, "forecast_many", slow)
    settings = _scheduler_settings(small)
    _stop(_start(settings, small, jobstore), jobstore)
    _make_due(settings, months_ago=1)
    monkeypatch.setattr(SQLAlchemyJobStore, "update_job", late_update)
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        _start(settings, small, jobstore)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    def settled() -> bool:
        runs = _runs(small)
        return len(runs) == 6 and not any(r.status in ("queued", "running") for r in runs)

    _wait_for(settled)
    runs = _runs(small)
    for code in ("E06000021", "E08000026", "E06000004"):
        mine = [r for r in runs if r.authority_code == code]
        assert sorted(r.status for r in mine) == ["skipped", "succeeded"], code
    [stoke_skipped] = [r for r in runs if r.authority_code == STOKE and r.status == "skipped"]
    assert stoke_skipped.error.startswith(SKIPPED_HELD)


# --- accuracy of past vintages -------------------------------------------------------------


def test_vintage_accuracy_compares_a_past_forecast_with_what_happened(small):
    series_id = f"{STOKE}/starters/total"
    points = [
        ForecastPoint(month=date(2025, 1, 1), mean=10, lo80=8, hi80=12, lo95=5, hi95=15),
        ForecastPoint(month=date(2025, 2, 1), mean=20, lo80=18, hi80=22, lo95=15, hi95=25),
        ForecastPoint(month=date(2025, 3, 1), mean=30, lo80=28, hi80=32, lo95=25, hi95=35),
        ForecastPoint(month=date(2025, 4, 1), mean=40, lo80=38, hi80=42, lo95=35, hi95=45),
    ]
    forecast = SeriesForecast(
        series_id=series_id,
        cutoff=date(2024, 12, 1),
        model="drift",
        candidates=[CandidateScore(model="drift", mase=0.9)],
        points=points,
        paths=[],
        notes=[],
    )
    # In-sample month-to-month changes of 4: the scale of the errors is 4.
    history = MonthlySeries(series_id=series_id, start=date(2024, 9, 1), values=[10, 14, 10, 14])
    run_id = _claim(small, "here:1:aaaa")
    with small.writing() as session:
        start_run(session, run_id, 1)
        finish_run(session, run_id, [forecast], [history])
    # What happened: 12, 20 and 34 starters; April has not ended yet.
    _enter_starters(small, {date(2025, 1, 1): 12, date(2025, 2, 1): 20, date(2025, 3, 1): 34})

    with small.read_session() as session:
        [accuracy] = vintage_accuracy(
            session, STOKE, series_id, cutoff=last_complete_month(date(2025, 4, 15))
        )

    assert accuracy.run_id == run_id
    assert accuracy.months_compared == 3
    assert accuracy.mae == pytest.approx(2.0)  # |10-12|, |20-20|, |30-34|
    assert accuracy.scaled_error == pytest.approx(0.5)
    assert accuracy.bias == pytest.approx(-2.0)  # under-forecast
    assert accuracy.coverage80 == pytest.approx(2 / 3)  # 34 is outside 28-32
    assert accuracy.coverage95 == pytest.approx(1.0)


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def forecast_client(small: Database, engine) -> Iterator[TestClient]:
    settings = _scheduler_settings(small, scheduler_enabled=False)
    with TestClient(create_app(settings, small)) as test_client:
        yield test_client


BASE = f"/api/v1/authorities/{STOKE}/forecasts"


def test_a_regional_token_of_another_region_may_not_read_forecasts(forecast_client, tokens):
    assert (
        forecast_client.get(f"{BASE}/runs", headers=bearer(tokens["regional_ne"])).status_code
        == 403
    )
    assert (
        forecast_client.get(f"{BASE}/runs", headers=bearer(tokens["regional_wm"])).status_code
        == 200
    )
    assert (
        forecast_client.get(f"{BASE}/runs", headers=bearer(tokens["recruiter_stoke"])).status_code
        == 403
    )


def test_recruiters_and_regional_tokens_may_not_start_a_run(forecast_client, tokens):
    for key in ("recruiter_stoke", "regional_wm", "manager_coventry"):
        assert forecast_client.post(f"{BASE}/runs", headers=bearer(tokens[key])).status_code == 403
    assert _runs(forecast_client.app.state.database) == []


def test_a_manager_starts_a_run_and_reads_its_forecasts(forecast_client, tokens):
    manager = bearer(tokens["manager_stoke"])

    started = forecast_client.post(f"{BASE}/runs", headers=manager)

    assert started.status_code == 202
    run_id = started.json()["run_id"]

    def finished() -> bool:
        body = forecast_client.get(f"{BASE}/runs/{run_id}", headers=manager).json()
        return body["run"]["status"] == "succeeded"

    _wait_for(finished)
    detail = forecast_client.get(f"{BASE}/runs/{run_id}", headers=manager).json()
    assert detail["run"]["series_done"] == detail["run"]["series_total"] == len(detail["results"])
    assert detail["run"]["trigger"] == "api"
    listed = forecast_client.get(f"{BASE}/series", headers=manager).json()
    assert f"{STOKE}/starters/total" in {s["series_id"] for s in listed}
    query = {"series_id": f"{STOKE}/starters/total"}
    latest = forecast_client.get(f"{BASE}/latest", params=query, headers=manager).json()
    assert latest["run_id"] == run_id and len(latest["points"]) == OPTIONS.horizon
    assert latest["paths"] is None
    with_paths = forecast_client.get(
        f"{BASE}/latest", params={**query, "paths": "true"}, headers=manager
    ).json()
    assert len(with_paths["paths"]) == ForecastOptions().paths  # the settings keep the default
    assert {len(path) for path in with_paths["paths"]} == {OPTIONS.horizon}
    regional = bearer(tokens["regional_wm"])
    assert forecast_client.get(f"{BASE}/latest", params=query, headers=regional).status_code == 200
    refused = forecast_client.get(
        f"{BASE}/latest", params={**query, "paths": "true"}, headers=regional
    )
    assert refused.status_code == 403
    accuracy = forecast_client.get(f"{BASE}/accuracy", params=query, headers=manager)
    assert accuracy.status_code == 200 and accuracy.json() == []


def test_starting_a_run_while_one_holds_the_lease_is_a_conflict(forecast_client, tokens):
    _claim(forecast_client.app.state.database, "other-host:2:beef")

    answer = forecast_client.post(f"{BASE}/runs", headers=bearer(tokens["admin"]))

    assert answer.status_code == 409
    assert answer.json()["rule"] == "forecast_running"


def test_a_run_started_within_the_cool_down_of_the_last_is_too_soon(forecast_client, tokens):
    """Each run costs minutes of the machine: once a run has ended, the API starts another
    for the authority only FOSTERING_FORECAST_COOLDOWN_S (300 s) after it was claimed."""
    database = forecast_client.app.state.database
    holder = "other-host:3:cafe"
    _claim(database, holder, now=utcnow() - timedelta(seconds=100))
    with database.writing() as session:
        release_lease(session, STOKE, holder, utcnow())

    answer = forecast_client.post(f"{BASE}/runs", headers=bearer(tokens["manager_stoke"]))

    assert answer.status_code == 429
    assert answer.json()["rule"] == "too_soon"
    assert 190 <= int(answer.headers["retry-after"]) <= 200
    assert len(_runs(database)) == 1
    # Past the cool-down (here a shorter one: 60 s), a run is claimed again.
    with database.writing() as session:
        claim_run(
            session, STOKE, trigger=Trigger.API, triggered_by="x", holder="h", cutoff=CUTOFF,
            horizon=OPTIONS.horizon, models=MODELS, cooldown=timedelta(seconds=60),
        )  # fmt: skip
    assert len(_runs(database)) == 2


# --- the command line ----------------------------------------------------------------------


def test_forecast_file_round_trip(tmp_path, engine):
    source = tmp_path / "series.csv"
    rows = ["series_id,month,value"]
    for series_id, base in (("north/enquiries", 20), ("south/enquiries", 8)):
        rows += [
            f"{series_id},{m:%Y-%m},{base + m.month % 3}" for m in _months(date(2023, 1, 1), 30)
        ]
    source.write_text("\n".join(rows) + "\n")
    output = tmp_path / "forecast.csv"

    result = CliRunner().invoke(
        main,
        ["forecast", "file", str(source), "--horizon", "3", "--output", str(output),
         "--models", ",".join(MODELS), "--executor", "serial"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    written = list(csv.DictReader(io.StringIO(output.read_text())))
    assert list(written[0]) == [
        "series_id", "month", "model", "mean", "lo80", "hi80", "lo95", "hi95",
    ]  # fmt: skip
    assert [(r["series_id"], r["month"]) for r in written] == [
        (s, m)
        for s in ("north/enquiries", "south/enquiries")
        for m in ("2025-07", "2025-08", "2025-09")
    ]
    assert all(r["model"] in MODELS for r in written)


def test_forecast_file_names_the_faulty_line(tmp_path, engine):
    source = tmp_path / "series.csv"
    source.write_text("series_id,month,value\nnorth,2024-01,3\nnorth,January,4\n")

    result = CliRunner().invoke(main, ["forecast", "file", str(source), "--horizon", "3"])

    assert result.exit_code == 2
    assert "line 3" in " ".join(result.output.split())


def test_forecast_run_command_refreshes_an_authority(small, engine):
    env = {
        "DATABASE_URL": small.url,
        "FOSTERING_FORECAST_HORIZON": "3",
        "FOSTERING_FORECAST_MODELS": ",".join(MODELS),
        "FOSTERING_FORECAST_EXECUTOR": "serial",
    }

    result = CliRunner().invoke(main, ["forecast", "run", "--authority", STOKE], env=env)

    assert result.exit_code == 0, result.output
    [run] = _runs(small)
    assert (run.status, run.trigger, run.horizon) == ("succeeded", "cli", 3)
    assert run.series_done == run.series_total > 0


def test_ssda903_series_end_where_the_imported_years_end(authorities: Database) -> None:
    """Months after the latest collection year are unknown, not zero: with returns up to
    March 2024 and a cut-off in November 2025, the SSDA903 series end in March 2024 while
    the series of other sources run on to the cut-off."""
    from demo.ssda903 import generate
    from tracker.children.importer import import_ssda903

    returns = generate(seed=5, first_year=2023, last_year=2024, starters_per_year=60)
    with authorities.writing() as session:
        import_ssda903(session, SYSTEM, STOKE, returns.files, b"k" * 32)
    with authorities.read_session() as session:
        series = {s.series_id: s for s in series_for_authority(session, STOKE, date(2025, 11, 1))}
    in_care = series[f"{STOKE}/children_in_care/total"]
    last = add_months(in_care.start, len(in_care.values) - 1)
    assert last == date(2024, 3, 1)
    assert in_care.values[-1] and in_care.values[-1] > 0


def test_a_run_recorded_stopped_meanwhile_says_so_once_and_stops(small, caplog):
    """The service stopping records its runs stopped while their thread goes on: the next
    progress written is one warning, not a traceback, and stops the engine (`Stopped`)."""
    from forecast.types import Stopped
    from jobs.forecast_refresh import _ProgressWriter, new_holder, stop_runs_here

    run_id = _claim(small, new_holder())
    with small.writing() as session:
        start_run(session, run_id, 10)
    assert stop_runs_here(small) == [run_id]
    writer = _ProgressWriter(small, run_id, STOKE, 10, None)
    caplog.clear()
    with caplog.at_level("WARNING", logger="fostering.jobs"):
        with pytest.raises(Stopped):
            writer(0)
        for done in (4, 10):
            writer(done)
    records = [r for r in caplog.records if r.name == "fostering.jobs"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert records[0].exc_info is None and "no longer recorded" in records[0].getMessage()


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_a_progress_callback_that_raises_stopped_stops_the_engine(executor):
    """`Stopped` from the progress callback ends forecast_many at once: no more progress,
    and the pool's tasks not yet started are cancelled rather than run."""
    from forecast import engine
    from forecast.types import ForecastOptions, MonthlySeries, Stopped

    series = [
        MonthlySeries(series_id=f"s{i}", start=date(2020, 1, 1), values=[float(i % 7)] * 30)
        for i in range(40)
    ]
    calls: list[int] = []
    fallbacks: list[str] = []
    original = engine.forecast_series

    def here(item, options):  # the engine's fallback when the pool fails: not expected
        fallbacks.append(item.series_id)
        return original(item, options)

    def progress(done: int, total: int) -> None:
        calls.append(done)
        raise Stopped("stop")

    with pytest.raises(Stopped), patch.object(engine, "forecast_series", here):
        engine.forecast_many(
            series,
            ForecastOptions(models=("seasonal_naive",), origins=2),
            executor=executor,
            workers=2,
            progress=progress,
        )
    assert len(calls) == 1 and calls[0] < len(series)
    assert fallbacks == ([] if executor == "process" else ["s0"])
