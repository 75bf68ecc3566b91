"""Choosing a model per series from its backtests, and saying why in plain words.

The candidate with the lowest backtest MASE is the choice, baselines included: a fitted model
that did worse than repeating last year is never preferred to it. Combinations are candidates
like any other: the median and the mean of the three best fitted models' forecasts, scored on
the same origins (their members are picked by that same backtest, which flatters them a little;
the held-back benchmark in bench/forecast.py is what says whether they help).

Prophet is the expensive member of the roster (a cmdstan run of about 0.15 s per fit, against
milliseconds for the statsforecast models, which are also run forward through the backtest
without refitting, which Prophet cannot be). So it is tried only where the fast models fail: on
a seasonal series of at least four years where no fast model beats seasonal naive over the
backtest. There it is fitted once, at the latest origin with the whole horizon ahead, and
becomes the choice if it beats the leader's forecast from that same origin; its score is that
one forecast's, and the note says so (and says when seasonal naive did better overall).
"""

from __future__ import annotations

import numpy as np

from forecast.backtest import Backtest

PROPHET = "prophet"
BASELINES = frozenset({"seasonal_naive", "drift"})
"""Roster names of the baselines (seasonal naive is plain naive under two years)."""
COMBINATIONS = {"combination_median": np.median, "combination_mean": np.mean}
"""Combination candidates by roster name, and how they combine their members' forecasts."""
MEMBERS = 3
PROPHET_MIN_MONTHS = 48
"""Four years: two to fit at the earliest origin, the rest to test."""
LABELS = {
    "seasonal_naive": "seasonal naive",
    "naive": "naive (last value)",
    "drift": "drift",
    "ets": "exponential smoothing (ETS)",
    "arima": "ARIMA",
    "sarima": "seasonal ARIMA (airline)",
    "theta": "Theta",
    "ces": "complex exponential smoothing (CES)",
    "croston": "Croston (SBA)",
    "prophet": "Prophet",
    "mean": "the mean",
    "combination_median": "median of the three best models",
    "combination_mean": "mean of the three best models",
}


def label(model: str) -> str:
    """A model's name for people."""
    return LABELS.get(model, model)


def is_fitted(name: str) -> bool:
    """A fitted single model: not a baseline, a combination or Prophet."""
    return name not in BASELINES and name not in COMBINATIONS and name != PROPHET


def combine(
    backtests: dict[str, Backtest], names: list[str]
) -> tuple[dict[str, Backtest], list[str]]:
    """The combinations' backtests, and their members (the best fitted models, best first);
    none when fewer than two fitted models ran."""
    fitted = rank([b for b in backtests.values() if is_fitted(b.model)])
    members = fitted[:MEMBERS]
    if len(members) < 2:
        return {}, []
    stack = np.stack([m.forecasts for m in members])
    combined = {
        name: members[0].with_forecasts(name, COMBINATIONS[name](stack, axis=0)) for name in names
    }
    return combined, [m.model for m in members]


def rank(backtests: list[Backtest]) -> list[Backtest]:
    """The backtests that ran, lowest MASE first (ties in roster order)."""
    ran = [b for b in backtests if b.ok]
    return sorted(ran, key=lambda b: b.mase if b.mase is not None else np.inf)


def prophet_origin(origins: list[int], length: int, horizon: int) -> int:
    """Where Prophet is tested: the latest origin with the whole horizon still ahead."""
    return max(origins[0], length - horizon)


def challenge(ranking: list[Backtest], prophet: Backtest, origin: int) -> list[Backtest]:
    """Put Prophet first if it beats the current leader's forecast from its origin, else last."""
    if not prophet.ok:
        return ranking
    if not ranking:
        return [prophet]
    theirs = ranking[0].mase_at(origin)
    if theirs is None or (prophet.mase or 0.0) < theirs:
        return [prophet, *ranking]
    return [*ranking, prophet]


def prophet_skip_reason(backtests: list[Backtest], length: int) -> str | None:
    """Why Prophet is not tried on this series, or None to try it."""
    if length < PROPHET_MIN_MONTHS:
        return f"not tried: Prophet is tried from {PROPHET_MIN_MONTHS} months of history"
    baseline = next((b for b in backtests if b.model == "seasonal_naive" and b.ok), None)
    fast = rank([b for b in backtests if b.model not in BASELINES])
    if baseline is None or baseline.mase is None or not fast:
        return None
    best = fast[0]
    if best.mase is not None and best.mase < baseline.mase:
        return (
            f"not tried: {label(best.model)} already beats seasonal naive (MASE "
            f"{best.mase:.2f} against {baseline.mase:.2f}); Prophet is tried where no faster "
            "model does"
        )
    return None


def choice_note(
    chosen: Backtest,
    backtests: dict[str, Backtest],
    members: list[str],
    horizon: int,
    prophet_at: int | None,
) -> str:
    """Why the chosen model was chosen, in plain words, with the baseline's score beside it."""
    baseline = backtests.get("seasonal_naive")
    base = baseline.mase if baseline is not None and baseline.ok else None
    named = label(chosen.model)
    if chosen.model == PROPHET:
        return _prophet_note(chosen, backtests, base, prophet_at)
    span = _span(chosen, horizon)
    others = [b for b in rank(list(backtests.values())) if b.model != chosen.model]
    if chosen.model in BASELINES:
        fitted = [b for b in others if b.model not in BASELINES]
        if not fitted:
            return f"chosen by backtest: {named}, the only model that could be tested {span}"
        return (
            f"chosen by backtest: {named}, because no fitted model beat it {span}: the best, "
            f"{label(fitted[0].model)}, scored MASE {fitted[0].mase:.2f} against "
            f"{chosen.mase:.2f}"
        )
    against = f"; seasonal naive {base:.2f}" if base is not None else ""
    if chosen.model in COMBINATIONS:
        parts = ", ".join(label(m) for m in members)
        best = backtests[members[0]]
        return (
            f"chosen by backtest: the {named.split(' of ')[0]} of {parts} (the three best "
            f"single models), the lowest error {span}: MASE {chosen.mase:.2f} against "
            f"{best.mase:.2f} for {label(best.model)} alone{against}"
        )
    runner_up = f"; next best {label(others[0].model)} {others[0].mase:.2f}" if others else ""
    return (
        f"chosen by backtest: {named}, the lowest error {span}: MASE {chosen.mase:.2f}"
        f"{against}{runner_up}"
    )


def _span(backtest: Backtest, horizon: int) -> str:
    first, last = backtest.origins[0], backtest.origins[-1]
    return (
        f"over {len(backtest.origins)} backtest forecasts (from {first} to {last} months of "
        f"history, each up to {horizon} months ahead)"
    )


def _prophet_note(
    chosen: Backtest, backtests: dict[str, Backtest], base: float | None, at: int | None
) -> str:
    beaten = [b for b in rank(list(backtests.values())) if b.model != PROPHET]
    text = (
        f"chosen by backtest: Prophet, tried because no faster model beat seasonal naive; "
        f"its one test, the forecast from {at} months of history, scored MASE {chosen.mase:.2f}"
    )
    if beaten and at is not None and (theirs := beaten[0].mase_at(at)) is not None:
        text += f" against {theirs:.2f} for {label(beaten[0].model)} from the same month"
    if base is not None and chosen.mase is not None and chosen.mase > base:
        text += (
            f". Over the whole backtest seasonal naive scored {base:.2f}, better than Prophet's "
            "one test: treat this choice with care"
        )
    return text
