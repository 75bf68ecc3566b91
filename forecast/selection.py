"""Choosing a model per series from its backtests, and saying why in plain words.

The default is a combination: the median of the forecasts of ETS, Theta and CES (MEMBERS; where
fewer than two of them ran, the best fitted models that did), whatever their backtest scores.
Every other candidate (each single model, the mean of the members, the baselines such as
seasonal naive, and Prophet where it is tried) is scored on the same origins, and replaces the
default only when it beat it clearly over the backtest: a one-sided Diebold-Mariano test at 5%
on the origins' MASE differences, with a Newey-West variance because nearby origins share most
of the months they forecast. The note names the candidates that did better but not clearly.
Without a combination (fewer than two fitted models ran, or none named) the lowest MASE wins.

Why a fixed combination as the default: a few dozen overlapping origins on a series of a few
years cannot tell the candidates apart reliably, so the one that did best is partly the
luckiest. Why the median of the three, each fitted on the log scale where a series' season
grows with its level (forecast/log_scale.py; issue 14, round 6): on the year before the
held-back one (bench/forecast_members.py's fixed rules, fitted once, on the 30 real, 19 fresh
and 125 remaining real series; never the held-back year) it scored 0.983, 0.750 and 0.922 of
AutoETS's MASE, against 1.003, 0.725 and 0.933 for the median on the figures and 0.995, 0.804
and 0.935 for round 3's mean on the figures (the mean with the log rule: 0.985, 0.812, 0.936).
The log rule's gain is small for these three (0.885 against 0.887 over the panels) and larger
for combinations with ARIMA; the median's is clearer: one member can run wild on a series,
which the median leaves out and the mean does not. The median of ETS, CES and ARIMA with the
log rule did better still (0.945, 0.669 and 0.892), but AutoARIMA's order search costs more
than the rest of the engine together, against the time budget. Why a clear winner may still
replace the default (round 3, kept in round 6): with the engine's backtest, letting a clear
winner (at 5%) replace the median scored 1.001, 0.712 and 0.920 of AutoETS's MASE on that
year, against 0.991, 0.754 and 0.918 for the median always and 1.007, 0.702 and 0.921 at 1%:
about the same over the three.

Prophet is the expensive member of the roster (a cmdstan run of 0.2 to 0.5 s per fit, against
milliseconds for the statsforecast models, which are also run forward through the backtest
without refitting, which Prophet cannot be). Tried wherever no fast model beat seasonal naive
(round 1), on 5 to 8 of the 30 real series, and chosen on the strength of its one test, it
helped on some and hurt on others, and its fits alone took the scheduled run over its time
budget. So it is now tried only where seasonal naive clearly beat the default and every fast
model (the fast models fail there): on a seasonal series of at least four years, fitted once,
at the latest origin with the whole horizon ahead, and it becomes the choice if it beats the
leader's forecast from that same origin; its score is that one forecast's, and the note says
so.
"""

from __future__ import annotations

import numpy as np

from forecast.backtest import Backtest
from forecast.types import DEFAULT_MEMBERS

PROPHET = "prophet"
BASELINES = ("seasonal_naive", "drift")
"""Roster names of the baselines (seasonal naive is plain naive under two years)."""
COMBINATIONS = {"combination_median": np.median, "combination_mean": np.mean}
"""Combination candidates by roster name, and how they combine their members' forecasts."""
DEFAULT = "combination_median"
"""The choice unless another candidate beats it clearly."""
SIGNIFICANCE_T = -1.645
"""One-sided 5% point of the normal: the test statistic a clear win must be below."""
LEVEL = "5%"
"""SIGNIFICANCE_T's level, as the notes say it."""
MEMBERS = DEFAULT_MEMBERS
"""The combinations' members, whatever their backtest scores (see the module's docstring);
ForecastOptions.members may name others."""
PROPHET_MIN_MONTHS = 48
"""Four years: two to fit at the earliest origin, the rest to test."""
LABELS = {
    "seasonal_naive": "seasonal naive",
    "naive": "naive (last value)",
    "drift": "drift",
    "ets": "exponential smoothing (ETS)",
    "ets_damped": "exponential smoothing (ETS, damped seasonal forms too)",
    "ets_figures": "exponential smoothing (ETS, on the figures)",
    "arima": "ARIMA",
    "sarima": "seasonal ARIMA (airline)",
    "theta": "Theta",
    "ces": "complex exponential smoothing (CES)",
    "croston": "Croston (SBA)",
    "prophet": "Prophet",
    "mean": "the mean",
    "combination_median": "median combination",
    "combination_mean": "mean combination",
}


