"""The metrics strategy targets are measured on: for each, its label, the unit its gaps are
counted in, its shape (how a value at a month is measured, see `forecast.target_paths`), where
its monthly actuals come from and which stored forecast series, if any, forecasts it.

Actuals are monthly: a level at the month's end, a count of events in the month, or the
numerator and denominator of a proportion. Months the data cannot speak for are None, never
zero: before the register records leavers or enquiries start (register and funnel metrics),
outside the SSDA903 collection years imported, or months not entered by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecast.months import add_months, month_end, month_start, months_between
from tracker.capacity.figures import ChildrenInCareFigure, PlaceCounts, monthly_flows
from tracker.children import figures
from tracker.children.mapping import Mapping, load_mapping
from tracker.children.tables import CareEpisode, MonthlyAggregate
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError
from tracker.enquiries.funnel import monthly_series
from tracker.enquiries.service import Enquiry
from tracker.forecasting.runs import register_start, series_id_of
from tracker.households.care_types import HouseholdCareType, PlacementCategory
from tracker.targets.paths import History, Kind, Shape

IN_HOUSE = HouseholdCareType.IN_HOUSE.value
IN_HOUSE_FOSTER = PlacementCategory.IN_HOUSE_FOSTER.value
LEVEL_KINDS = [Kind.COMPOUND_GROWTH, Kind.LEVEL_BY_DATE, Kind.FLOOR, Kind.BAND]
FLOW_KINDS = [Kind.ANNUAL_COUNT, *LEVEL_KINDS]
PROPORTION_KINDS = [Kind.LEVEL_BY_DATE, Kind.FLOOR, Kind.BAND]


class MetricKey(enum.StrEnum):
    """The metrics a target can be set on."""

    INHOUSE_FOSTER_CHILDREN = "inhouse_foster_children"
    CHILDREN_IN_CARE = "children_in_care"
    INHOUSE_HOUSEHOLDS = "inhouse_households"
    SUPPORTED_LODGINGS_HOSTS = "supported_lodgings_hosts"
    APPROVALS = "approvals"
    ENQUIRIES = "enquiries"
    STAYING_PUT_RATE = "staying_put_rate"
    INHOUSE_OCCUPANCY = "inhouse_occupancy"


class Metric(msgspec.Struct, frozen=True, kw_only=True):
    """A metric as the registry describes it: `unit` is the noun its gaps are counted in,
    `measured` how its value at a month is taken, `kinds` the target kinds it takes, and
    `recruitment` whether recruiting carers moves it (so a work-back applies)."""

    key: MetricKey
    label: str
    unit: str
    shape: Shape
    percent: bool
    measured: str
    actuals_from: str
    forecast_from: str
    kinds: list[Kind]
    recruitment: bool


class Actuals(msgspec.Struct, frozen=True, kw_only=True):
    """A metric's monthly actuals from `start`: levels, counts or numerators in `values`,
    denominators for a proportion; `source` says where they come from, `series_id` names the
    stored forecast series (or, for a proportion, the id its on-demand model is fitted as)."""

    metric: MetricKey
    start: date
    values: list[float | None]
    denominators: list[float | None] | None = None
    source: str
    series_id: str
    notes: list[str] = msgspec.field(default_factory=list)

    def history(self) -> History:
        """The actuals as `forecast.target_paths` takes them."""
        return History(start=self.start, values=self.values, denominators=self.denominators)


_MONTH_END = "its value at the end of each month"
_YEAR_SUM = (
    "the sum over the 12 months ending with each month (year to date, years ending 31 March, "
    "for an annual count)"
)
METRICS: dict[MetricKey, Metric] = {
    m.key: m
    for m in (
        Metric(
            key=MetricKey.INHOUSE_FOSTER_CHILDREN,
            label="children cared for by in-house foster carers",
            unit="children in in-house foster care",
            shape=Shape.LEVEL,
            percent=False,
            measured=_MONTH_END,
            actuals_from=(
                "SSDA903 episodes (or monthly figures) in the in-house foster category when the "
                "authority has them, else filled places of in-house households in the register"
            ),
            forecast_from=(
                "the stored forecast of children_in_care/category=in_house_foster, or of "
                "filled_places/care_type=in_house"
            ),
            kinds=LEVEL_KINDS,
            recruitment=True,
        ),
        Metric(
            key=MetricKey.CHILDREN_IN_CARE,
            label="children in care",
            unit="children in care",
            shape=Shape.LEVEL,
            percent=False,
            measured=_MONTH_END,
            actuals_from=(
                "SSDA903 episodes (or monthly figures), else the children-in-care figures "
                "entered, in the months they are dated"
            ),
            forecast_from="the stored forecast of children_in_care/total",
            kinds=LEVEL_KINDS,
            recruitment=False,
        ),
        Metric(
            key=MetricKey.INHOUSE_HOUSEHOLDS,
            label="in-house fostering households",
            unit="in-house fostering households",
            shape=Shape.LEVEL,
            percent=False,
            measured=_MONTH_END,
            actuals_from="the household register: in-house households active or on hold",
            forecast_from="the stored forecast of households/care_type=in_house",
            kinds=LEVEL_KINDS,
            recruitment=True,
        ),
        Metric(
            key=MetricKey.SUPPORTED_LODGINGS_HOSTS,
            label="supported lodgings hosts",
            unit="supported lodgings hosts",
            shape=Shape.LEVEL,
            percent=False,
            measured=_MONTH_END,
            actuals_from="the household register: supported lodgings households",
            forecast_from="the stored forecast of households/care_type=supported_lodgings",
            kinds=LEVEL_KINDS,
            recruitment=True,
        ),
        Metric(
            key=MetricKey.APPROVALS,
            label="households approved",
            unit="households approved",
            shape=Shape.FLOW,
            percent=False,
            measured=_YEAR_SUM,
            actuals_from="the recruitment funnel: enquiries approved in each month",
            forecast_from="the stored forecast of approvals/total",
            kinds=FLOW_KINDS,
            recruitment=True,
        ),
        Metric(
            key=MetricKey.ENQUIRIES,
            label="enquiries received",
            unit="enquiries",
            shape=Shape.FLOW,
            percent=False,
            measured=_YEAR_SUM,
            actuals_from="the recruitment funnel: enquiries received in each month",
            forecast_from="the stored forecast of enquiries/total",
            kinds=FLOW_KINDS,
            recruitment=False,
        ),
        Metric(
            key=MetricKey.STAYING_PUT_RATE,
            label="Staying Put rate",
            unit="percentage points",
            shape=Shape.PROPORTION_FLOW,
            percent=True,
            measured=(
                "young people living with their former foster carers as a percentage of those "
                "who left foster care on their 18th birthday and were eligible for care-leaver "
                "support, as DfE publishes it (the notes give the definition), over the 12 "
                "months ending with each month"
            ),
            actuals_from="SSDA903 episodes and OC3 (or monthly figures entered)",
            forecast_from="a proportion model fitted on demand to the stayed and leavers counts",
            kinds=PROPORTION_KINDS,
            recruitment=False,
        ),
        Metric(
            key=MetricKey.INHOUSE_OCCUPANCY,
            label="in-house foster care occupancy",
            unit="percentage points",
            shape=Shape.PROPORTION_STOCK,
            percent=True,
            measured=(
                "filled places of in-house households as a percentage of their available places "
                "(approved less unavailable) at the end of each month"
            ),
            actuals_from="the household register",
            forecast_from="a proportion model fitted on demand to filled and available places",
            kinds=PROPORTION_KINDS,
            recruitment=False,
        ),
    )
}


def get_metric(key: str) -> Metric:
    """The metric with this key; InvalidValueError naming `metric` for an unknown one."""
    try:
        return METRICS[MetricKey(key)]
    except ValueError:
        known = ", ".join(METRICS)
        raise InvalidValueError(f"no metric {key!r}: use one of {known}", field="metric") from None


def list_metrics() -> list[Metric]:
    """Every metric of the registry."""
    return list(METRICS.values())


# --- where the figures come from -------------------------------------------------------------


def _ssda903_span(session: Session, code: str) -> tuple[date, date] | None:
    """The months the SSDA903 episodes cover: April of the first collection year imported to
    March of the last (None without episodes)."""
    first, last = session.execute(
        select(func.min(CareEpisode.source_year), func.max(CareEpisode.source_year)).where(
            CareEpisode.authority_code == code
        )
    ).one()
    if first is None:
        return None
    return date(first - 1, 4, 1), date(last, 3, 1)


def _has_aggregates(
    session: Session, code: str, metric: figures.Metric, breakdown: str | None
) -> bool:
    """Whether figures of the metric (of one breakdown, or any) were entered by hand."""
    a = MonthlyAggregate
    query = select(a.id).where(a.authority_code == code, a.metric == metric.value)
    if breakdown is not None:
        query = query.where(a.breakdown == breakdown)
    return session.scalar(query.limit(1)) is not None


def _first_full_month(day: date | None) -> date | None:
    if day is None:
        return None
    return day if day.day == 1 else add_months(month_start(day), 1)


def _within(
    months: list[date], values: list[float | None], first: date | None, last: date | None
) -> list[float | None]:
    """Values outside [first, last] set to None (the data cannot speak for them)."""
    return [
        None if (first is None or m < first or (last is not None and m > last)) else v
        for m, v in zip(months, values, strict=True)
    ]


@dataclass(frozen=True)
class _Context:
    session: Session
    code: str
    months: list[date]
    mapping: Mapping

    @property
    def first(self) -> date:
        return self.months[0]

    @property
    def last_day(self) -> date:
        return month_end(self.months[-1])


def _floats(values: list[int | None] | list[int]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _register(
    ctx: _Context, care_type: str, pick: Callable[[PlaceCounts], tuple[int, int | None]]
) -> tuple[list[float | None], list[float | None]]:
    """(values, denominators) of a care type's month-end place counts, None before the register
    can be trusted."""
    flows = monthly_flows(ctx.session, ctx.code, ctx.first, ctx.last_day, by_care_type=True)
    values: list[float | None] = []
    denominators: list[float | None] = []
    for f in flows:
        assert f.by_care_type is not None
        value, denominator = pick(f.by_care_type[care_type])
        values.append(float(value))
        denominators.append(None if denominator is None else float(denominator))
    start = _first_full_month(register_start(ctx.session, ctx.code))
    return _within(ctx.months, values, start, None), _within(ctx.months, denominators, start, None)


def _children(ctx: _Context, category: str | None) -> tuple[list[float | None], str]:
    """Children in care at each month end (of one placement category, or all)."""
    span = _ssda903_span(ctx.session, ctx.code)
    metric = figures.Metric.CHILDREN_IN_CARE
    if span is not None or _has_aggregates(ctx.session, ctx.code, metric, category):
        report = figures.children_in_care_monthly(
            ctx.session, ctx.code, ctx.first, ctx.last_day, ctx.mapping
        )
        values = [
            m.children if category is None else m.by_category.get(category) for m in report.months
        ]
        floats = _floats(values)
        if span is not None:
            floats = _within(ctx.months, floats, *span)
        return floats, report.source
    # Entered dated figures stand for the month they are dated in (the latest in the month).
    f = ChildrenInCareFigure
    query = select(f.as_at, func.sum(f.children)).where(
        f.authority_code == ctx.code, f.as_at >= ctx.first, f.as_at <= ctx.last_day
    )
    if category is not None:
        query = query.where(f.category == category)
    rows = ctx.session.execute(query.group_by(f.as_at).order_by(f.as_at)).all()
    dated = {month_start(as_at): float(children) for as_at, children in rows}
    return [dated.get(m) for m in ctx.months], "entered"


def _funnel(ctx: _Context, name: str) -> list[float | None]:
    points = monthly_series(ctx.session, ctx.code, ctx.first, ctx.last_day).points
    earliest = ctx.session.scalar(
        select(func.min(Enquiry.received_on)).where(Enquiry.authority_code == ctx.code)
    )
    values = [float(getattr(p, name)) for p in points]
    return _within(ctx.months, list(values), _first_full_month(earliest), None)


def _staying_put(
    ctx: _Context,
) -> tuple[list[float | None], list[float | None], str, list[str]]:
    """(stayed, eligible, source, notes): the notes give DfE's definition and, from the
    returns, what each year's leavers were judged on (OC3 or REC E17)."""
    report = figures.staying_put(ctx.session, ctx.code, ctx.first, ctx.last_day, ctx.mapping)
    stayed = _floats([m.stayed for m in report.months])
    leavers = _floats([m.eligible for m in report.months])
    span = _ssda903_span(ctx.session, ctx.code)
    if span is not None:
        stayed, leavers = _within(ctx.months, stayed, *span), _within(ctx.months, leavers, *span)
    notes = [report.definition, *([report.note] if report.note else [])]
    return stayed, leavers, report.source, notes


