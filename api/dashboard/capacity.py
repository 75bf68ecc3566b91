"""The capacity page: households and places by care type with occupancy, and how they moved
month by month; for a regional sign-in, every council of the region side by side."""

from __future__ import annotations

import math
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from api.access import ACCESS
from api.dashboard import charts
from api.dashboard.layout import Action, Page, Section, day_chooser
from api.dashboard.scope import Scope
from api.dashboard.tables import Chart, Tile, display, label, long_date, percent, table
from tracker.capacity.figures import kept_capacity_figures, kept_monthly_flows
from tracker.capacity.regional import ALL, regional_capacity, withhold_small_children
from tracker.capacity.schemas import PlaceCounts
from tracker.children.mapping import Mapping
from tracker.core.table_export import CellFormat
from tracker.core.view_cache import ViewCache

C = CellFormat
HISTORY_MONTHS = 24
PLACE_COLUMNS = [
    ("households", "Households", C.INTEGER),
    ("approved_places", "Approved places", C.INTEGER),
    ("filled_places", "Filled", C.INTEGER),
    ("vacant_places", "Vacant", C.INTEGER),
    ("unavailable_places", "Not available", C.INTEGER),
    ("occupancy", "Occupancy", C.SHARE),
]


def age_band_label(band: str) -> str:
    """ "under_1" -> "Under 1", "5_9" -> "5 to 9"."""
    if band.startswith("under_"):
        return "Under " + band.removeprefix("under_")
    return band.replace("_", " to ")


def _place_row(name: str, p: PlaceCounts) -> list[object]:
    return [
        name,
        p.households,
        p.approved_places,
        p.filled_places,
        p.vacant_places,
        p.unavailable_places,
        p.occupancy,
    ]


def occupancy_tone(occupancy: float | None) -> str:
    if occupancy is None:
        return "neutral"
    return "good" if occupancy >= 0.85 else "warning" if occupancy >= 0.75 else "bad"


