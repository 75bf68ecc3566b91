"""The scenarios page: each saved sufficiency scenario year by year (children in care, places
in-house, connected and from the independent sector, annual costs and the saving from growing
in-house fostering), and the scenarios side by side."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from api.dashboard import charts
from api.dashboard.layout import Action, Choice, Page, Picker, Section
from api.dashboard.scope import Scope
from api.dashboard.tables import Chart, Table, Tile, display, money, table
from tracker.core.table_export import CellFormat
from tracker.scenarios.schemas import Comparison, ScenarioRecord, ScenarioSummary
from tracker.scenarios.service import MAX_COMPARED, compare_scenarios, get_scenario, list_scenarios

C = CellFormat
SHOWN = 12
PATH = "/dashboard/scenarios"


def _places(record: ScenarioRecord) -> Table:
    rows = [
        [
            f"March {r.year}",
            r.total_children,
            r.foster_inhouse,
            r.foster_connected,
            r.foster_independent,
            r.foster_inhouse_spare,
            r.homes_inhouse,
            r.homes_independent,
            r.homes_inhouse_spare,
            r.supported_accommodation,
            r.other,
        ]
        for r in record.projection.rows
    ]
    return table(
        f"scenario-{record.id}-places",
        "Children and places by setting",
        [
            ("year", "Year", C.TEXT),
            ("total_children", "Children in care", C.INTEGER),
            ("foster_inhouse", "Foster: in-house", C.INTEGER),
            ("foster_connected", "Foster: connected carers", C.INTEGER),
            ("foster_independent", "Foster: from independent agencies", C.INTEGER),
            ("foster_inhouse_spare", "Foster: in-house spare", C.INTEGER),
            ("homes_inhouse", "Children's homes: in-house", C.INTEGER),
            ("homes_independent", "Children's homes: private", C.INTEGER),
            ("homes_inhouse_spare", "Children's homes: in-house spare", C.INTEGER),
            ("supported_accommodation", "Supported accommodation", C.INTEGER),
            ("other", "Other (not costed)", C.INTEGER),
        ],
        rows,
        note="The first row is the baseline.",
        collapsed=True,
    )


def _costs(record: ScenarioRecord) -> Table:
    rows = [
        [
            f"March {r.year}",
            r.annual_cost.inhouse_foster,
            r.annual_cost.connected_foster,
            r.annual_cost.ifa_foster,
            r.annual_cost.inhouse_childrens_home,
            r.annual_cost.private_childrens_home,
            r.annual_cost.supported_accommodation,
            r.annual_cost.total,
            r.saving,
        ]
        for r in record.projection.rows
    ]
    rows.append(
        ["All years", None, None, None, None, None, None, None, record.projection.total_saving]
    )
    return table(
        f"scenario-{record.id}-costs",
        "Annual costs and saving",
        [
            ("year", "Year", C.TEXT),
            ("inhouse_foster", "In-house fostering", C.MONEY),
            ("connected_foster", "Connected carers", C.MONEY),
            ("ifa_foster", "Independent fostering agencies", C.MONEY),
            ("inhouse_childrens_home", "In-house children's homes", C.MONEY),
            ("private_childrens_home", "Private children's homes", C.MONEY),
            ("supported_accommodation", "Supported accommodation", C.MONEY),
            ("total", "Total", C.MONEY),
            ("saving", "Saving from in-house growth", C.MONEY),
        ],
        rows,
        emphasised=frozenset({len(rows) - 1}),
        note=f"Weekly unit costs x {record.projection.weeks_per_year:g} weeks, at the prices "
        "given (not inflated).",
        collapsed=True,
    )


def _comparison(compared: Comparison) -> tuple[Table, list[Chart]]:
    rows = []
    for year in compared.years:
        for scenario, cell in zip(compared.scenarios, year.scenarios, strict=True):
            if cell is not None:
                rows.append(
                    [
                        f"March {year.year}",
                        scenario.name,
                        cell.total_children,
                        cell.foster_independent,
                        cell.homes_independent,
                        cell.annual_cost,
                        cell.saving,
                    ]
                )
    comparison = table(
        "comparison",
        "Year by year, scenario by scenario",
        [
            ("year", "Year", C.TEXT),
            ("scenario", "Scenario", C.TEXT),
            ("total_children", "Children in care", C.INTEGER),
            ("foster_independent", "Foster places from agencies", C.INTEGER),
            ("homes_independent", "Private children's home places", C.INTEGER),
            ("annual_cost", "Annual cost", C.MONEY),
            ("saving", "Saving from in-house growth", C.MONEY),
        ],
        rows,
    )
    years = [f"March {y.year}" for y in compared.years]
    children = Chart(
        id="chart-compare-children",
        title="Children in care in each scenario",
        figure=charts.figure(
            [
                charts.line(
                    years,
                    [
                        c.total_children if c else None
                        for c in (y.scenarios[i] for y in compared.years)
                    ],
                    s.name,
                    charts.PALETTE[i % len(charts.PALETTE)],
                    markers=True,
                )
                for i, s in enumerate(compared.scenarios)
            ],
            charts.layout(y_title="Children in care", y_from_zero=False),
        ),
    )
    cost = Chart(
        id="chart-compare-cost",
        title="Annual cost of placements in each scenario",
        figure=charts.figure(
            [
                charts.line(
                    years,
                    [
                        c.annual_cost if c else None
                        for c in (y.scenarios[i] for y in compared.years)
                    ],
                    s.name,
                    charts.PALETTE[i % len(charts.PALETTE)],
                    markers=True,
                    hover="£%{y:,.0f}",
                )
                for i, s in enumerate(compared.scenarios)
            ],
            charts.layout(y_title="Annual cost", y_format=",.0f", y_prefix="£", y_from_zero=False),
        ),
    )
    return comparison, [children, cost]


def _side_by_side(
    session: Session, code: str, summaries: list[ScenarioSummary], compare: list[int] | None
) -> Section:
    """The comparison of the scenarios asked for (two to six at once), with the form that
    chooses them; with none asked, the latest six, saying which are left out. Any other
    choice is an error on the form, its ticks kept, and no comparison."""
    saved = {s.id: s for s in summaries}
    asked = list(dict.fromkeys(compare or []))
    error = None
    if any(i not in saved for i in asked):
        error = f"Choose 2 to {MAX_COMPARED} of the saved scenarios to compare"
    elif compare and not 2 <= len(asked) <= MAX_COMPARED:
        error = f"Choose 2 to {MAX_COMPARED} scenarios to compare; you chose {len(asked)}"
    chosen = asked if compare else [s.id for s in summaries][-MAX_COMPARED:]
    notes: list[str] = []
    charts_shown: list[Chart] = []
    tables_shown: list[Table] = []
    if error is None:
        left_out = [s.name for s in summaries if s.id not in chosen]
        if left_out:
            notes.append(
                f"Comparing {len(chosen)} of {len(summaries)} saved scenarios (at most "
                f"{MAX_COMPARED} at once); not shown: {', '.join(left_out)}. Choose which above."
            )
        comparison, charts_shown = _comparison(compare_scenarios(session, code, chosen))
        tables_shown = [comparison]
    return Section(
        title="Scenarios side by side",
        anchor="comparison",
        intro="Each scenario's children in care, foster places needed from independent "
        "agencies and annual cost, year by year.",
        picker=Picker(
            name="compare",
            legend="Scenarios to compare",
            hint=f"Choose 2 to {MAX_COMPARED}.",
            options=[Choice(str(s.id), s.name) for s in summaries],
            selected=[str(i) for i in chosen],
            button="Compare these",
            error=error,
        ),
        charts=charts_shown,
        tables=tables_shown,
        notes=notes,
    )


def build(session: Session, scope: Scope, today: date, compare: list[int] | None = None) -> Page:
    """The scenarios page of the authority in scope; `compare` names the scenarios side by
    side (default: every one, or the latest six when more are saved, saying so)."""
    code = scope.authority_code
    assert code is not None
    summaries = list_scenarios(session, code)
    new = [Action("Save a scenario", scope.link("/dashboard/scenarios/new"))]
    if not summaries:
        return Page(
            key="scenarios",
            title="Scenarios",
            intro=f"{scope.where}: no scenario has been saved yet.",
            actions=new,
        )
    shown = summaries[-SHOWN:]
    records = [get_scenario(session, code, s.id) for s in shown]
    listing = table(
        "scenarios",
        "Saved scenarios",
        [
            ("id", "Id", C.IDENTIFIER),
            ("name", "Name", C.TEXT),
            ("baseline_year", "Baseline (March)", C.TEXT),
            ("baseline_children", "Children at baseline", C.INTEGER),
            ("years", "Years", C.INTEGER),
            ("last_year_children", "Children in the last year", C.INTEGER),
            ("total_saving", "Saving over the years", C.MONEY),
            ("updated_at", "Last changed", C.DATE),
        ],
        [
            [
                r.id,
                r.name,
                str(r.inputs.baseline_year),
                r.inputs.baseline_children,
                r.inputs.years,
                r.projection.rows[-1].total_children if r.projection.rows else None,
                r.projection.total_saving,
                r.updated_at.date(),
            ]
            for r in records
        ],
        note=f"Showing the latest {len(shown)} of {len(summaries)}."
        if len(summaries) > len(shown)
        else None,
    )
    sections = [Section(title="Saved scenarios", anchor="scenarios", tables=[listing])]
    if len(summaries) >= 2:
        sections.append(_side_by_side(session, code, summaries, compare))
    for record in records:
        sections.append(
            Section(
                title=record.name,
                anchor=f"scenario-{record.id}",
                intro=f"From {display(record.inputs.baseline_children)} children in care in "
                f"March {record.inputs.baseline_year}, over {record.inputs.years} years. Saving "
                f"from in-house growth over the years: {money(record.projection.total_saving)}.",
                tables=[_places(record), _costs(record)],
                notes=sorted({n for r in record.projection.rows for n in r.notes}),
                actions=[
                    Action(f"Change {record.name}", scope.link(f"{PATH}/{record.id}/edit")),
                    Action(
                        f"Delete {record.name}",
                        scope.link(f"/dashboard/delete/scenarios/{record.id}"),
                    ),
                ],
            )
        )
    best = max(records, key=lambda r: r.projection.total_saving)
    return Page(
        key="scenarios",
        title="Scenarios",
        intro=f"{scope.where}: saved sufficiency scenarios, each projected year by year.",
        actions=new,
        tiles=[
            Tile(label="Saved scenarios", value=display(len(summaries))),
            Tile(
                label="Largest saving from in-house growth",
                value=money(best.projection.total_saving),
                detail=best.name,
            ),
        ],
        sections=sections,
    )
