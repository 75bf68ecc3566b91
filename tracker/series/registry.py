"""Every monthly series, where it comes from, and the two ways it is read: all of an
authority's series for a forecast run, and one series over chosen months for a target.

Each source module lists its own families (`tracker.series.source.Family`): one series or a
set of parts ("households" by care type), which source builds it, whether it counts things,
whether forecast runs include it and, for a run, when it is worth forecasting.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import msgspec
from sqlalchemy.orm import Session

from forecast.months import month_start, months_from
from forecast.types import MonthlySeries
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.authorities import get_authority
from tracker.series import children, entered, funnel, register
from tracker.series.keys import SeriesKey
from tracker.series.source import Ask, Family, Keep, Source
from tracker.series.window import Span, history_start

FAMILIES: tuple[Family, ...] = (
    *funnel.FAMILIES,
    *register.FAMILIES,
    *children.FAMILIES,
    *entered.FAMILIES,
)
"""Every series family, in the order forecast runs store them."""
FORECAST_METRICS = frozenset(f.metric for f in FAMILIES if f.forecast)
"""The metrics forecast runs cover."""


def family_of(key: SeriesKey) -> Family:
    """The registry entry of a series; KeyError for a series no source builds."""
    for family in FAMILIES:
        if family.holds(key):
            return family
    raise KeyError(f"no source builds the series {key.metric}/{key.breakdown}")


class SeriesValues(msgspec.Struct, frozen=True, kw_only=True):
    """One series month by month from `start` (None: the records cannot speak for the month),
    and `label`, where its figures came from."""

    key: SeriesKey
    start: date
    values: list[float | None]
    label: str


def read(
    session: Session,
    code: str,
    key: SeriesKey,
    first: date,
    last: date,
    *,
    mapping: Mapping | None = None,
) -> SeriesValues:
    """One series for every month from `first`'s to `last`'s."""
    return read_many(session, code, [key], first, last, mapping=mapping)[0]


def read_many(
    session: Session,
    code: str,
    keys: list[SeriesKey],
    first: date,
    last: date,
    *,
    mapping: Mapping | None = None,
) -> list[SeriesValues]:
    """Several series over the same months (a rate's numerator and denominator, say), in the
    order asked, each source's records read once for all of them."""
    months = months_from(first, last)
    mapping = mapping or load_mapping()
    sources: dict[str, tuple[Source, list[SeriesKey]]] = {}
    for key in keys:
        source = family_of(key).source
        sources.setdefault(source.name, (source, []))[1].append(key)
    found: dict[SeriesKey, SeriesValues] = {}
    for source, wanted in sources.values():
        ask = Ask(session, code, months, mapping, {k.metric for k in wanted})
        frame = source.frame(ask)
        span = source.span(session, code)
        for key in wanted:
            values = span.masked(months, frame.values[key])
            found[key] = SeriesValues(key=key, start=months[0], values=values, label=frame.label)
    return [found[key] for key in keys]


def available(session: Session, code: str, key: SeriesKey) -> bool:
    """Whether the authority has any records the series is built from."""
    return family_of(key).source.available(session, code, key)


def _worth_forecasting(family: Family, values: list[float | None]) -> bool:
    if family.keep is Keep.KNOWN:
        return any(v is not None for v in values)
    if family.keep is Keep.ABOVE_ZERO:
        return any(v for v in values)
    return True


def series_for_authority(
    session: Session,
    code: str,
    cutoff: date,
    *,
    metrics: Collection[str] | None = None,
    mapping: Mapping | None = None,
) -> list[MonthlySeries]:
    """Every series a forecast run covers, full months only, ending with `cutoff`'s month (or
    the last month the records cover), at most ten years; `metrics` limits them to those."""
    get_authority(session, code)
    cutoff = month_start(cutoff)
    wanted = FORECAST_METRICS if metrics is None else FORECAST_METRICS & set(metrics)
    mapping = mapping or load_mapping()
    frames: dict[str, tuple[date, dict[SeriesKey, list[float | None]]] | None] = {}
    result: list[MonthlySeries] = []
    for family in FAMILIES:
        if not family.forecast or family.metric not in wanted:
            continue
        source = family.source
        if source.name not in frames:
            frames[source.name] = _forecast_frame(session, code, source, cutoff, mapping, wanted)
        framed = frames[source.name]
        if framed is None:
            continue
        start, values = framed
        for key, series in values.items():
            if family.holds(key) and _worth_forecasting(family, series):
                result.append(
                    MonthlySeries(
                        series_id=key.id_for(code),
                        start=start,
                        values=series,
                        is_count=family.is_count,
                    )
                )
    return result


def _forecast_frame(
    session: Session,
    code: str,
    source: Source,
    cutoff: date,
    mapping: Mapping,
    metrics: Collection[str],
) -> tuple[date, dict[SeriesKey, list[float | None]]] | None:
    """A source's series over the months a forecast run gives it (None: no such months)."""
    span: Span = source.span(session, code)
    end = cutoff if span.last is None else min(cutoff, span.last)
    start = history_start(span.first, end)
    if start is None:
        return None
    frame = source.frame(Ask(session, code, months_from(start, end), mapping, metrics))
    return start, frame.values
