"""The overview page: the headline of each other page on one screen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from api.dashboard.capacity import occupancy_tone
from api.dashboard.funnel import approvals_tone
from api.dashboard.layout import Page, Section, day_chooser, this_and_last_year
from api.dashboard.scope import Scope
from api.dashboard.tables import Tile, change, display, long_date, percent, table
from forecast.months import year_label
from tracker.capacity.figures import kept_capacity_figures
from tracker.capacity.schemas import PlaceCounts
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.table_export import CellFormat
from tracker.core.view_cache import ViewCache
from tracker.enquiries.kept import kept_funnel_summary
from tracker.enquiries.queries import list_enquiries
from tracker.enquiries.schemas import EnquiryFilter, Overdue

C = CellFormat
# How many of an authority's targets stand at each status (`api.dashboard.targets`).
TargetCounts = Callable[[Session, str, date], dict[str, int]]


def build(
    session: Session,
    scope: Scope,
    today: date,
    target_counts: TargetCounts | None = None,
    as_at: date | None = None,
    views: ViewCache | None = None,
    mapping: Mapping | None = None,
) -> Page:
    """The overview page of the authority in scope, its figures as at `as_at` (default
    today); first contacts overdue and targets can only be worked out for today, so on a
    past day they are labelled as today's and left out of its summary; `views` keeps its
    figures between the council's changes (default: computed afresh)."""
    code = scope.authority_code
    assert code is not None
    real_today, today = today, as_at or today
    past = today != real_today
    now = f" (today, {long_date(real_today)}, not {long_date(today)})" if past else ""
    this_span, last_span = this_and_last_year(today)
    this, last = (
        kept_funnel_summary(session, views, code, span.start, span.end, today)
        for span in (this_span, last_span)
    )
    approvals = this.approvals_by_year[-1] if this.approvals_by_year else None
    total = kept_capacity_figures(session, views, code, today, mapping or load_mapping()).total
    overdue = list_enquiries(
        session, code, EnquiryFilter(overdue=Overdue.FIRST_CONTACT), real_today, limit=1, offset=0
    ).total
    this_name = year_label(this_span.start)
    tiles = [
        Tile(
            label=f"Enquiries {this_name} to date",
            value=display(this.overall.enquiries),
            detail=f"{display(last.overall.enquiries)} by this date last year "
            f"({change(this.overall.enquiries, last.overall.enquiries)})",
            href=scope.link("/dashboard/funnel"),
        ),
        Tile(
            label="Approvals against the annual target",
            value=f"{display(approvals.approvals)} of {display(approvals.target)}"
            if approvals and approvals.target
            else display(approvals.approvals if approvals else None),
            detail=f"{display(approvals.expected_to_date)} expected by now"
            + ("" if approvals.target_of_the_year else "; no target recorded for that year")
            if approvals and approvals.target
            else "no annual target set",
            tone=approvals_tone(approvals.approvals, approvals.expected_to_date)
            if approvals
            else "neutral",
            href=scope.link("/dashboard/funnel") + "#approvals",
        ),
        Tile(
            label="Occupancy of available places",
            value=percent(total.occupancy),
            detail=_occupancy_words(total),
            tone=occupancy_tone(total.occupancy),
            href=scope.link("/dashboard/capacity"),
        ),
        Tile(
            label="First contacts overdue today",
            value=display(overdue),
            detail=f"open enquiries past one working day{now}",
            tone="bad" if overdue else "good",
            href=scope.link("/dashboard/enquiries", overdue="first_contact", sort="oldest"),
        ),
    ]
    counts = target_counts(session, code, real_today) if target_counts else {}
    if target_counts is not None:
        on_track = counts.get("on_track", 0) + counts.get("met", 0)
        off = counts.get("off_track", 0) + counts.get("missed", 0)
        tiles.append(
            Tile(
                label="Targets today" if past else "Targets",
                value=f"{on_track} of {sum(counts.values())} on track",
                detail=(
                    ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
                    or "no targets set"
                )
                + now,
                tone="neutral" if not counts else "good" if not off else "warning",
                href=scope.link("/dashboard/targets"),
            )
        )
    today_only = [
        ["First contacts overdue", display(overdue), "norm: one working day"],
        *([["Targets " + s.replace("_", " "), display(n), ""] for s, n in counts.items()]),
    ]
    if past:
        today_only = []
    summary = table(
        "summary",
        f"Summary on {long_date(today)}",
        [
            ("measure", "Measure", C.TEXT),
            ("figure", "Figure", C.TEXT),
            ("compared_with", "Compared with", C.TEXT),
        ],
        [
            [
                f"Enquiries {this_name} to date",
                display(this.overall.enquiries),
                f"{display(last.overall.enquiries)} by this date last year",
            ],
            [
                "Enquiry to application",
                percent(this.overall.enquiry_to_application),
                f"{percent(last.overall.enquiry_to_application)} last year",
            ],
            [
                "Approvals this year",
                display(approvals.approvals if approvals else None),
                f"target {display(approvals.target if approvals else None)}",
            ],
            ["Households", display(total.households), ""],
            ["Occupancy of available places", percent(total.occupancy), _occupancy_words(total)],
            *today_only,
        ],
        note="First contacts overdue and targets are worked out for today only, so a summary "
        "of a past day leaves them out."
        if past
        else None,
    )
    return Page(
        key="overview",
        title="Overview",
        intro=f"{scope.where} on {long_date(today)}. Choose a figure to see more.",
        tiles=tiles,
        chooser=day_chooser(real_today, today),
        sections=[Section(title="In figures", anchor="summary", tables=[summary])],
    )


def _occupancy_words(total: PlaceCounts) -> str:
    """What the occupancy share is of: the places available (approved less not available)."""
    available = total.approved_places - total.unavailable_places
    return (
        f"{display(total.filled_places)} of {display(available)} available places filled; "
        f"{display(total.vacant_places)} vacant; {display(total.unavailable_places)} not "
        f"available (of {display(total.approved_places)} approved)"
    )
