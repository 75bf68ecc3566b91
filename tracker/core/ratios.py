"""Shares as the service reports them: a ratio to four decimal places, None when undefined."""

from __future__ import annotations


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """`numerator / denominator` rounded to 4 places; None when either is missing or the
    denominator is zero (a share of nothing is not 0%)."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)
