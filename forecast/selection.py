"""Choosing a model per series from its backtests, and when Prophet is tried.

The fitted model (ETS, SARIMA, Prophet) with the lowest backtest MASE is the choice, unless a
baseline (seasonal naive, drift) beats it at every backtest origin. The fitted models contain
the baselines as special cases (Holt-Winters with full smoothing is seasonal naive, SARIMA
nests the random walk), so a baseline that wins by a hair on three origins has mostly won by
chance; measured on synthetic regions, picking it on the mean alone made forecasts worse than
always using the fitted model, while asking it to win at every origin did not.

Prophet is the expensive member of the roster (a cmdstan run of about 0.15 s per fit, against
about 5 ms for Holt-Winters), and in the benchmark it was no more accurate than the fast
fitted models on the series where they work. So it is tried only where they do not: on a series
of at least four years where neither ETS nor SARIMA beats seasonal naive over the backtest.
There it is fitted at the latest origin only, and becomes the choice if it beats the chosen
model at that origin. Its recorded score is that one origin's, with a note saying so.
"""

from __future__ import annotations

from forecast.backtest import Backtest

PROPHET = "prophet"
BASELINES = frozenset({"seasonal_naive", "drift"})
"""Roster names of the baselines (seasonal naive is plain naive under two years)."""
FAST_FITTED = ("ets", "sarima")
PROPHET_MIN_MONTHS = 48
"""Four years: two to fit at the earliest origin, the rest to test."""


def rank(backtests: list[Backtest]) -> list[Backtest]:
    """The backtests that ran, best first (see the module docstring for the rule)."""
    ran = [b for b in backtests if b.ok]
    order = {id(b): i for i, b in enumerate(ran)}

    def by_score(items: list[Backtest]) -> list[Backtest]:
        return sorted(items, key=lambda b: (b.mase, order[id(b)]))

    fitted = by_score([b for b in ran if b.model not in BASELINES])
    baselines = by_score([b for b in ran if b.model in BASELINES])
    if not fitted:
        return baselines
    promoted = [b for b in baselines if _beats_everywhere(b, fitted[0])]
    return promoted + fitted + [b for b in baselines if b not in promoted]


def challenge(ranking: list[Backtest], prophet: Backtest) -> list[Backtest]:
    """Put Prophet first if it beats the current choice at the latest origin, else last."""
    if not prophet.ok:
        return ranking
    if not ranking:
        return [prophet]
    leader = ranking[0]
    if prophet.origin_mase[-1] < leader.origin_mase[-1]:
        return [prophet, *ranking]
    return [*ranking, prophet]


def prophet_skip_reason(backtests: list[Backtest], length: int) -> str | None:
    """Why Prophet is not tried on this series, or None to try it."""
    if length < PROPHET_MIN_MONTHS:
        return f"not tried: Prophet is tried from {PROPHET_MIN_MONTHS} months of history"
    baseline = next((b for b in backtests if b.model == "seasonal_naive" and b.ok), None)
    fast = [b for b in backtests if b.model in FAST_FITTED and b.ok]
    if baseline is None or baseline.mase is None or not fast:
        return None
    best = min(fast, key=lambda b: b.mase or 0.0)
    if best.mase is not None and best.mase < baseline.mase:
        return (
            f"not tried: {_label(best.model)} already beats seasonal naive (MASE "
            f"{best.mase:.2f} against {baseline.mase:.2f}); Prophet is tried where ETS and "
            "SARIMA do not"
        )
    return None


def _beats_everywhere(baseline: Backtest, fitted: Backtest) -> bool:
    ours, theirs = baseline.origin_mase, fitted.origin_mase
    return len(ours) == len(theirs) and bool((ours < theirs).all())


def _label(model: str) -> str:
    return {"ets": "ETS", "sarima": "SARIMA"}.get(model, model)
