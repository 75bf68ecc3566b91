#!/usr/bin/env python
"""Single models and fixed combinations, off the shelf, on the real panels: where the engine
loses to AutoETS alone.

    .venv/bin/python bench/forecast_members.py [--year validation|held-back|both] [--workers 2]
        [--panel real,fresh,remaining]

Each statsforecast model (AutoETS, AutoETS without damping, AutoTheta, Dynamic Optimized Theta,
AutoCES, AutoARIMA with orders up to 2, seasonal naive) is fitted once per series on every month
before the scored year and forecasts its 12 months, with no backtest and no choice; fixed
combinations (the mean or median of every set of two to five of the fitted models) are scored
the same way, as is the engine with its default roster and with ETS alone. "validation" scores
the year before the held-back one (train on all but the last 24 months), the year design choices
may look at; "held-back" scores the last year (bench/forecast.py's held-back year), which they
must not. MASE as in bench/forecast.py (scaled by seasonal naive's in-sample error), averaged
over series and printed as ratios to seasonal naive's and to AutoETS's mean.

Results go to the terminal and bench/results/forecast-members-<date>.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))
sys.path.append(str(BENCH))

import msgspec  # noqa: E402
import numpy as np  # noqa: E402
from real_series import fresh_panel, real_panel, remaining_panel  # noqa: E402

from forecast.engine import forecast_many  # noqa: E402
from forecast.types import ForecastOptions, MonthlySeries  # noqa: E402

HORIZON = 12
POOL = ("ets", "theta", "dotm", "ces", "arima")
"""The models the fixed combinations are made of."""
YEARS = {"validation": 24, "held-back": 12}
"""Months cut from the end of each series before fitting; the next 12 are scored."""


def _models() -> dict[str, Any]:
    from statsforecast.models import (
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        DynamicOptimizedTheta,
        SeasonalNaive,
    )

    return {
        "ets": lambda: AutoETS(season_length=12),
        "ets_undamped": lambda: AutoETS(season_length=12, damped=False),
        "theta": lambda: AutoTheta(season_length=12),
        "dotm": lambda: DynamicOptimizedTheta(season_length=12),
        "ces": lambda: AutoCES(season_length=12),
        "arima": lambda: AutoARIMA(season_length=12, max_p=2, max_q=2, max_P=1, max_Q=1),
        "seasonal_naive": lambda: SeasonalNaive(season_length=12),
    }


def _split(series: MonthlySeries, cut: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(series.values, dtype=float)
    return values[: len(values) - cut], values[len(values) - cut :][:HORIZON]


def _fit_all(task: tuple[MonthlySeries, int]) -> dict[str, list[float] | None]:
    series, cut = task
    train, _ = _split(series, cut)
    out: dict[str, list[float] | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, build in _models().items():
            try:
                point = np.asarray(build().fit(train).predict(HORIZON)["mean"], dtype=float)
                out[name] = point.tolist() if np.all(np.isfinite(point)) else None
            except Exception:  # a model that cannot fit this series takes no part
                out[name] = None
    return out


def _engine(panel: list[MonthlySeries], cut: int, models: tuple[str, ...] | None) -> list[Any]:
    cut_panel = [msgspec.structs.replace(s, values=s.values[: len(s.values) - cut]) for s in panel]
    options = ForecastOptions(horizon=HORIZON)
    if models is not None:
        options = msgspec.structs.replace(options, models=models)
    forecasts = forecast_many(cut_panel, options, executor="serial")
    return [[p.mean for p in f.points] for f in forecasts]


def _mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray) -> float:
    scale = float(np.mean(np.abs(train[12:] - train[:-12])))
    return float(np.mean(np.abs(actual - predicted))) / max(scale, 1e-9)


def score(panel: list[MonthlySeries], cut: int, workers: int) -> dict[str, float]:
    """Mean MASE of every single model, fixed combination and engine setting on one year."""
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        fits = list(pool.map(_fit_all, [(s, cut) for s in panel]))
    engine = {
        "engine (default roster)": _engine(panel, cut, None),
        "engine (ETS alone)": _engine(panel, cut, ("ets",)),
    }
    scores: dict[str, list[float]] = {}
    for i, (series, fitted) in enumerate(zip(panel, fits, strict=True)):
        train, actual = _split(series, cut)
        fallback = np.asarray(fitted["seasonal_naive"])
        points = {k: np.asarray(v) if v is not None else fallback for k, v in fitted.items()}
        for name, point in points.items():
            scores.setdefault(name, []).append(_mase(actual, point, train))
        for size in (2, 3, 4, 5):
            for members in itertools.combinations(POOL, size):
                stack = np.vstack([points[m] for m in members])
                for how, combine in (("mean", np.mean), ("median", np.median)):
                    if how == "median" and size == 2:
                        continue  # the median of two is their mean
                    name = f"{how}({', '.join(members)})"
                    scores.setdefault(name, []).append(_mase(actual, combine(stack, axis=0), train))
        for name, forecasts in engine.items():
            scores.setdefault(name, []).append(_mase(actual, np.asarray(forecasts[i]), train))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", choices=[*YEARS, "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--panel", default="real,fresh", help="comma-separated: real, fresh, remaining"
    )
    parser.add_argument("--top", type=int, default=12, help="rows printed per panel and year")
    args = parser.parse_args()
    years = list(YEARS) if args.year == "both" else [args.year]
    report: dict[str, Any] = {"run_at": datetime.now(UTC).isoformat(timespec="seconds")}
    panels = {"real": real_panel, "fresh": fresh_panel, "remaining": remaining_panel}
    for panel_name in args.panel.split(","):
        panel = panels[panel_name]()
        for year in years:
            means = score(panel, YEARS[year], args.workers)
            naive, ets = means["seasonal_naive"], means["ets"]
            rows = {
                name: {"mase": m, "over_seasonal_naive": m / naive, "over_autoets": m / ets}
                for name, m in sorted(means.items(), key=lambda item: item[1])
            }
            report[f"{panel_name}/{year}"] = {"series": len(panel), "models": rows}
            print(f"\n{panel_name} panel ({len(panel)} series), {year} year")
            print(f"{'':44s} {'MASE':>6s} {'/ s.naive':>9s} {'/ AutoETS':>9s}")
            fixed = ["ets", "engine (default roster)", "engine (ETS alone)", "seasonal_naive"]
            top = list(rows)[: args.top]
            shown = top + [name for name in fixed if name not in top]
            for name in shown:
                row = rows[name]
                print(
                    f"{name:44s} {row['mase']:6.3f} {row['over_seasonal_naive']:9.3f} "
                    f"{row['over_autoets']:9.3f}"
                )
    suffix = "" if args.panel == "real,fresh" else "-" + args.panel.replace(",", "-")
    out = ROOT / "bench" / "results" / f"forecast-members-{report['run_at'][:10]}{suffix}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