def actuals(
    session: Session,
    code: str,
    metric: str,
    first_month: date,
    last_month: date,
    *,
    mapping: Mapping | None = None,
) -> Actuals:
    """A metric's monthly actuals for every month from `first_month`'s to `last_month`'s."""
    get_authority(session, code)
    key = get_metric(metric).key
    first, last = month_start(first_month), month_start(last_month)
    if last < first:
        raise InvalidValueError("last_month is before first_month", field="last_month")
    months = [add_months(first, i) for i in range(months_between(first, last) + 1)]
    ctx = _Context(session=session, code=code, months=months, mapping=mapping or load_mapping())
    denominators: list[float | None] | None = None
    notes: list[str] = []
    match key:
        case MetricKey.INHOUSE_FOSTER_CHILDREN:
            metric_903 = figures.Metric.CHILDREN_IN_CARE
            if _ssda903_span(session, code) is not None or _has_aggregates(
                session, code, metric_903, IN_HOUSE_FOSTER
            ):
                values, source = _children(ctx, IN_HOUSE_FOSTER)
                series = series_id_of(code, "children_in_care", f"category={IN_HOUSE_FOSTER}")
            else:
                values, _ = _register(ctx, IN_HOUSE, lambda c: (c.filled_places, None))
                source = "register"
                series = series_id_of(code, "filled_places", f"care_type={IN_HOUSE}")
                notes.append(
                    "no SSDA903 data: children in in-house foster care are counted as the "
                    "filled places of in-house households in the register"
                )
        case MetricKey.CHILDREN_IN_CARE:
            values, source = _children(ctx, None)
            series = series_id_of(code, "children_in_care")
        case MetricKey.INHOUSE_HOUSEHOLDS | MetricKey.SUPPORTED_LODGINGS_HOSTS:
            care_type = (
                IN_HOUSE
                if key is MetricKey.INHOUSE_HOUSEHOLDS
                else HouseholdCareType.SUPPORTED_LODGINGS.value
            )
            values, _ = _register(ctx, care_type, lambda c: (c.households, None))
            source = "register"
            series = series_id_of(code, "households", f"care_type={care_type}")
        case MetricKey.APPROVALS | MetricKey.ENQUIRIES:
            values, source = _funnel(ctx, key.value), "funnel"
            series = series_id_of(code, key.value)
        case MetricKey.STAYING_PUT_RATE:
            values, denominators, source, definition = _staying_put(ctx)
            notes += definition
            series = series_id_of(code, "staying_put", "rate")
        case MetricKey.INHOUSE_OCCUPANCY:
            values, denominators = _register(
                ctx,
                IN_HOUSE,
                lambda c: (c.filled_places, c.approved_places - c.unavailable_places),
            )
            source = "register"
            series = series_id_of(code, "occupancy", f"care_type={IN_HOUSE}")
    return Actuals(
        metric=key,
        start=first,
        values=values,
        denominators=denominators,
        source=source,
        series_id=series,
        notes=notes,
    )
