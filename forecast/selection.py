"""Choosing a model per series from its backtests, and saying why in plain words.

The combinations are candidates like any other: the median and the mean of the forecasts of
the three fitted models with the lowest backtest MASE, scored on the same origins. The mean of
the three best is the default choice; another candidate (a single model, the median, or a
baseline such as seasonal naive) replaces it only when it beat it clearly over the backtest: a
one-sided Diebold-Mariano test at 5% on the origins' MASE differences, with a Newey-West
variance because origins a month apart share most of the months they forecast. Without a
combination (fewer than two fitted models ran, or none named) the lowest MASE wins.

Why not simply the lowest backtest MASE: with a few dozen overlapping origins and nine
candidates, the one that did best is partly the luckiest, and averaging forecasts is the
steadier bet (combinations won the M4 competition). Measured on the year before the held-back
one (bench/forecast.py --validation, which never looks at the held-back year; 2026-12-03) the
two rules came out even: the lowest-MASE rule 0.784 of seasonal naive's MASE on the real
series and 0.756 on the synthetic region, this rule 0.796 and 0.747, with 80% ranges covering
0.71 and 0.81 against 0.71 and 0.82 of that year. When a candidate did better in the backtest
but not clearly, the note says so, and names seasonal naive whenever it was one of them.

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
DEFAULT = "combination_mean"
"""The choice unless another candidate beats it clearly."""
SIGNIFICANCE_T = -1.645
"""One-sided 5% point of the normal: the test statistic a clear win must be below."""
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


def choose(backtests: list[Backtest], horizon: int) -> list[Backtest]:
    """The candidates in order of preference: the default combination first unless a
    candidate beats it clearly (then the best of those), the rest by MASE."""
    ranking = rank(backtests)
    default = next((b for b in ranking if b.model == DEFAULT), None)
    if default is None:
        return ranking
    better = [b for b in ranking[: ranking.index(default)] if clearly_better(b, default, horizon)]
    first = better[0] if better else default
    return [first, *[b for b in ranking if b is not first]]


def clearly_better(ours: Backtest, theirs: Backtest, horizon: int) -> bool:
    """A one-sided Diebold-Mariano test at 5% on the origins' MASE differences, with a
    Newey-West variance (origins a month apart share most of their months ahead), never taken
    below the plain variance: a pattern that cancels out is no evidence of a clear win."""
    d = ours.origin_mase - theirs.origin_mase
    n = len(d)
    if n < 3 or np.mean(d) >= 0:
        return False
    centred = d - np.mean(d)
    plain = float(np.mean(centred**2))
    lags = min(horizon, n - 1)
    variance = plain + sum(
        2 * (1 - lag / (lags + 1)) * float(np.mean(centred[lag:] * centred[:-lag]))
        for lag in range(1, lags + 1)
    )
    variance = max(variance, plain)
    if variance == 0:
        return True
    return float(np.mean(d)) / np.sqrt(variance / n) < SIGNIFICANCE_T


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
    seasonal: bool = True,
) -> str:
    """Why the chosen model was chosen, in plain words, with the baseline's score beside it
    (the baseline is plain naive, the last value, on a series too short to be seasonal)."""
    words = _Words(backtests, members, seasonal)
    if chosen.model == PROPHET:
        return _prophet_note(chosen, words, prophet_at)
    span = _span(chosen, horizon)
    ranking = rank(list(backtests.values()))
    default = backtests.get(DEFAULT)
    score = f"MASE {chosen.mase:.2f}"
    if chosen.model in COMBINATIONS:
        best = backtests[members[0]]
        score += f" against {best.mase:.2f} for {words.name(best.model)} alone"
    if default is not None and default.ok and chosen.model == DEFAULT:
        text = (
            f"chosen by backtest: the mean of {words.members()}, the three best single models "
            f"{span} ({score}); averaging several models is the default, as it is usually more "
            "accurate than betting on the one that happened to do best"
        )
        lower = [b for b in ranking if b.mase is not None and b.mase < (chosen.mase or 0.0)]
        if lower:
            text += (
                f". {words.did_better(lower)}, but not clearly enough to replace it (a test over "
                "the backtest at 5%)"
            )
        return text + words.baseline_clause(chosen, lower)
    subject = f"the median of {words.members()}" if chosen.model in COMBINATIONS else None
    subject = subject or words.name(chosen.model)
    if default is not None and default.ok:
        return (
            f"chosen by backtest: {subject}, because it beat the mean of the three best models "
            f"clearly {span} ({score} against {default.mase:.2f}, a test at 5%)"
            + words.baseline_clause(chosen, [])
        )
    fitted = [b for b in ranking if b.model not in BASELINES]
    if chosen.model in BASELINES and fitted:
        return (
            f"chosen by backtest: {subject}, because no fitted model beat it {span}: the best, "
            f"{words.name(fitted[0].model)}, scored MASE {fitted[0].mase:.2f} against "
            f"{chosen.mase:.2f}"
        )
    return f"chosen by backtest: {subject}, the lowest error {span} ({score})" + (
        words.baseline_clause(chosen, [])
    )


class _Words:
    """Names and comparisons for the notes of one series."""

    def __init__(self, backtests: dict[str, Backtest], members: list[str], seasonal: bool):
        self.backtests, self.members_, self.seasonal = backtests, members, seasonal

    def name(self, model: str) -> str:
        if model == "seasonal_naive" and not self.seasonal:
            return label("naive")
        return label(model)

    def members(self) -> str:
        return _names_text([self.name(m) for m in self.members_])

    def did_better(self, lower: list[Backtest]) -> str:
        text = _names_text([f"{self.name(b.model)} ({b.mase:.2f})" for b in lower])
        return f"{text[:1].upper()}{text[1:]} did better in the backtest"

    def baseline_clause(self, chosen: Backtest, said: list[Backtest]) -> str:
        """The baseline's score, unless it is the choice or already named."""
        baseline = self.backtests.get("seasonal_naive")
        if baseline is None or not baseline.ok or baseline is chosen or baseline in said:
            return ""
        name = self.name(baseline.model)
        if baseline.mase is not None and chosen.mase is not None and baseline.mase < chosen.mase:
            return f"; {name} did better in the backtest ({baseline.mase:.2f})"
        return f"; {name} scored {baseline.mase:.2f}"


def _names_text(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _span(backtest: Backtest, horizon: int) -> str:
    first, last = backtest.origins[0], backtest.origins[-1]
    return (
        f"over {len(backtest.origins)} backtest forecasts (from {first} to {last} months of "
        f"history, each up to {horizon} months ahead)"
    )


def _prophet_note(chosen: Backtest, words: _Words, at: int | None) -> str:
    beaten = [b for b in rank(list(words.backtests.values())) if b.model != PROPHET]
    text = (
        f"chosen by backtest: Prophet, tried because no faster model beat seasonal naive; "
        f"its one test, the forecast from {at} months of history, scored MASE {chosen.mase:.2f}"
    )
    if beaten and at is not None and (theirs := beaten[0].mase_at(at)) is not None:
        text += f" against {theirs:.2f} for {words.name(beaten[0].model)} from the same month"
    baseline = words.backtests.get("seasonal_naive")
    base = baseline.mase if baseline is not None and baseline.ok else None
    if base is not None and chosen.mase is not None and chosen.mase > base:
        text += (
            f". Over the whole backtest seasonal naive did better ({base:.2f}) than Prophet's "
            "one test: treat this choice with care"
        )
    return text
