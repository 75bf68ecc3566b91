"""Where a target stands: the chance of meeting it, read off simulated sample paths, and the
status that chance gives, with the rule stated in every answer."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

import numpy as np

from tracker.targets.kinds import TargetSpec

ON_TRACK_AT = 0.7


AT_RISK_AT = 0.3


STATUS_RULE = (
    "on track when the chance of meeting the target is at least 70%, at risk when it is at "
    "least 30%, off track below 30%"
)


class Status(enum.StrEnum):
    """Where a target stands: from the chance of meeting it, or from the actual once its date
    has passed, or with no forecast at all."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_FORECAST = "no_forecast"
    MET = "met"
    MISSED = "missed"


def chance(spec: TargetSpec, values: np.ndarray, month: date) -> float | None:
    """The share of sample paths meeting the target at `month` (paths whose value is not a
    number are left out; None when none is left)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(np.mean(spec.meeting(finite, month)))


def chance_throughout(spec: TargetSpec, columns: Sequence[tuple[date, np.ndarray]]) -> float | None:
    """The share of sample paths meeting the target in every one of the months given (each
    month with its values per path); paths not a number in any month are left out."""
    if not columns:
        return None
    matrix = np.column_stack([values for _, values in columns])
    keep = np.isfinite(matrix).all(axis=1)
    if not keep.any():
        return None
    met = np.column_stack([spec.meeting(values, month) for month, values in columns])
    return float(np.mean(met[keep].all(axis=1)))


def status_of(probability: float) -> Status:
    """The status a chance of meeting the target gives (the rule in STATUS_RULE)."""
    if probability >= ON_TRACK_AT:
        return Status.ON_TRACK
    if probability >= AT_RISK_AT:
        return Status.AT_RISK
    return Status.OFF_TRACK
