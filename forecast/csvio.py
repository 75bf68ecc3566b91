"""Monthly series in and forecasts out as CSV: the core of `fostering forecast file`.

In: columns `series_id, month, value` (any order, header names case-insensitive), month as
YYYY-MM, value a number or empty for a month with no figure. Rows may come in any order; the
months a series skips become missing months. A series whose figures are all whole numbers of
zero or more is taken as a count (never forecast below zero). Out: one row per series and
forecast month: `series_id, month, model, mean, lo80, hi80, lo95, hi95`.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date

from forecast.months import month_label, months_between, parse_month
from forecast.types import ForecastOptions, MonthlySeries, SeriesForecast

INPUT_COLUMNS = ("series_id", "month", "value")
OUTPUT_COLUMNS = ("series_id", "month", "model", "mean", "lo80", "hi80", "lo95", "hi95")
MISSING = frozenset({"", "na", "n/a", "null"})
"""Values read as a month with no figure."""


def forecast_csv(
    text: str,
    options: ForecastOptions,
    *,
    executor: str = "process",
    workers: int | None = None,
) -> str:
    """The whole CSV command: read the series, forecast them, write the forecasts."""
    from forecast.engine import forecast_many

    series = read_series_csv(text)
    return write_forecast_csv(forecast_many(series, options, executor=executor, workers=workers))


def read_series_csv(text: str) -> list[MonthlySeries]:
    """The series in a CSV text, in order of first appearance; ValueError naming the line and
    column of the first problem."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ValueError("line 1: the file is empty; expected columns series_id, month, value")
    names = [cell.strip().lower() for cell in header]
    missing = [c for c in INPUT_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"line 1: missing column {', '.join(missing)}")
    extra = [c for c in names if c not in INPUT_COLUMNS]
    if extra:
        raise ValueError(f"line 1: unexpected column {', '.join(extra)}")
    duplicated = [c for c in INPUT_COLUMNS if names.count(c) > 1]
    if duplicated:
        raise ValueError(f"line 1: column {', '.join(duplicated)} appears twice")
    where = {name: names.index(name) for name in INPUT_COLUMNS}

    figures: dict[str, dict[date, tuple[float | None, int]]] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise ValueError(f"line {line}: expected {len(names)} columns, found {len(row)}")
        series_id = row[where["series_id"]].strip()
        if not series_id:
            raise ValueError(f"line {line}, column series_id: empty")
        try:
            month = parse_month(row[where["month"]])
        except ValueError as exc:
            raise ValueError(f"line {line}, column month: {exc}") from None
        value = _value(row[where["value"]], line)
        months = figures.setdefault(series_id, {})
        if month in months:
            first = months[month][1]
            raise ValueError(
                f"line {line}, column month: {series_id} {month_label(month)} already given "
                f"on line {first}"
            )
        months[month] = (value, line)
    if not figures:
        raise ValueError("line 2: no rows after the header")
    return [_series(series_id, months) for series_id, months in figures.items()]


def write_forecast_csv(forecasts: list[SeriesForecast]) -> str:
    """The forecasts as CSV text, one row per series and month (a series without a forecast
    contributes no rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for forecast in forecasts:
        for point in forecast.points:
            writer.writerow(
                (
                    forecast.series_id,
                    month_label(point.month),
                    forecast.model,
                    *(
                        _number(v)
                        for v in (point.mean, point.lo80, point.hi80, point.lo95, point.hi95)
                    ),
                )
            )
    return out.getvalue()


def _value(text: str, line: int) -> float | None:
    cleaned = text.strip()
    if cleaned.lower() in MISSING:
        return None
    try:
        value = float(cleaned.replace(",", ""))
    except ValueError:
        raise ValueError(f"line {line}, column value: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"line {line}, column value: {text.strip()!r} is not a finite number")
    return value


def _series(series_id: str, months: dict[date, tuple[float | None, int]]) -> MonthlySeries:
    start, end = min(months), max(months)
    values: list[float | None] = [None] * (months_between(start, end) + 1)
    for month, (value, _) in months.items():
        values[months_between(start, month)] = value
    observed = [v for v in values if v is not None]
    is_count = all(v >= 0 and v == int(v) for v in observed)
    return MonthlySeries(series_id=series_id, start=start, values=values, is_count=is_count)


def _number(value: float) -> str:
    """Three decimals at most, no trailing zeros, never "-0"."""
    text = f"{round(value, 3) + 0.0:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
