"""Children-looked-after routes of one authority: SSDA903 returns (import, replace, withdraw,
list), monthly aggregates, and figures (starters, ceased, children in care, Staying Put,
time in care).

Every answer is a count: no child-level value leaves through these routes, so regional
tokens of the authority's region read the figures too, with small counts withheld
(`tracker.children.withheld`; each report's `withheld` says so).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.params import Body
from sqlalchemy.orm import Session

from api.deps import IN_SCOPE, WRITER, WRITING
from api.disconnect import stop_on_disconnect
from api.params import as_at_day, period
from api.request_limits import EXPENSIVE
from api.uploads import IMPORT_LIMIT
from tracker.children import figures, withheld
from tracker.children.figures import (
    CeasedReport,
    InCareReport,
    InCareSeries,
    MonthlyFigure,
    RecordedFigures,
    StartersReport,
    StayingPutReport,
    TimeInCareReport,
)
from tracker.children.importer import SourceFile, Ssda903Report, import_ssda903
from tracker.children.kept import kept_children_figure
from tracker.children.mapping import Mapping, load_mapping
from tracker.children.pseudonym import load_key
from tracker.children.returns import ReturnSummary, list_returns, parse_year
from tracker.children.staying_put import DEFINITION
from tracker.children.withdrawal import Withdrawal, withdraw_return
from tracker.core.access import Caller, Role
from tracker.core.settings import Settings

READ = {"access": "children.read"}
WRITE = {"access": "children.write"}
MAX_FILES = 60
MAX_MONTHS = 300


def provide_mapping(settings: Settings) -> Mapping:
    """The installation's placement-category mapping (the shipped one unless configured)."""
    return load_mapping(settings.placement_mapping)


async def files_only(request: Request) -> None:
    """Refuse an upload with no files, with other form fields, or with a part name repeated
    beside others, with a 400 that says so: Litestar's reader of a list of files fails on an
    empty form and keeps only the first name's files when names mix. The parsed form is
    kept for the handler."""
    parts = list((await request.form()).multi_items())
    names = [name for name, _ in parts]
    if (
        not parts
        or not all(isinstance(value, UploadFile) for _, value in parts)
        or len(set(names)) not in (1, len(names))
    ):
        raise ClientException(
            "send the files, and nothing else, as multipart/form-data parts named files",
            extra={"field": "files"},
        )


