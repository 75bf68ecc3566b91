#!/usr/bin/env python
"""Where a scheduled forecast run spends its time, per model and stage (issue 14).

    PYTHONPATH=. .venv/bin/python bench/forecast_profile.py [--panel synthetic,fresh,real]
        [--output bench/results/forecast-profile-<date>.json]

Runs `forecast_series` serially in this process on every series of each panel (default
options, the whole history, as the scheduled run does) with the engine's pieces wrapped in
timers: each model's full-history fit (for ETS, CES and ARIMA the form search), its backtest
fit before the first origin, its forward runs through the origins, the forecast made from
the full fit, and the rest (preparation, the log-scale test, selection, calibration,
intervals, sample paths). Prints seconds and shares of the total; no timed assertions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forecast import backtest as backtest_module  # noqa: E402
from forecast import engine  # noqa: E402
from forecast import statsforecast_models as sf  # noqa: E402
from forecast.types import ForecastOptions, MonthlySeries  # noqa: E402

TIMES: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)
_STACK: list[str] = []


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(key: Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` with its time added to TIMES[key(*args)], exclusive of nested timed calls."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = key(*args, **kwargs)
        started = time.perf_counter()
        _STACK.append(name)
        nested_before = TIMES["__nested__"]
        try:
            return function(*args, **kwargs)
        finally:
            _STACK.pop()
            elapsed = time.perf_counter() - started
            inner = TIMES["__nested__"] - nested_before
            TIMES[name] += elapsed - inner
            COUNTS[name] += 1
            TIMES["__nested__"] = nested_before + elapsed

    return wrapper


def _stage() -> str:
    """The engine stage the innermost timed caller is in ('full' or 'backtest')."""
    for name in reversed(_STACK):
        if name.startswith(("full ", "backtest ")):
            return name.split(" ")[0]
    return "other"


def instrument() -> None:
    """Wrap the engine's stages and the statsforecast models' fit, forecast and forward."""
    engine._FullFits._forecast = _timed(  # type: ignore[method-assign]
        lambda self, name, horizon: f"full {name}", engine._FullFits._forecast
    )
    backtest_module_run = backtest_module.run_backtest
    engine.run_backtest = _timed(lambda name, *a, **k: f"backtest {name}", backtest_module_run)
    model_fit = sf.StatsForecastModel.fit
    sf.StatsForecastModel.fit = _timed(  # type: ignore[method-assign]
        lambda self, *a, **k: f"{_stage()} {self.name}: fit", model_fit
    )
    fit_forecast = sf._StatsForecastFit.forecast
    sf._StatsForecastFit.forecast = _timed(  # type: ignore[method-assign]
        lambda self, *a, **k: f"{_stage()} {type(self.model).__name__}: forecast", fit_forecast
    )
    fit_forward = sf._StatsForecastFit.forward
    sf._StatsForecastFit.forward = _timed(  # type: ignore[method-assign]
        lambda self, *a, **k: f"{_stage()} {type(self.model).__name__}: forward", fit_forward
    )
    for name in ("prepare", "wants_log", "choose", "combine", "calibrate", "choice_note",
                 "prophet_skip_reason"):  # fmt: skip
        wrapped = _timed(lambda *a, _n=name, **k: f"engine {_n}", getattr(engine, name))
        setattr(engine, name, wrapped)
    engine.intervals = _timed(lambda *a, **k: "assemble intervals", engine.intervals)
    engine.sample_paths = _timed(lambda *a, **k: "assemble sample_paths", engine.sample_paths)
    engine._build = _timed(lambda *a, **k: "assemble build", engine._build)


def run(series: list[MonthlySeries], options: ForecastOptions) -> float:
    started = time.perf_counter()
    timed = _timed(lambda *a, **k: "engine (rest)", engine.forecast_series)
    for item in series:
        timed(item, options)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", default="synthetic,fresh")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    instrument()
    options = ForecastOptions()
    real_series = _load("real_series")
    panels = {
        "synthetic": lambda: _load("forecast").generate_region(2026),
        "real": real_series.real_panel,
        "fresh": real_series.fresh_panel,
    }
    report: dict[str, Any] = {"run_at": date.today().isoformat(), "panels": {}}
    run(panels["fresh"]()[:2], options)  # first calls (imports) off the clock
    for panel in args.panel.split(","):
        series = panels[panel]()
        TIMES.clear()
        COUNTS.clear()
        total = run(series, options)
        rows = sorted(
            ((k, v) for k, v in TIMES.items() if k != "__nested__"), key=lambda kv: -kv[1]
        )
        each = total / len(series) * 1000
        print(f"\n{panel}: {len(series)} series, {total:.2f} s serial ({each:.0f} ms a series)")
        for key, seconds in rows:
            print(f"  {key:<44} {seconds:8.3f} s {seconds / total:6.1%}  x{COUNTS[key]}")
        report["panels"][panel] = {
            "series": len(series),
            "total_s": round(total, 3),
            "stages": {k: {"s": round(v, 4), "share": round(v / total, 4), "calls": COUNTS[k]}
                       for k, v in rows},
        }  # fmt: skip
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
