"""The recruitment funnel page: this year to date against the same span last year.

Cohorts are the enquiries received in each span (how many of them reached each stage);
the monthly chart counts enquiries in the month they arrived. Overdue first contacts are
listed by id, reference and dates only: no personal data reaches the page.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from api.dashboard import charts
from api.dashboard.layout import (
    Action,
    Page,
    Period,
    Section,
    this_and_last_year,
    year_chooser,
    year_end,
)
from api.dashboard.scope import Scope
from api.dashboard.tables import Chart, Tile, change, display, label, long_date, percent, table
from forecast.months import year_label
from tracker.core.table_export import CellFormat
from tracker.core.view_cache import ViewCache
from tracker.enquiries.funnel import FunnelReport, YearApprovals
from tracker.enquiries.kept import kept_funnel_report, kept_monthly_series
from tracker.enquiries.queries import overdue_first_contacts
from tracker.enquiries.stages import STAGE_ORDER

C = CellFormat
OVERDUE_SHOWN = 200


def _stage_rows(this: FunnelReport, last: FunnelReport) -> list[list[object]]:
    rows = []
    for now, before in zip(this.overall.stages, last.overall.stages, strict=True):
        rows.append(
            [
                label(now.stage.value),
                now.reached,
                before.reached,
                now.conversion_from_previous,
                before.conversion_from_previous,
            ]
        )
    return rows


def _closure_rows(this: FunnelReport, last: FunnelReport) -> list[list[object]]:
    counts: dict[tuple[int, str, str], list[int]] = {}
    for position, report in enumerate((this, last)):
        for closure in report.closures:
            key = (closure.stage.rank, closure.stage.value, closure.reason)
            counts.setdefault(key, [0, 0])[position] += closure.count
    return [
        [label(stage), label(reason), now, before]
        for (_, stage, reason), (now, before) in sorted(counts.items())
    ]


def _monthly(
    session: Session, code: str, this: Period, today: date, views: ViewCache | None
) -> tuple[list[str], list[int | None], list[int], list[list[object]]]:
    """Month names April to March, enquiries this year (to date) and last year (whole)."""
    year = relativedelta(years=1)
    last_start, last_end = this.start - year, this.start - timedelta(days=1)
    last_points = kept_monthly_series(session, views, code, last_start, last_end).points
    this_points = kept_monthly_series(session, views, code, this.start, today, today).points
    names = [date(int(p.month[:4]), int(p.month[5:]), 1).strftime("%b") for p in last_points]
    # The month under way is left off the chart (a part month looks like a fall) and
    # marked in the table.
    complete = len(this_points) - (0 if (today + timedelta(days=1)).day == 1 else 1)
    now: list[int | None] = [p.enquiries for p in this_points[:complete]]
    now += [None] * (len(last_points) - len(now))
    rows: list[list[object]] = []
    for i, before in enumerate(last_points):
        current = this_points[i] if i < len(this_points) else None
        rows.append(
            [
                names[i] + (f" (to {today.day} {today:%b})" if i >= complete and current else ""),
                current.enquiries if current else None,
                before.enquiries,
                current.applications if current else None,
                before.applications,
                current.approvals if current else None,
                before.approvals,
            ]
        )
    return names, now, [p.enquiries for p in last_points], rows


def build(
    session: Session,
    scope: Scope,
    today: date,
    year: int | None = None,
    views: ViewCache | None = None,
) -> Page:
    """The funnel page of the authority in scope: the year starting 1 April `year` (default
    this one) to date, or whole when it has ended, against the same span a year before
    (its figures kept in `views` between the council's changes, when given)."""
    code = scope.authority_code
    assert code is not None
    real_today = today
    today = year_end(year, real_today) if year is not None else real_today
    this_span, last_span = this_and_last_year(today)
    this, last = (
        kept_funnel_report(session, views, code, span.start, span.end, today)
        for span in (this_span, last_span)
    )
    this_name, last_name = year_label(this_span.start), year_label(last_span.start)
    span = f"1 April to {today.day} {today:%B}"

    overdue, overdue_total = overdue_first_contacts(session, code, real_today, limit=OVERDUE_SHOWN)
    approvals = this.approvals_by_year[-1] if this.approvals_by_year else None

    whole = today == year_end(this_span.start.year, date.max)  # a year that has ended
    to_date = "" if whole else " to date"
    tiles = [
        Tile(
            label=f"Enquiries {this_name}{to_date}",
            value=display(this.overall.enquiries),
            detail=f"{display(last.overall.enquiries)} by this date last year "
            f"({change(this.overall.enquiries, last.overall.enquiries)})",
        ),
        Tile(
            label="Enquiry to application",
            value=percent(this.overall.enquiry_to_application),
            detail=f"last year {percent(last.overall.enquiry_to_application)}; "
            "councils in England about 12%",
        ),
        Tile(
            label=f"Approvals {this_name}",
            value=display(approvals.approvals if approvals else None),
            detail=(
                f"target {approvals.target} for the year"
                + ("" if whole else f"; {display(approvals.expected_to_date)} expected by now")
                if approvals and approvals.target
                else "no annual target set"
            ),
            tone=approvals_tone(approvals.approvals, approvals.expected_to_date)
            if approvals
            else "neutral",
        ),
        Tile(
            label="First contacts overdue today",
            value=display(overdue_total),
            detail="open enquiries not contacted within one working day",
            tone="bad" if overdue_total else "good",
        ),
    ]

    stage_table = table(
        "stages",
        f"Enquiries received {span}: how far they got",
        [
            ("stage", "Stage reached", C.TEXT),
            ("reached_this_year", this_name, C.INTEGER),
            ("reached_last_year", last_name, C.INTEGER),
            ("conversion_this_year", f"Share of previous stage {this_name}", C.SHARE),
            ("conversion_last_year", f"Share of previous stage {last_name}", C.SHARE),
        ],
        _stage_rows(this, last),
        note="An enquiry counts at every stage up to the furthest it has reached so far; "
        "this year's later stages fill in as enquiries move on.",
    )
    headline = table(
        "conversion",
        "Conversion and outcomes",
        [
            ("year", "Year", C.TEXT),
            ("enquiries", "Enquiries", C.INTEGER),
            ("enquiry_to_application", "Enquiry to application", C.SHARE),
            ("enquiry_to_approval", "Enquiry to approval", C.SHARE),
            ("open", "Still open", C.INTEGER),
            ("closed", "Closed", C.INTEGER),
            ("approved", "Approved", C.INTEGER),
        ],
        [
            [
                name,
                report.overall.enquiries,
                report.overall.enquiry_to_application,
                report.overall.enquiry_to_approval,
                report.overall.open,
                report.overall.closed,
                report.overall.approved,
            ]
            for name, report in ((this_name, this), (last_name, last))
        ],
    )
    closures = table(
        "closures",
        "Closures by stage and reason",
        [
            ("stage", "Closed at stage", C.TEXT),
            ("reason", "Reason", C.TEXT),
            ("this_year", this_name, C.INTEGER),
            ("last_year", last_name, C.INTEGER),
        ],
        _closure_rows(this, last),
        empty="No enquiry closed in either span.",
    )
    durations = table(
        "durations",
        "Days between stages (enquiries received this year)",
        [
            ("from_stage", "From", C.TEXT),
            ("to_stage", "To", C.TEXT),
            ("enquiries", "Enquiries", C.INTEGER),
            ("median_days", "Median days", C.INTEGER),
            ("p90_days", "9 in 10 within (days)", C.INTEGER),
        ],
        [
            [label(d.from_stage.value), label(d.to_stage.value), d.count, d.median_days, d.p90_days]
            for d in this.durations
            if d.count
        ],
        empty="No enquiry received this year has moved on yet.",
    )
    year_rows = [
        [y.year, y.approvals, y.target, _target_set(y), y.expected_to_date, y.share_of_target]
        for y in (*last.approvals_by_year, *this.approvals_by_year)
    ]
    approvals_table = table(
        "approvals",
        "Approvals against the annual target (years ending 31 March)",
        [
            ("year", "Year", C.TEXT),
            ("approvals", "Approvals", C.INTEGER),
            ("target", "Target", C.INTEGER),
            ("target_set", "Target set", C.TEXT),
            ("expected_to_date", "Expected by this date", C.DECIMAL),
            ("share_of_target", "Share of target", C.SHARE),
        ],
        year_rows,
        note="Each year is measured against the target in force at its end (the year under "
        "way, today's). Where no target was recorded by a year's end, the earliest recorded "
        "target is shown instead, and marked so.",
    )
    names, now, before, month_rows = _monthly(session, code, this_span, today, views)
    monthly_table = table(
        "monthly",
        "Enquiries, applications and approvals by month",
        [
            ("month", "Month", C.TEXT),
            ("enquiries_this_year", f"Enquiries {this_name}", C.INTEGER),
            ("enquiries_last_year", f"Enquiries {last_name}", C.INTEGER),
            ("applications_this_year", f"Applications {this_name}", C.INTEGER),
            ("applications_last_year", f"Applications {last_name}", C.INTEGER),
            ("approvals_this_year", f"Approvals {this_name}", C.INTEGER),
            ("approvals_last_year", f"Approvals {last_name}", C.INTEGER),
        ],
        month_rows,
    )
    monthly_chart = Chart(
        id="chart-monthly-enquiries",
        title="Enquiries each month: this year against last",
        figure=charts.figure(
            [
                charts.line(names, before, last_name, charts.LAST_YEAR, dash="dot", markers=True),
                charts.line(names, now, this_name, charts.THIS_YEAR, markers=True, width=3),
            ],
            charts.layout(y_title="Enquiries", x_title="Month"),
        ),
        summary=f"{display(this.overall.enquiries)} enquiries{' so far' if not whole else ''} "
        f"in {this_name} against {display(last.overall.enquiries)} by the same date in "
        f"{last_name}."
        + ("" if whole else " The month under way is shown in the table, not the chart."),
    )
    stage_chart = Chart(
        id="chart-stages",
        title="How far this year's enquiries got, against last year's",
        figure=charts.figure(
            [
                charts.bars(
                    [label(s.value) for s in STAGE_ORDER],
                    [s.reached for s in last.overall.stages],
                    last_name,
                    charts.LAST_YEAR,
                    horizontal=True,
                ),
                charts.bars(
                    [label(s.value) for s in STAGE_ORDER],
                    [s.reached for s in this.overall.stages],
                    this_name,
                    charts.THIS_YEAR,
                    horizontal=True,
                ),
            ],
            charts.layout(y_title="Enquiries", barmode="group", horizontal_bars=True, height=420),
        ),
        summary="Each bar counts the enquiries received in the span that reached the stage.",
    )
    overdue_table = table(
        "overdue",
        "Enquiries waiting for first contact past the one-working-day norm",
        [
            ("enquiry_id", "Enquiry id", C.IDENTIFIER),
            ("reference", "Reference", C.TEXT),
            ("received_on", "Received", C.DATE),
            ("first_contact_due", "First contact was due", C.DATE),
            ("days_late", "Days late", C.INTEGER),
        ],
        [
            [
                e.id,
                e.external_ref,
                e.received_on,
                e.first_contact_due,
                (real_today - e.first_contact_due).days,
            ]
            for e in overdue
        ],
        note=(
            f"Showing the newest {len(overdue)} of {overdue_total}. "
            if overdue_total > len(overdue)
            else ""
        )
        + "Open an enquiry from the work tray to record its first contact.",
        empty="Every open enquiry has had first contact on time.",
    )
    return Page(
        key="funnel",
        title="Recruitment funnel",
        intro=f"{scope.where}: enquiries received from 1 April {this_span.start.year} to "
        f"{long_date(today)}, against the same span a year earlier "
        f"({long_date(last_span.start)} to {long_date(last_span.end)}).",
        tiles=tiles,
        chooser=year_chooser(real_today, this_span.start.year),
        sections=[
            Section(
                title="Enquiries each month",
                anchor="monthly",
                charts=[monthly_chart],
                tables=[monthly_table],
            ),
            Section(
                title="Stages reached and conversion",
                anchor="stages",
                charts=[stage_chart],
                tables=[stage_table, headline],
            ),
            Section(
                title="Overdue first contacts today",
                anchor="overdue",
                tables=[overdue_table],
                actions=[
                    Action(
                        "Open the work tray: every overdue enquiry, oldest first",
                        scope.link("/dashboard/enquiries", overdue="first_contact", sort="oldest"),
                    )
                ],
            ),
            Section(title="Approvals", anchor="approvals", tables=[approvals_table]),
            Section(
                title="Closures and time between stages",
                anchor="closures",
                tables=[closures, durations],
            ),
        ],
    )


def _target_set(year: YearApprovals) -> str:
    """When the year's target was set, in words, or that it is not the year's own."""
    if year.target is None:
        return "no target set"
    if year.target_of_the_year and year.target_set_on is not None:
        return f"set {long_date(year.target_set_on)}"
    if year.target_set_on is not None:
        return f"none recorded for this year: shows the target set {long_date(year.target_set_on)}"
    return "none recorded for this year: shows the current target"


def approvals_tone(approvals: int, expected: float | None) -> str:
    if expected is None:
        return "neutral"
    if approvals >= expected:
        return "good"
    return "warning" if approvals >= 0.8 * expected else "bad"
