"""Quantiles read off a histogram of whole numbers (value, count), as numpy's default
("linear") method gives them on the values written out, without writing them out."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate

import numpy as np


class Histogram:
    """Whole-number values with their counts (a value may come more than once)."""

    def __init__(self, pairs: Iterable[tuple[int, int]]) -> None:
        merged: dict[int, int] = {}
        for value, count in pairs:
            if count > 0:
                merged[value] = merged.get(value, 0) + count
        self.values: Sequence[int] = sorted(merged)
        self.ends: Sequence[int] = list(accumulate(merged[v] for v in self.values))

    @classmethod
    def of(cls, values: Sequence[int], counts: Sequence[int]) -> Histogram:
        """The histogram of `values` with their `counts`, in any order and with repeats (a
        value written twice is read as once with both counts), sorted by numpy, not merged."""
        histogram = cls.__new__(cls)
        array = np.asarray(values)
        order = array.argsort(kind="stable")
        histogram.values = array[order]
        histogram.ends = np.asarray(counts, dtype=np.int64)[order].cumsum()
        return histogram

    @property
    def size(self) -> int:
        """How many values there are, counted with their repeats."""
        return int(self.ends[-1]) if len(self.ends) else 0

    def _at(self, position: int) -> int:
        """The value at a 0-based position of the sorted values written out."""
        return int(self.values[bisect_right(self.ends, position)])

    def quantile(self, share: float) -> float | None:
        """The `share` quantile (0 to 1) by linear interpolation between the nearest values,
        as `numpy.quantile(values, share)` (its virtual index and interpolation, step for
        step, so the two agree to the bit); None when empty."""
        n = self.size
        if n == 0:
            return None
        virtual = (n - 1) * share
        if virtual >= n - 1:
            return float(self._at(n - 1))
        below = max(math.floor(virtual), 0)
        gamma = virtual - below
        a, b = float(self._at(below)), float(self._at(below + 1))
        if gamma >= 0.5:
            return b - (b - a) * (1 - gamma)
        return a + (b - a) * gamma