class ChildrenController(Controller):
    """Children looked after by an authority, from its SSDA903 return or monthly aggregates."""

    path = "/api/v1/authorities/{code:str}/children"
    tags = ["children looked after"]
    dependencies = {
        **IN_SCOPE,
        "mapping": Provide(provide_mapping, sync_to_thread=False),
    }

    @get("/starters", opt=READ, sync_to_thread=True, summary="Children starting care per month")
    def starters(
        self,
        authority: str,
        session: Session,
        state: State,
        mapping: Mapping,
        caller: Caller,
        today: date,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> StartersReport:
        """Children who started to be looked after each month (default: the last 12), by age
        band at entry and the category of their first placement, as DfE counts them: each
        child once a year ending 31 March (the first start), short breaks (legal status V3,
        V4) left out and counted apart. Months of a year whose return is not loaded: null."""
        start, end = period(date_from, date_to, today)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("starters", start, end),
            mapping,
            lambda: figures.starters(session, authority, start, end, mapping),
        )
        return withheld.starters(report) if caller.role is Role.REGIONAL else report

    @get("/ceased", opt=READ, sync_to_thread=True, summary="Children ceasing care per month")
    def ceased(
        self,
        authority: str,
        session: Session,
        state: State,
        caller: Caller,
        today: date,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> CeasedReport:
        """Children who ceased to be looked after each month (an episode ending with a REC
        other than X1), each child once a year ending 31 March (the last time), short
        breaks left out and counted apart. Months of a year whose return is not loaded: null."""
        start, end = period(date_from, date_to, today)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("ceased", start, end),
            None,
            lambda: figures.ceased(session, authority, start, end),
        )
        return withheld.ceased(report) if caller.role is Role.REGIONAL else report

    @get("/in-care", opt=READ, sync_to_thread=True, summary="Children in care on a date")
    def in_care(
        self,
        authority: str,
        session: Session,
        state: State,
        mapping: Mapping,
        caller: Caller,
        today: date,
        as_at: date | None = None,
    ) -> InCareReport:
        """Children in care on a date (default today) by placement category, short breaks
        left out and counted apart, from the return of the date's year (after the latest
        return, that return's open episodes; `return_year` says which)."""
        day = as_at_day(as_at, today)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("in_care", day),
            mapping,
            lambda: figures.children_in_care(session, authority, day, mapping),
        )
        return withheld.in_care(report) if caller.role is Role.REGIONAL else report

    @get(
        "/in-care/monthly",
        opt=READ,
        sync_to_thread=True,
        summary="Children in care at each month end",
    )
    def in_care_monthly(
        self,
        authority: str,
        session: Session,
        state: State,
        mapping: Mapping,
        caller: Caller,
        today: date,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> InCareSeries:
        """Children in care by placement category at the end of every month of the range."""
        start, end = period(date_from, date_to, today, max_months=MAX_MONTHS)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("in_care_monthly", start, end),
            mapping,
            lambda: figures.children_in_care_monthly(session, authority, start, end, mapping),
        )
        return withheld.in_care_monthly(report) if caller.role is Role.REGIONAL else report

    @get(
        "/staying-put",
        opt=READ,
        sync_to_thread=True,
        summary="Staying Put at 18 per month and year, and at 19 and 20",
        description=DEFINITION,
    )
    def staying_put(
        self,
        authority: str,
        session: Session,
        state: State,
        mapping: Mapping,
        caller: Caller,
        today: date,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> StayingPutReport:
        """Staying Put as DfE publishes it (the definition is in the answer): at 18 per month
        and per year ending 31 March for every year the range touches, and at 19, 20 and 19
        to 20 for those years. Regional tokens: small counts withheld (`withheld` says so),
        counted over the whole years so that no year's figure gives a month back."""
        start, end = period(date_from, date_to, today)
        regional = caller.role is Role.REGIONAL
        first, last = withheld.whole_years(start, end) if regional else (start, end)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("staying_put", first, last),
            mapping,
            lambda: figures.staying_put(session, authority, first, last, mapping),
        )
        return withheld.staying_put(report, start, end) if regional else report

    @get("/time-in-care", opt=READ, sync_to_thread=True, summary="Time in care on a date")
    def time_in_care(
        self,
        authority: str,
        session: Session,
        state: State,
        caller: Caller,
        today: date,
        as_at: date | None = None,
    ) -> TimeInCareReport:
        """Children in care on a date by time since their period of care began, the median in
        days, and the share placed within the authority (when the episodes carry PL_LA)."""
        day = as_at_day(as_at, today)
        report = kept_children_figure(
            session,
            state.council_views,
            authority,
            ("time_in_care", day),
            None,
            lambda: figures.time_in_care(session, authority, day),
        )
        return withheld.time_in_care(report) if caller.role is Role.REGIONAL else report

    @post(
        "/monthly-figures",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Enter monthly figures (councils without an SSDA903 extract)",
    )
    def record_figures(
        self,
        authority: str,
        data: list[MonthlyFigure],
        caller: Caller,
        session: Session,
        today: date,
    ) -> RecordedFigures:
        """A list of {month: "YYYY-MM", metric, breakdown, value}; all or nothing, and sending
        the same list twice changes nothing. Errors name each figure by its place in the
        list (row 1 is the first). The figures stand while the authority has no SSDA903
        episodes."""
        result = figures.record_monthly_figures(session, caller, authority, data, today)
        session.commit()
        return result

    @post(
        "/ssda903",
        opt={**WRITE, EXPENSIVE: True},
        dependencies=WRITER,
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=IMPORT_LIMIT,
        middleware=[stop_on_disconnect],
        before_request=files_only,
        summary="Import SSDA903 Header, Episodes and OC3 files",
    )
    def import_files(
        self,
        authority: str,
        data: Annotated[list[UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
        caller: Caller,
        session: Session,
        writer: Session,
        settings: Settings,
        dry_run: bool = False,
        replace: bool = False,
    ) -> Ssda903Report:
        """Send the files as multipart/form-data parts named `files`: CSV or xlsx, one or
        several collection years (a year in each file name, e.g. episodes_2022-23.csv, or a
        YEAR column). All or nothing: errors name file, row and column, and nothing is
        stored; a second import changes nothing. Files that change a year already stored
        are refused unless `replace=true`, when they replace that year's return (audited).
        `dry_run=true` checks and reports without storing."""
        uploads = list(data)
        if len(uploads) > MAX_FILES:
            raise ClientException(f"at most {MAX_FILES} files at once", extra={"field": "files"})
        sources = [
            SourceFile(u.filename or f"file {i}", u.file.read()) for i, u in enumerate(uploads, 1)
        ]
        # A dry run writes nothing: a read session, so it never waits for nor takes the lock.
        report = import_ssda903(
            session if dry_run else writer,
            caller,
            authority,
            sources,
            load_key(settings),
            dry_run=dry_run,
            replace=replace,
        )
        if not dry_run:
            writer.commit()
        return report

    @get("/returns", opt=READ, sync_to_thread=True, summary="SSDA903 returns loaded")
    def returns(self, authority: str, session: Session) -> list[ReturnSummary]:
        """Each collection year's stored return: episodes, children, children in care at its
        31 March, OC3 rows, and the episodes open at its end that the next return does not
        carry (null when the next year is not loaded)."""
        return list_returns(session, authority)

    @delete(
        "/ssda903/{year:str}",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
        status_code=200,
        summary="Withdraw a year's SSDA903 return",
    )
    def withdraw(self, authority: str, year: str, caller: Caller, session: Session) -> Withdrawal:
        """Remove the return of a collection year written 2022-23 (its episodes and OC3 rows;
        audited); 404 when none is stored. Figures of that year then have no return."""
        result = withdraw_return(session, caller, authority, parse_year(year))
        session.commit()
        return result
