"""The forecasting engine: one series, or many in parallel (processes or a Dask cluster).

`forecast_series` prepares a series (forecast/prepare.py), backtests the roster on it
(forecast/backtest.py), forms the combinations and chooses per series (forecast/selection.py),
refits the choice (or a combination's members) on the whole history and builds calibrated
intervals and sample paths (forecast/intervals.py). A series whose
fit goes wrong still gets a forecast: the next-best model, or else seasonal naive (naive, mean)
with a note saying what failed. `forecast_many` runs series independently over a process pool,
a Dask distributed cluster or serially; every series gets its own random stream (from the seed
and its id), so the executor never changes the result.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import closing

import msgspec
import numpy as np
from threadpoolctl import threadpool_limits

from forecast.backtest import (
    Backtest,
    describe_failure,
    mase_scale,
    median_scale,
    plan_origins,
    recent_scale,
    run_backtest,
)
from forecast.executors import RUNNERS, STREAM_RUNNERS, cores, in_chunks
from forecast.intervals import (
    Calibration,
    Recency,
    calibrate,
    intervals,
    path_bounds,
    rate_paths,
    sample_paths,
)
from forecast.log_scale import ON_LOG_SCALE, LogScale, wants_log
from forecast.models import SEASON, Constant, Forecast, Mean, Model, from_sd
from forecast.months import add_months
from forecast.prepare import MIN_MONTHS, RATE_MONTHS, PreparedSeries, Regime, prepare
from forecast.roster import MODELS, ON_LOGS
from forecast.selection import (
    COMBINATIONS,
    PROPHET,
    challenge,
    choice_note,
    choose,
    combine,
    label,
    prophet_origin,
    prophet_skip_reason,
)
from forecast.types import (
    CandidateScore,
    ForecastOptions,
    ForecastPoint,
    MonthlySeries,
    SeriesForecast,
    Stopped,
)

log = logging.getLogger(__name__)

EXECUTORS = ("serial", *RUNNERS)
DEFAULT_OPTIONS = ForecastOptions()
"""The default options (a frozen struct, so one shared instance is safe)."""
SEASONAL_MIN_TRAIN = 3 * SEASON
"""Seasonal models are backtested on at least three years at every origin where the series
leaves a year after them to test on (two years otherwise). On two years AutoETS cannot fit a
seasonal model at all (it has fewer months than a seasonal model's parameters need) and falls
back to a flat one, which the backtest then ran forward over every origin: on the validation
year of the real series it scored ETS three times worse than seasonal naive where a fit on the
whole history beat seasonal naive."""
SEARCH_FIRST = ("ets", "ets_damped", "ets_figures", "ces", "arima")
"""Models whose form is searched on the whole history, before their backtest, which then
keeps that form (forecast/statsforecast_models.py, auto_ets): one search instead of two. The
other way round, the form searched before the first origin and kept for the whole history,
costs the same but forecast worse on the validation year (bench/forecast.py --validation:
0.803 of seasonal naive's MASE on the real series against 0.781), as round 1 found too. The
price is that the backtest's ETS errors come from a form chosen with its test months in view,
which can narrow the calibrated ranges a little."""
CHUNK = 8
"""Series per task at most: large enough to make task overhead negligible, small enough to
balance the load (a series that backtests Prophet takes ten times as long as one that does not)."""
LOG_NOTE = (
    "the fitted models (ETS, Theta, CES, and ARIMA where named) were fitted to the logarithms "
    "of the figures, the baselines, Croston and Prophet to the figures: the ups and downs "
    "within each year are more even as a share of the level than as numbers (Guerrero's method)"
)
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(list[SeriesForecast])


def forecast_series(
    series: MonthlySeries, options: ForecastOptions = DEFAULT_OPTIONS
) -> SeriesForecast:
    """Forecast one series; a failure inside gives a simple forecast with a note, not an error."""
    _check(options)
    # One BLAS thread: the matrices are tiny, and an OpenBLAS thread pool once woken (Prophet's
    # larger products wake it) spins against the other workers and slows every fit several-fold.
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            return _forecast(series, options)
        except Exception as exc:
            log.warning("forecast of %s failed, seasonal naive used instead", series.series_id)
            return fallback_forecast(
                series, options, f"forecasting failed ({describe_failure(exc)})"
            )


def forecast_many(
    series: Sequence[MonthlySeries],
    options: ForecastOptions = DEFAULT_OPTIONS,
    *,
    executor: str = "process",
    workers: int | None = None,
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SeriesForecast]:
    """Forecast every series, in input order.

    executor: "serial" (this process), "process" (a pool of `workers` processes, default one
    per core) or "dask" (the Dask distributed scheduler at `dask_address`, or a local cluster of
    `workers` processes when no address is given). `progress(done, total)` is called in this
    thread as series finish (a task's series finish together); if it raises `Stopped`, so
    does this, at once. A series, or a whole task, that fails still gets a forecast.
    """
    _check(options)
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    items = list(series)
    total = len(items)
    if total == 0:
        return []
    if executor == "serial":
        results = []
        for done, item in enumerate(items, start=1):
            results.append(forecast_series(item, options))
            if progress is not None:
                progress(done, total)
        return results
    count = workers or cores()
    chunks = in_chunks(items, count, CHUNK)
    finished: dict[int, list[SeriesForecast]] = {}
    runner = RUNNERS[executor]
    done = 0

    def record(index: int, forecasts: list[SeriesForecast]) -> None:
        nonlocal done
        finished[index] = forecasts
        done += len(forecasts)
        if progress is not None:
            progress(done, total)

    try:
        # Closed when left early (a run stopped): the pool's tasks not started are cancelled.
        with closing(runner(forecast_chunk, chunks, options, count, dask_address)) as outcomes:
            for index, outcome in outcomes:
                if isinstance(outcome, bytes):
                    record(index, _DECODER.decode(outcome))
                    continue
                log.warning("a forecast task of %d series failed: %s", len(chunks[index]), outcome)
                note = f"forecasting failed in a worker ({outcome})"
                record(index, [fallback_forecast(s, options, note) for s in chunks[index]])
    except Stopped:
        raise
    except Exception:
        # The pool or cluster itself is unusable (could not start, lost its scheduler): the
        # series still left are forecast here, one after another.
        log.exception("the %s executor failed; forecasting the remaining series here", executor)
        for index, chunk in enumerate(chunks):
            if index not in finished:
                record(index, [forecast_series(s, options) for s in chunk])
    return [forecast for index in range(len(chunks)) for forecast in finished[index]]


def forecast_chunks(
    chunks: Iterable[tuple[Hashable, list[MonthlySeries]]],
    options: ForecastOptions = DEFAULT_OPTIONS,
    *,
    executor: str = "process",
    workers: int | None = None,
    dask_address: str | None = None,
) -> Iterator[tuple[Hashable, list[SeriesForecast]]]:
    """Forecast keyed chunks of series drawn lazily from `chunks`, yielding each chunk's key
    and forecasts (in its order) as chunks finish, in any order.

    Only a few chunks per worker are drawn ahead, so a national run holds a handful of
    councils' series at a time however many it covers; the executors are those of
    `forecast_many`, and each series is seeded by its id, so the results are the same. A
    failed task gets fallback forecasts; when the pool or cluster itself fails, the chunks
    it held and those still to come are forecast here, one after another.
    """
    _check(options)
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if executor == "serial":
        for key, chunk in chunks:
            yield key, [forecast_series(s, options) for s in chunk]
        return
    held: dict[Hashable, list[MonthlySeries]] = {}
    source = iter(chunks)
    failed_source: list[Exception] = []

    def drawn() -> Iterator[tuple[Hashable, list[MonthlySeries]]]:
        while True:
            try:
                key, chunk = next(source)
            except StopIteration:
                return
            except Exception as exc:
                # The caller's error, not the executor's: raised as it is, not worked round.
                failed_source.append(exc)
                raise
            held[key] = chunk
            yield key, chunk

    runner = STREAM_RUNNERS[executor]
    try:
        for key, outcome in runner(
            forecast_chunk, drawn(), options, workers or cores(), dask_address
        ):
            chunk = held.pop(key)
            if isinstance(outcome, bytes):
                yield key, _DECODER.decode(outcome)
                continue
            log.warning("a forecast task of %d series failed: %s", len(chunk), outcome)
            note = f"forecasting failed in a worker ({outcome})"
            yield key, [fallback_forecast(s, options, note) for s in chunk]
    except Exception:
        if failed_source:
            raise
        log.exception("the %s executor failed; forecasting the remaining series here", executor)
        for key, chunk in itertools.chain(list(held.items()), source):
            yield key, [forecast_series(s, options) for s in chunk]


def forecast_chunk(series: list[MonthlySeries], options: ForecastOptions) -> bytes:
    """A worker's task: forecast a few series and return them msgpack-encoded (compact and
    quick to move between processes)."""
    return _ENCODER.encode([forecast_series(s, options) for s in series])


def fallback_forecast(series: MonthlySeries, options: ForecastOptions, note: str) -> SeriesForecast:
    """A forecast that cannot fail: seasonal naive, naive or the mean, without a backtest."""
    try:
        prepared = prepare(series)
        notes = [*prepared.notes, note]
        n = len(prepared.values)
        if n == 0:
            return _empty(series, prepared, notes)
        name = "seasonal_naive" if n >= 2 * SEASON else "naive" if n >= MIN_MONTHS else "mean"
        model = Mean() if name == "mean" else MODELS[name](n >= 2 * SEASON)
        forecast = model.fit(prepared.values, prepared.start).forecast(options.horizon)
        notes.append(f"{model.name} used without a backtest")
        candidates = [CandidateScore(model=model.name, mase=None, note="fallback")]
        return _assemble(
            series, prepared, options, model.name, forecast, _untested(n), candidates, notes
        )
    except Exception as exc:
        log.exception("even the fallback forecast of %s failed", series.series_id)
        cutoff = add_months(series.start, len(series.values) - 1)
        return SeriesForecast(
            series_id=series.series_id,
            cutoff=cutoff,
            model="none",
            candidates=[],
            points=[],
            paths=[],
            notes=[note, f"no forecast could be made ({describe_failure(exc)})"],
        )


def _check(options: ForecastOptions) -> None:
    if options.horizon < 1 or options.origins < 1 or options.paths < 1:
        raise ValueError("horizon, origins and paths must each be at least 1")
    Recency(options.range_decay, options.range_window)  # raises on a decay or window out of range
    if options.range_recent < 1:
        raise ValueError("range_recent must be at least 1")


def _forecast(series: MonthlySeries, options: ForecastOptions) -> SeriesForecast:
    if series.is_count and any(v is not None and v < 0 for v in series.values):
        series = msgspec.structs.replace(series, is_count=False)
        negative_note = [
            "negative figures in a series given as a count: forecasts are not held at zero or above"
        ]
    else:
        negative_note = []
    prepared = prepare(series)
    notes = [*negative_note, *prepared.notes]
    n = len(prepared.values)
    if prepared.regime is Regime.EMPTY:
        return _empty(series, prepared, notes)
    if prepared.regime is Regime.CONSTANT:
        forecast = Constant().fit(prepared.values, prepared.start).forecast(options.horizon)
        candidates = [
            CandidateScore(model=name, mase=None, note="not fitted: the series is constant")
            for name in options.models
        ]
        return _assemble(
            series, prepared, options, "constant", forecast, _untested(n), candidates, notes
        )
    if prepared.regime is Regime.SPARSE:
        candidates = [
            CandidateScore(
                model=name, mase=None, note="not fitted: mostly zeros, forecast as a rate"
            )
            for name in options.models
        ]
        paths = rate_paths(prepared.values, options.horizon, options.paths, _rng(series, options))
        rate = np.full(options.horizon, float(np.mean(prepared.values[-RATE_MONTHS:])))
        return _build(series, prepared, "rate", rate, path_bounds(paths), paths, candidates, notes)
    if prepared.regime is Regime.SHORT:
        forecast = Mean().fit(prepared.values, prepared.start).forecast(options.horizon)
        candidates = [
            CandidateScore(model=name, mase=None, note="not fitted: too short to backtest")
            for name in options.models
        ]
        return _assemble(
            series, prepared, options, "mean", forecast, _untested(n), candidates, notes
        )
    return _selected(series, prepared, options, notes)


def _selected(
    series: MonthlySeries, prepared: PreparedSeries, options: ForecastOptions, notes: list[str]
) -> SeriesForecast:
    values, n = prepared.values, len(prepared.values)
    seasonal = prepared.regime is Regime.SEASONAL
    if seasonal:
        min_train = min(SEASONAL_MIN_TRAIN, max(2 * SEASON, n - SEASON))
    else:
        min_train = max(MIN_MONTHS - 2, n // 2)
    origins = plan_origins(n, options.horizon, options.origins, min_train)
    on_logs = wants_log(values, seasonal)
    models, combinations, skipped = _roster(options, seasonal, series.is_count, on_logs)
    if on_logs:
        notes.append(LOG_NOTE)

    def backtest(name: str, at: list[int]) -> Backtest:
        return run_backtest(
            name, models[name], values, prepared.start, at, options.horizon, series.is_count
        )

    full = _FullFits(models, values, prepared)
    full.first([name for name in SEARCH_FIRST if name in models], options.horizon)
    backtests = {name: backtest(name, origins) for name in models if name != PROPHET}
    combined, members = combine(backtests, combinations, options.members)
    full.members = members
    backtests.update(combined)
    skipped.update(
        (name, "not formed: fewer than two fitted models ran")
        for name in combinations
        if name not in combined
    )
    ranked = choose(list(backtests.values()), options.horizon)
    prophet_at = None
    if PROPHET in models:
        reason = (
            prophet_skip_reason(list(backtests.values()), n, options.horizon) if origins else None
        )
        if origins and reason is None:
            prophet_at = prophet_origin(origins, n, options.horizon)
            backtests[PROPHET] = backtest(PROPHET, [prophet_at])
            ranked = challenge(ranked, backtests[PROPHET], prophet_at)
        else:
            skipped[PROPHET] = reason or "not tried: too short to backtest"

    chosen, forecast = full.first_that_works(ranked, options.horizon, notes)
    if chosen is None or forecast is None:
        failures = "; ".join(f"{b.model}: {b.failure}" for b in backtests.values() if b.failure)
        reason = (
            "every model failed on the full history"
            if ranked
            else (f"no model could be backtested ({failures})")
        )
        return fallback_forecast(series, options, reason)

    notes.append(choice_note(chosen, backtests, members, options.horizon, prophet_at, seasonal))
    calibration = _calibrate(chosen, forecast, values, options)
    if calibration.note():
        notes.append(calibration.note())  # type: ignore[arg-type]
    notes.extend(
        f"{label(b.model)} failed in the backtest ({b.failure})"
        for b in backtests.values()
        if b.failure
    )
    candidates = [
        _candidate(name, models, backtests, skipped, members)
        for name in dict.fromkeys(options.models)
    ]
    model_name = models[chosen.model].name if chosen.model in models else chosen.model
    return _assemble(
        series, prepared, options, model_name, forecast, calibration, candidates, notes
    )


def _calibrate(
    chosen: Backtest, forecast: Forecast, values: np.ndarray, options: ForecastOptions
) -> Calibration:
    """The chosen model's ranges from its backtest, in the range scale the options name."""
    recency = Recency(options.range_decay, options.range_window)
    n = len(values)
    if options.range_scale == "mean":
        return calibrate(chosen, forecast, mase_scale(values), recency, history=n)
    if options.range_scale == "median":
        scale_of: Callable[[np.ndarray], float] = median_scale
    else:
        scale_of = functools.partial(recent_scale, months=options.range_recent)
    scales = np.array([scale_of(values[:origin]) for origin in chosen.origins])
    return calibrate(chosen, forecast, scale_of(values), recency, history=n, origin_scales=scales)


def _roster(
    options: ForecastOptions, seasonal: bool, is_count: bool, on_logs: bool = False
) -> tuple[dict[str, Model], list[str], dict[str, str]]:
    """The models to backtest (the fitted ones on the log scale when `on_logs`), the
    combinations to form and why any other name is left out."""
    models: dict[str, Model] = {}
    combinations: list[str] = []
    skipped: dict[str, str] = {}
    for name in dict.fromkeys(options.models):
        if name in COMBINATIONS:
            combinations.append(name)
        elif name not in MODELS:
            skipped[name] = "not fitted: no such model"
        elif name == PROPHET and not seasonal:
            skipped[name] = "not tried: Prophet is tried on seasonal series only"
        elif name == "croston" and not is_count:
            skipped[name] = "not tried: Croston is for counts"
        elif on_logs and name in ON_LOG_SCALE:
            models[name] = LogScale(ON_LOGS.get(name, MODELS[name])(seasonal))
        else:
            models[name] = MODELS[name](seasonal)
    return models, combinations, skipped


class _FullFits:
    """Forecasts from the whole history, each model's at most once (a combination's members
    may be needed again by the next candidate when the first fails)."""

    def __init__(
        self, models: dict[str, Model], values: np.ndarray, prepared: PreparedSeries
    ) -> None:
        self.models, self.members = models, list[str]()
        self.values, self.prepared = values, prepared
        self.done: dict[str, Forecast] = {}
        self.failed: dict[str, Exception] = {}

    def first(self, names: list[str], horizon: int) -> None:
        """Fit these models on the whole history before their backtests (so the backtest
        keeps the form chosen here); a failure is kept until the forecast is asked for."""
        for name in names:
            try:
                self.forecast(name, horizon)
            except Exception as exc:
                self.failed[name] = exc

    def forecast(self, name: str, horizon: int) -> Forecast:
        if name in COMBINATIONS:
            parts = [self.forecast(member, horizon) for member in self.members]
            mean = COMBINATIONS[name](np.stack([p.mean for p in parts]), axis=0)
            return from_sd(mean, np.mean(np.stack([p.sd for p in parts]), axis=0))
        if name in self.failed:
            raise self.failed[name]
        if name not in self.done:
            self.done[name] = self._forecast(name, horizon)
        return self.done[name]

    def _forecast(self, name: str, horizon: int) -> Forecast:
        """The model refitted on the whole history (its form chosen anew: keeping the form
        chosen before the first origin did worse on the validation year, bench/forecast.py
        --validation: 0.824 of seasonal naive's MASE on the real series against 0.795)."""
        forecast = self.models[name].fit(self.values, self.prepared.start).forecast(horizon)
        if not np.all(np.isfinite(forecast.mean)) or not math.isfinite(forecast.sigma):
            raise ValueError("the forecast is not finite")
        return forecast

    def first_that_works(
        self, ranked: list[Backtest], horizon: int, notes: list[str]
    ) -> tuple[Backtest | None, Forecast | None]:
        """Refit the best-ranked model on the whole history; on failure, the next one."""
        for candidate in ranked:
            try:
                return candidate, self.forecast(candidate.model, horizon)
            except Exception as exc:
                notes.append(
                    f"{label(candidate.model)} won the backtest but failed on the full history "
                    f"({describe_failure(exc)}); the next best was used"
                )
        return None, None


def _candidate(
    name: str,
    models: dict[str, Model],
    backtests: dict[str, Backtest],
    skipped: dict[str, str],
    members: list[str],
) -> CandidateScore:
    """What the forecast records of one roster model: its score, or why it has none."""
    if name not in backtests:
        return CandidateScore(model=name, mase=None, note=skipped.get(name))
    backtest = backtests[name]
    if backtest.failure:
        note: str | None = f"failed: {backtest.failure}"
    elif name == PROPHET:
        note = (
            "tested on one forecast only, from the latest origin with the whole horizon ahead "
            "(Prophet is tried where seasonal naive clearly beat the faster models)"
        )
    elif name in COMBINATIONS:
        note = "of " + ", ".join(label(m) for m in members)
    else:
        note = None
    return CandidateScore(
        model=models[name].name if name in models else name,
        mase=_rounded(backtest.mase),
        note=note,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _untested(n: int) -> Calibration:
    """No backtest to calibrate from: the shortest series use Student-t surprises instead."""
    return Calibration(None, None, 0, df=max(1, n - 1) if n < MIN_MONTHS else None)


def _empty(series: MonthlySeries, prepared: PreparedSeries, notes: list[str]) -> SeriesForecast:
    return SeriesForecast(
        series_id=series.series_id,
        cutoff=add_months(series.start, -1),
        model="none",
        candidates=[],
        points=[],
        paths=[],
        notes=notes,
    )


def _assemble(
    series: MonthlySeries,
    prepared: PreparedSeries,
    options: ForecastOptions,
    model: str,
    forecast: Forecast,
    calibration: Calibration,
    candidates: list[CandidateScore],
    notes: list[str],
) -> SeriesForecast:
    point = np.maximum(forecast.mean, 0.0) if series.is_count else forecast.mean
    bounds = intervals(forecast, point, calibration, series.is_count)
    paths = sample_paths(
        forecast, point, calibration, options.paths, _rng(series, options), series.is_count
    )
    return _build(series, prepared, model, point, bounds, paths, candidates, notes)


def _rng(series: MonthlySeries, options: ForecastOptions) -> np.random.Generator:
    """The series' own random stream: the same whichever executor or order runs it."""
    return np.random.default_rng([options.seed, zlib.crc32(series.series_id.encode())])


def _build(
    series: MonthlySeries,
    prepared: PreparedSeries,
    model: str,
    point: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    paths: np.ndarray,
    candidates: list[CandidateScore],
    notes: list[str],
) -> SeriesForecast:
    lo80, hi80, lo95, hi95 = bounds
    cutoff = prepared.cutoff
    points = [
        ForecastPoint(
            month=add_months(cutoff, step + 1),
            mean=float(point[step]),
            lo80=float(lo80[step]),
            hi80=float(hi80[step]),
            lo95=float(lo95[step]),
            hi95=float(hi95[step]),
        )
        for step in range(len(point))
    ]
    return SeriesForecast(
        series_id=series.series_id,
        cutoff=cutoff,
        model=model,
        candidates=candidates,
        points=points,
        paths=paths.tolist(),
        notes=notes,
    )
