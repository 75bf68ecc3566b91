"""The metrics strategy targets are measured on: for each, its label, the unit its gaps are
counted in, its shape (how a value at a month is measured, see `tracker.targets.measure`), where
its monthly actuals come from and which stored forecast series, if any, forecasts it.

Actuals are monthly: a level at the month's end, a count of events in the month, or the
numerator and denominator of a proportion. Months the data cannot speak for are None, never
zero: before the register records leavers or enquiries start (register and funnel metrics),
outside the SSDA903 collection years imported, or months not entered by hand.
"""

from __future__ import annotations

import enum
from datetime import date

import msgspec
from sqlalchemy.orm import Session

from forecast.months import month_start
from tracker.children.mapping import Mapping, load_mapping
from tracker.children.staying_put import DEFINITION as STAYING_PUT_DEFINITION
from tracker.core.authorities import get_authority
from tracker.core.errors import InvalidValueError
from tracker.households.care_types import HouseholdCareType, PlacementCategory
from tracker.series import registry as series
from tracker.series.keys import SeriesKey
from tracker.targets.kinds import Kind
from tracker.targets.measure import History, Shape

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


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    """Where a metric's actuals come from: the series of its values (and of its denominators,
    for a proportion), the stored forecast series its forecast is filed under, and a note shown
    with them: the definition they follow, or that this reading stands in for a better one
    that the authority has no records for."""

    values: SeriesKey
    denominators: SeriesKey | None = None
    forecast: SeriesKey | None = None
    note: str | None = None


class Metric(msgspec.Struct, frozen=True, kw_only=True):
    """A metric as the registry describes it: `unit` is the noun its gaps are counted in,
    `measured` how its value at a month is taken, `kinds` the target kinds it takes,
    and `recruitment` whether recruiting carers moves it (so a work-back applies)."""

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


class MetricSpec(Metric, frozen=True, kw_only=True):
    """A metric's registry entry: as the API describes it, and `reads`, the series its actuals
    come from in order of preference (the first the authority has records for, else the
    last)."""

    reads: tuple[Reading, ...]


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
        """The actuals as `tracker.targets.measure` takes them."""
        return History(start=self.start, values=self.values, denominators=self.denominators)


IN_HOUSE_FILLED = SeriesKey("filled_places", f"care_type={IN_HOUSE}")
ALL_CHILDREN = SeriesKey("children_in_care")
_MONTH_END = "its value at the end of each month"
_YEAR_SUM = (
    "the sum over the 12 months ending with each month (year to date, years ending 31 March, "
    "for an annual count)"
)
SPECS: dict[MetricKey, MetricSpec] = {
    m.key: m
    for m in (
        MetricSpec(
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
            reads=(
                Reading(values=SeriesKey("children_in_care", f"category={IN_HOUSE_FOSTER}")),
                Reading(
                    values=IN_HOUSE_FILLED,
                    note=(
                        "no SSDA903 data: children in in-house foster care are counted as the "
                        "filled places of in-house households in the register"
                    ),
                ),
            ),
        ),
        MetricSpec(
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
            reads=(
                Reading(values=ALL_CHILDREN),
                Reading(values=SeriesKey("children_in_care_entered"), forecast=ALL_CHILDREN),
            ),
        ),
        MetricSpec(
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
            reads=(Reading(values=SeriesKey("households", f"care_type={IN_HOUSE}")),),
        ),
        MetricSpec(
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
            reads=(
                Reading(
                    values=SeriesKey(
                        "households", f"care_type={HouseholdCareType.SUPPORTED_LODGINGS.value}"
                    )
                ),
            ),
        ),
        MetricSpec(
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
            reads=(Reading(values=SeriesKey("approvals")),),
        ),
        MetricSpec(
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
            reads=(Reading(values=SeriesKey("enquiries")),),
        ),
        MetricSpec(
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
            reads=(
                Reading(
                    values=SeriesKey("staying_put", "stayed"),
                    denominators=SeriesKey("staying_put", "leavers"),
                    forecast=SeriesKey("staying_put", "rate"),
                    note=STAYING_PUT_DEFINITION,
                ),
            ),
        ),
        MetricSpec(
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
            reads=(
                Reading(
                    values=IN_HOUSE_FILLED,
                    denominators=SeriesKey("available_places", f"care_type={IN_HOUSE}"),
                    forecast=SeriesKey("occupancy", f"care_type={IN_HOUSE}"),
                ),
            ),
        ),
    )
}
"""Every metric a target can be set on, with where its actuals come from (one entry each)."""
METRICS: dict[MetricKey, Metric] = {
    key: msgspec.convert(spec, Metric, from_attributes=True) for key, spec in SPECS.items()
}
"""The metrics as the API describes them."""


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


def _reading(session: Session, code: str, key: MetricKey) -> Reading:
    readings = SPECS[key].reads
    for reading in readings[:-1]:
        if series.available(session, code, reading.values):
            return reading
    return readings[-1]


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
    mapping = mapping or load_mapping()
    reading = _reading(session, code, key)
    wanted = (
        [reading.values]
        if reading.denominators is None
        else [
            reading.values,
            reading.denominators,
        ]
    )
    read = series.read_many(session, code, wanted, first, last, mapping=mapping)
    found = read[0]
    denominators = read[1].values if len(read) > 1 else None
    return Actuals(
        metric=key,
        start=first,
        values=found.values,
        denominators=denominators,
        source=found.label,
        series_id=(reading.forecast or reading.values).id_for(code),
        notes=[reading.note] if reading.note else [],
    )