def build(
    session: Session,
    scope: Scope,
    today: date,
    mapping: Mapping,
    as_at: date | None = None,
    views: ViewCache | None = None,
) -> Page:
    """The capacity page of the authority in scope as at `as_at` (default today; regional
    sign-ins: `build_regional`); `views` keeps its figures between the council's changes
    (default: computed afresh)."""
    code = scope.authority_code
    assert code is not None
    real_today, today = today, as_at or today
    figures = kept_capacity_figures(session, views, code, today, mapping)
    first = (today - relativedelta(months=HISTORY_MONTHS - 1)).replace(day=1)
    flows = kept_monthly_flows(session, views, code, first, today)
    total = figures.total
    year_ago = next((f for f in flows if f.month == f"{first:%Y-%m}"), None)
    tiles = [
        Tile(
            label="Occupancy",
            value=percent(total.occupancy),
            detail=f"{display(total.filled_places)} of {display(total.approved_places - total.unavailable_places)} "  # noqa: E501
            "available places filled",
            tone=occupancy_tone(total.occupancy),
        ),
        Tile(
            label="Fostering households",
            value=display(total.households),
            detail=f"{display(year_ago.households)} two years ago" if year_ago else "",
        ),
        Tile(
            label="Vacant places",
            value=display(total.vacant_places),
            detail=f"{display(total.unavailable_places)} more not available",
        ),
        Tile(
            label="Capacity against demand",
            value=percent(figures.capacity_share_of_demand),
            detail=f"in-house places for {display(figures.children_in_care_total)} children in care"
            if figures.children_in_care_total
            else "children in care not recorded",
        ),
    ]
    care_types = table(
        "care-types",
        f"Households and places by care type on {long_date(today)}",
        [("care_type", "Care type", C.TEXT), *PLACE_COLUMNS],
        [
            *(_place_row(label(p.care_type), p) for p in figures.by_care_type),
            _place_row("All care types", total),
        ],
        emphasised=frozenset({len(figures.by_care_type)}),
        note="Occupancy is filled places out of approved places that are available.",
    )
    age_bands = table(
        "age-bands",
        "Vacant places open to each age band",
        [("age_band", "Age band", C.TEXT), ("vacant_places", "Vacant places", C.INTEGER)],
        [[age_band_label(b.age_band), b.vacant_places] for b in figures.vacancies_by_age_band],
        note="A household counts in every band its approved age range meets.",
    )
    terms = table(
        "terms",
        "Households by term of approval",
        [
            ("term", "Term", C.TEXT),
            ("households", "Households", C.INTEGER),
            ("approved_places", "Approved places", C.INTEGER),
            ("vacant_places", "Vacant places", C.INTEGER),
        ],
        [
            [label(t.term.value), t.households, t.approved_places, t.vacant_places]
            for t in figures.by_term
        ],
    )
    monthly = table(
        "monthly",
        "Month by month",
        [
            ("month", "Month", C.MONTH),
            ("approvals", "Approvals", C.INTEGER),
            ("deregistrations", "Deregistrations", C.INTEGER),
            ("net_change", "Net change", C.INTEGER),
            ("households", "Households at month end", C.INTEGER),
            ("approved_places", "Approved places", C.INTEGER),
            ("filled_places", "Filled", C.INTEGER),
            ("vacant_places", "Vacant", C.INTEGER),
            ("occupancy", "Occupancy", C.SHARE),
        ],
        [
            [
                date(int(f.month[:4]), int(f.month[5:7]), 1),
                f.approvals,
                f.deregistrations,
                f.net_change,
                f.households,
                f.approved_places,
                f.filled_places,
                f.vacant_places,
                f.occupancy,
            ]
            for f in flows
        ],
    )
    months = [f"{f.month}-01" for f in flows]
    occupancy_chart = Chart(
        id="chart-occupancy",
        title="Occupancy at each month end",
        figure=charts.figure(
            [
                charts.line(
                    months,
                    [f.occupancy for f in flows],
                    "Occupancy",
                    charts.THIS_YEAR,
                    markers=True,
                    hover="%{y:.0%}<extra>Occupancy</extra>",
                ),
                charts.line(
                    [months[0], months[-1]] if months else [],
                    [0.85, 0.85] if months else [],
                    "85%, for reference",
                    charts.LAST_YEAR,
                    dash="dot",
                    width=1.5,
                ),
            ],
            {
                **charts.layout(y_title="Occupancy", y_format=".0%", y_from_zero=False),
                "yaxis": {
                    "title": {"text": "Occupancy"},
                    "tickformat": ".0%",
                    "range": [_occupancy_floor([f.occupancy for f in flows]), 1.0],
                    "gridcolor": "#e5e6e7",
                    "automargin": True,
                },
            },
        ),
        summary=f"Occupancy {percent(total.occupancy)} on {long_date(today)}.",
    )
    places_chart = Chart(
        id="chart-places",
        title="Approved, filled and vacant places at each month end",
        figure=charts.figure(
            [
                charts.line(months, [f.approved_places for f in flows], "Approved", charts.ACTUAL),
                charts.line(months, [f.filled_places for f in flows], "Filled", charts.THIS_YEAR),
                charts.line(months, [f.vacant_places for f in flows], "Vacant", charts.WARNING),
            ],
            charts.layout(y_title="Places"),
        ),
    )
    type_chart = Chart(
        id="chart-care-types",
        title="Places by care type "
        + ("today" if today == real_today else f"on {long_date(today)}"),
        figure=charts.figure(
            [
                charts.bars(
                    [label(p.care_type) for p in figures.by_care_type],
                    [getattr(p, field) for p in figures.by_care_type],
                    name,
                    colour,
                    horizontal=True,
                )
                for field, name, colour in (
                    ("filled_places", "Filled", charts.THIS_YEAR),
                    ("vacant_places", "Vacant", charts.GOOD),
                    ("unavailable_places", "Not available", charts.LAST_YEAR),
                )
            ],
            charts.layout(y_title="Places", barmode="stack", horizontal_bars=True, height=300),
        ),
    )
    children = table(
        "children-in-care",
        "Children in care by where they live",
        [
            ("category", "Placement", C.TEXT),
            ("children", "Children", C.INTEGER),
            ("as_at", "As at", C.DATE),
        ],
        [[label(c.category.value), c.children, c.as_at] for c in figures.children_in_care],
        empty="No children-in-care figures recorded.",
    )
    return Page(
        key="capacity",
        title="Capacity",
        intro=f"{scope.where}: fostering households and places on {long_date(today)}, and "
        f"the last {HISTORY_MONTHS} months.",
        tiles=tiles,
        chooser=day_chooser(real_today, today),
        actions=[
            Action("Upload SSDA903 files", scope.link("/dashboard/uploads/ssda903")),
            Action("Import the household register", scope.link("/dashboard/uploads/households")),
            Action("See the household register", scope.link("/dashboard/households")),
        ]
        if scope.caller.role in ACCESS["households.write"]
        else [],
        sections=[
            Section(
                title="By care type",
                anchor="care-types",
                charts=[type_chart],
                tables=[care_types],
            ),
            Section(
                title="Occupancy over time",
                anchor="occupancy",
                charts=[occupancy_chart, places_chart],
                tables=[monthly],
            ),
            Section(
                title="Vacancies and terms",
                anchor="vacancies",
                tables=[age_bands, terms],
            ),
            Section(title="Demand", anchor="demand", tables=[children]),
        ],
    )


