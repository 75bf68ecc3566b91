"""Random draws the demo's generators share (each generator passes its own seeded RNG, so the
demo is reproducible)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tracker.enquiries.timeliness import LONDON


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (normal above a mean of 50)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def pick(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    """One option, drawn by its weight."""
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def at_work(day: date, rng: random.Random) -> datetime:
    """A time in the London working day of `day`, in UTC (for created and recorded times)."""
    start = datetime.combine(day, time(8, 30), tzinfo=LONDON)
    return (start + timedelta(minutes=rng.randint(0, 540))).astimezone(UTC)