def label(model: str) -> str:
    """A model's name for people."""
    return LABELS.get(model, model)


def is_fitted(name: str) -> bool:
    """A fitted single model: not a baseline, a combination or Prophet."""
    return name not in BASELINES and name not in COMBINATIONS and name != PROPHET


def combine(
    backtests: dict[str, Backtest], names: list[str], members: tuple[str, ...] = MEMBERS
) -> tuple[dict[str, Backtest], list[str]]:
    """The combinations' backtests, and their members: the fixed `members` that ran (by
    default ETS, Theta and CES), or, where fewer than two of them ran, as many of the best
    fitted models; none when fewer than two fitted models ran."""
    fixed = [backtests[m] for m in members if m in backtests and backtests[m].ok]
    fitted = rank([b for b in backtests.values() if is_fitted(b.model)])
    chosen = fixed if len(fixed) >= 2 else fitted[: len(members)]
    if len(chosen) < 2:
        return {}, []
    stack = np.stack([m.forecasts for m in chosen])
    combined = {
        name: chosen[0].with_forecasts(name, COMBINATIONS[name](stack, axis=0)) for name in names
    }
    return combined, [m.model for m in chosen]


def rank(backtests: list[Backtest]) -> list[Backtest]:
    """The backtests that ran, lowest MASE first (ties in roster order)."""
    ran = [b for b in backtests if b.ok]
    return sorted(ran, key=lambda b: b.mase if b.mase is not None else np.inf)


def choose(backtests: list[Backtest], horizon: int) -> list[Backtest]:
    """The candidates in order of preference: the default combination first unless another
    candidate beat it clearly over the backtest (then the best of those), the rest by MASE."""
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


def prophet_skip_reason(backtests: list[Backtest], length: int, horizon: int) -> str | None:
    """Why Prophet is not tried on this series, or None to try it: it is tried where seasonal
    naive clearly beat the default (or, without a default, every fast model)."""
    if length < PROPHET_MIN_MONTHS:
        return f"not tried: Prophet is tried from {PROPHET_MIN_MONTHS} months of history"
    baseline = next((b for b in backtests if b.model == "seasonal_naive" and b.ok), None)
    if baseline is None or baseline.mase is None:
        return None
    default = next((b for b in backtests if b.model == DEFAULT and b.ok), None)
    if default is not None:
        fitted = [b for b in backtests if b.ok and (b is default or is_fitted(b.model))]
        held = [b for b in fitted if not clearly_better(baseline, b, horizon)]
        if not held:
            return None
        return (
            f"not tried: seasonal naive did not clearly beat {label(held[0].model)} (MASE "
            f"{held[0].mase:.2f} against {baseline.mase:.2f}); Prophet is tried only where it "
            "clearly beat every faster model"
        )
    fast = rank([b for b in backtests if b.model not in BASELINES])
    if fast and fast[0].mase is not None and fast[0].mase < baseline.mase:
        return (
            f"not tried: {label(fast[0].model)} already beats seasonal naive (MASE "
            f"{fast[0].mase:.2f} against {baseline.mase:.2f}); Prophet is tried where no faster "
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
        best = rank([backtests[m] for m in members])[0]
        score += f" against {best.mase:.2f} for {words.name(best.model)} alone"
    if default is not None and default.ok and chosen.model == DEFAULT:
        text = (
            f"chosen by backtest: the {_how(DEFAULT)} of {words.members()} {span} ({score}); "
            "combining these models is the default, as it is usually more accurate than betting "
            "on the one that happened to do best in a short backtest"
        )
        lower = [b for b in ranking if b.mase is not None and b.mase < (chosen.mase or 0.0)]
        if lower:
            text += (
                f". {words.did_better(lower)}, but not clearly enough to replace it (a test over "
                f"the backtest at {LEVEL})"
            )
        return text + words.baseline_clause(chosen, lower)
    subject = (
        f"the {_how(chosen.model)} of {words.members()}" if chosen.model in COMBINATIONS else None
    )
    subject = subject or words.name(chosen.model)
    if default is not None and default.ok:
        return (
            f"chosen by backtest: {subject}, because it beat the {label(DEFAULT)} "
            f"clearly {span} ({score} against {default.mase:.2f}, a test at {LEVEL})"
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


def _how(combination: str) -> str:
    """How a combination combines ("median", "mean"), from its roster name."""
    return combination.removeprefix("combination_")


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
        f"chosen by backtest: Prophet, tried because the faster models did worse than "
        "seasonal naive; "
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
