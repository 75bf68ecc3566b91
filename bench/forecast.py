#!/usr/bin/env python
"""Forecast benchmark: the engine's scheduled run against Prophet fitted once per series.

    .venv/bin/python bench/forecast.py [--seed 2026] [--workers 2] [--repeats 3]

A synthetic region (14 authorities x 12 monthly series x 84 months, April 2018 to March 2025,
seeded): enquiries (total, web, events: seasonal counts with a May peak for Foster Care
Fortnight, dips in August and December, a COVID dip, occasional campaign spikes), applications,
approvals and deregistrations (small counts drawn from the funnel), children starting to be
looked after (summer rise), and the stocks they feed (children in care, in-house households,
approved and vacant places, IFA placements).

Timing (one process pool of --workers processes for both, forked from one server that has
already imported the engine and Prophet, so neither side pays imports; median of --repeats):

    scheduled   forecast_many on the full 84 months, default options (horizon 24, 3 backtest
                origins, every model, 500 paths)
    prophet     Prophet with default settings fitted once per series on the same months,
                forecasting the same 24 months (its own intervals: 1000 samples)

Accuracy on a held-back last year: both fitted on the first 72 months, forecasting 12; MASE per
series is the mean absolute error over those 12 months scaled by the in-sample mean absolute
error of seasonal naive (lag 12) on the 72 months, averaged over series; seasonal naive's own
forecast is scored the same way. Coverage: share of held-back months inside the 80% (and 95%)
intervals. Targets: scheduled <= 0.5 x prophet time; mean MASE <= 0.85 x seasonal naive's and
<= Prophet's; 80% coverage in [0.75, 0.85].

Results go to the terminal and to bench/results/forecast-<date>.json (forecast-<date>-seed<N>.json
for another seed).
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

import numpy as np  # noqa: E402

from forecast.engine import forecast_many  # noqa: E402
from forecast.months import add_months  # noqa: E402
from forecast.types import ForecastOptions, MonthlySeries, SeriesForecast  # noqa: E402

# bench/memory.py, loaded by path (this folder is off sys.path, see above).
_spec = importlib.util.spec_from_file_location("bench_memory", BENCH / "memory.py")
assert _spec is not None and _spec.loader is not None
bench_memory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_memory)
TreeSampler = bench_memory.TreeSampler

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
    """Prophet as a newcomer would use it: defaults, fitted once; mean, lo80, hi80 per month."""
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


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["forecast.engine", "forecast.prophet_fit"])
    return context


def warm_up(workers: int) -> None:
    """Start the fork server (importing the engine and Prophet once) before any timing."""
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        list(pool.map(abs, range(workers)))


def run_prophet(
    series: list[MonthlySeries], horizon: int, workers: int
) -> tuple[float, list[list[list[float]]]]:
    started = time.perf_counter()
    chunks = [series[i : i + 8] for i in range(0, len(series), 8)]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        results = [
            r for part in pool.map(prophet_chunk, chunks, [horizon] * len(chunks)) for r in part
        ]
    return time.perf_counter() - started, results


def run_engine(
    series: list[MonthlySeries], options: ForecastOptions, workers: int
) -> tuple[float, list[SeriesForecast]]:
    started = time.perf_counter()
    forecasts = forecast_many(series, options, executor="process", workers=workers)
    return time.perf_counter() - started, forecasts


def held_back(series: list[MonthlySeries]) -> list[MonthlySeries]:
    return [
        MonthlySeries(series_id=s.series_id, start=s.start, values=s.values[:-HELD_BACK])
        for s in series
    ]


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> float:
    scale = float(np.mean(np.abs(train[12:] - train[:-12])))
    return float(np.mean(np.abs(actual - predicted))) / max(scale, 1e-9)


def seasonal_naive(train: np.ndarray, horizon: int) -> np.ndarray:
    return train[-12:][np.arange(horizon) % 12]


def accuracy(
    region: list[MonthlySeries],
    engine: list[SeriesForecast],
    prophet: list[list[list[float]]],
) -> dict[str, Any]:
    scores: dict[str, list[float]] = {"engine": [], "prophet": [], "seasonal_naive": []}
    inside80 = inside95 = prophet_inside = total = 0
    by_metric: dict[str, list[float]] = {}
    for series, forecast, (p_mean, p_lo, p_hi) in zip(region, engine, prophet, strict=True):
        values = np.asarray(series.values, dtype=float)
        train, actual = values[:-HELD_BACK], values[-HELD_BACK:]
        assert forecast.points[0].month == add_months(series.start, len(train))
        mean = np.array([p.mean for p in forecast.points])
        lo80 = np.array([p.lo80 for p in forecast.points])
        hi80 = np.array([p.hi80 for p in forecast.points])
        lo95 = np.array([p.lo95 for p in forecast.points])
        hi95 = np.array([p.hi95 for p in forecast.points])
        scores["engine"].append(mase(actual, mean, train))
        scores["prophet"].append(mase(actual, np.asarray(p_mean), train))
        scores["seasonal_naive"].append(mase(actual, seasonal_naive(train, HELD_BACK), train))
        metric = series.series_id.split("/")[1]
        by_metric.setdefault(metric, []).append(scores["engine"][-1] / scores["seasonal_naive"][-1])
        inside80 += int(np.sum((actual >= lo80) & (actual <= hi80)))
        inside95 += int(np.sum((actual >= lo95) & (actual <= hi95)))
        prophet_inside += int(np.sum((actual >= np.asarray(p_lo)) & (actual <= np.asarray(p_hi))))
        total += HELD_BACK
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    return {
        "mean_mase": means,
        "engine_over_seasonal_naive": means["engine"] / means["seasonal_naive"],
        "engine_over_prophet": means["engine"] / means["prophet"],
        "coverage80": inside80 / total,
        "coverage95": inside95 / total,
        "prophet_own_coverage80": prophet_inside / total,
        "median_ratio_to_seasonal_naive_by_metric": {
            m: float(np.median(v)) for m, v in by_metric.items()
        },
    }


def choices(forecasts: list[SeriesForecast]) -> dict[str, Any]:
    prophet_tested = sum(
        1 for f in forecasts for c in f.candidates if c.model == "prophet" and c.mase is not None
    )
    return {
        "chosen": dict(Counter(f.model for f in forecasts).most_common()),
        "prophet_backtested": prophet_tested,
        "series_with_notes_beyond_choice": sum(
            1
            for f in forecasts
            if any(not n.startswith(("chosen by", "intervals")) for n in f.notes)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="results JSON path")
    args = parser.parse_args()

    region = generate_region(args.seed)
    options = ForecastOptions()
    print(f"region: {len(region)} series x {MONTHS} months; workers {args.workers}")
    warm_up(args.workers)

    scheduled, prophet = [], []
    memory = []
    for _ in range(args.repeats):
        # Memory of the engine's run: this process, the fork server and the pool's workers.
        sampler = TreeSampler(os.getpid(), interval=0.1).start()
        seconds, full = run_engine(region, options, args.workers)
        memory.append(sampler.stop())
        scheduled.append(seconds)
        seconds, _ = run_prophet(region, options.horizon, args.workers)
        prophet.append(seconds)
    scheduled_s, prophet_s = statistics.median(scheduled), statistics.median(prophet)

    train = held_back(region)
    held_options = ForecastOptions(horizon=HELD_BACK)
    engine_held_s, engine_held = run_engine(train, held_options, args.workers)
    prophet_held_s, prophet_held = run_prophet(train, HELD_BACK, args.workers)
    scores = accuracy(region, engine_held, prophet_held)

    ratio = scheduled_s / prophet_s
    targets = {
        "time_ratio<=0.5": ratio <= 0.5,
        "mase<=0.85xseasonal_naive": scores["engine_over_seasonal_naive"] <= 0.85,
        "mase<=prophet": scores["engine_over_prophet"] <= 1.0,
        "coverage80_in_[0.75,0.85]": 0.75 <= scores["coverage80"] <= 0.85,
    }
    report = {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": multiprocessing.cpu_count(),
        },
        "seed": args.seed,
        "workers": args.workers,
        "region": {"authorities": AUTHORITIES, "series": len(region), "months": MONTHS},
        "timing": {
            "scheduled_run_s": round(scheduled_s, 2),
            "prophet_once_per_series_s": round(prophet_s, 2),
            "ratio": round(ratio, 3),
            "scheduled_runs_s": [round(s, 2) for s in scheduled],
            "prophet_runs_s": [round(s, 2) for s in prophet],
            "held_back_engine_s": round(engine_held_s, 2),
            "held_back_prophet_s": round(prophet_held_s, 2),
        },
        "memory_scheduled_run": max(memory, key=lambda m: m["peak_tree_rss_mib"]),
        "accuracy_held_back_year": scores,
        "scheduled_run": choices(full),
        "held_back_run": choices(engine_held),
        "targets_met": targets,
    }
    _print(report)
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.seed == DEFAULT_SEED else f"-seed{args.seed}"
    path = args.output or RESULTS / f"forecast-{date.today().isoformat()}{suffix}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {path}")


def _print(report: dict[str, Any]) -> None:
    timing, scores = report["timing"], report["accuracy_held_back_year"]
    mean = scores["mean_mase"]
    rows = [
        ("scheduled run, backtest selection (s)", f"{timing['scheduled_run_s']:.2f}", ""),
        ("Prophet defaults once per series (s)", f"{timing['prophet_once_per_series_s']:.2f}", ""),
        ("time ratio", f"{timing['ratio']:.3f}", "<= 0.5"),
        ("mean MASE, engine", f"{mean['engine']:.3f}", ""),
        ("mean MASE, Prophet", f"{mean['prophet']:.3f}", ""),
        ("mean MASE, seasonal naive", f"{mean['seasonal_naive']:.3f}", ""),
        ("engine / seasonal naive", f"{scores['engine_over_seasonal_naive']:.3f}", "<= 0.85"),
        ("engine / Prophet", f"{scores['engine_over_prophet']:.3f}", "<= 1.0"),
        ("80% interval coverage", f"{scores['coverage80']:.3f}", "0.75 - 0.85"),
        ("95% interval coverage", f"{scores['coverage95']:.3f}", ""),
        ("Prophet's own 80% coverage", f"{scores['prophet_own_coverage80']:.3f}", ""),
        (
            "peak memory of the scheduled run (MiB)",
            f"{report['memory_scheduled_run']['peak_tree_rss_mib']:.0f}",
            "this process + workers",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for label, value, target in rows:
        print(f"{label:<{width}}  {value:>8}  {target}")
    print(f"\nchosen (scheduled run): {report['scheduled_run']['chosen']}")
    print(f"Prophet backtested on {report['scheduled_run']['prophet_backtested']} series")
    print(f"targets met: {report['targets_met']}")


if __name__ == "__main__":
    main()