def build_regional(session: Session, scope: Scope, today: date, as_at: date | None = None) -> Page:
    """The capacity of every council of the regional sign-in's region, and the roll-up, as
    at `as_at` (default today)."""
    region = scope.region
    assert region is not None
    real_today, today = today, as_at or today
    view = withhold_small_children(regional_capacity(session, region, today))
    rows = []
    for authority in view.authorities:
        whole = next((r for r in authority.rows if r.care_type == ALL), None)
        rows.append(
            [
                authority.name,
                authority.code,
                authority.source.value,
                authority.as_at,
                whole.households if whole else None,
                whole.approved_places if whole else None,
                whole.filled_places if whole else None,
                whole.vacant_places if whole else None,
                whole.unavailable_places if whole else None,
                whole.occupancy if whole else None,
                authority.children_in_care,
                authority.capacity_share_of_demand,
            ]
        )
    councils = table(
        "councils",
        f"Each council of {view.region} on {long_date(today)}",
        [
            ("authority_name", "Council", C.TEXT),
            ("authority_code", "Code", C.TEXT),
            ("source", "Figures from", C.TEXT),
            ("as_at", "As at", C.DATE),
            *PLACE_COLUMNS,
            ("children_in_care", "Children in care", C.INTEGER),
            ("capacity_share_of_demand", "Capacity against demand", C.SHARE),
        ],
        rows,
        note='"register": the council\'s own household register in this service; '
        '"return": the latest aggregate return it sent.'
        + (f" Children in care: {view.withheld}." if view.withheld else ""),
    )
    rollup = view.rollup
    region_rows = [
        [
            label(r.care_type),
            r.authorities,
            r.households,
            r.approved_places,
            r.filled_places,
            r.vacant_places,
            r.unavailable_places,
            r.occupancy,
        ]
        for r in (rollup.rows if rollup else [])
    ]
    region_table = table(
        "region",
        f"{view.region} as a whole by care type",
        [
            ("care_type", "Care type", C.TEXT),
            ("authorities", "Councils", C.INTEGER),
            *PLACE_COLUMNS,
        ],
        region_rows,
        note="Sums of each council's figures above. Councils: how many councils a row adds up; "
        "a council whose return leaves a care type out is not in that care type's row.",
        emphasised=frozenset(
            i for i, r in enumerate(rollup.rows if rollup else []) if r.care_type == ALL
        ),
    )
    names = [r[0] for r in rows]
    council_chart = Chart(
        id="chart-councils",
        title="Filled and vacant places by council",
        figure=charts.figure(
            [
                charts.bars(
                    names, [r[6] for r in rows], "Filled", charts.THIS_YEAR, horizontal=True
                ),
                charts.bars(names, [r[7] for r in rows], "Vacant", charts.GOOD, horizontal=True),
                charts.bars(
                    names, [r[8] for r in rows], "Not available", charts.LAST_YEAR, horizontal=True
                ),
            ],
            charts.layout(
                y_title="Places",
                barmode="stack",
                horizontal_bars=True,
                height=max(260, 60 + 44 * len(rows)),
            ),
        ),
    )
    whole = next((r for r in (rollup.rows if rollup else []) if r.care_type == ALL), None)
    tiles = [
        Tile(label="Councils", value=display(len(view.authorities))),
        Tile(
            label="Occupancy across the region",
            value=percent(whole.occupancy if whole else None),
            tone=occupancy_tone(whole.occupancy if whole else None),
        ),
        Tile(label="Vacant places", value=display(whole.vacant_places if whole else None)),
        Tile(
            label="Capacity against demand",
            value=percent(rollup.capacity_share_of_demand if rollup else None),
            detail=f"over {rollup.authorities_in_share} councils with both figures"
            if rollup
            else "",
        ),
    ]
    return Page(
        key="capacity",
        title="Regional capacity",
        intro=f"{view.region}: each council's fostering households and places on "
        f"{long_date(today)}. Aggregate figures only.",
        tiles=tiles,
        chooser=day_chooser(real_today, today),
        sections=[
            Section(title="Councils", anchor="councils", charts=[council_chart], tables=[councils]),
            Section(title="The region by care type", anchor="region", tables=[region_table]),
        ],
    )


def _occupancy_floor(values: list[float | None]) -> float:
    """The occupancy chart's lowest value: 50%, or lower in tenths so the lowest month shows
    (a council whose placements are not recorded yet reads 0%, not an empty chart)."""
    shown = [v for v in values if v is not None]
    lowest = min(shown, default=0.5)
    return min(0.5, math.floor(lowest * 10) / 10)
