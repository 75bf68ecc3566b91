"""The household register on the dashboard (managers): the council's households as at
today, filtered and paged, and one household's page with its placements and places not
available, and the forms that record a child placed, end a placement, make a dated change
(on hold, back, approved places, deregistered), mark places not available and end such a
period. Each form calls the service function the JSON API calls (`tracker.households`
`placements`, `service`, `unavailability`), so the rules and the audit are the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from sqlalchemy.orm import Session

from api.dashboard import form_keys
from api.dashboard import household_view as view
from api.dashboard.enquiries import own_scope
from api.dashboard.enquiry_list import pagination
from api.dashboard.forms import Form, FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope
from api.deps import WRITING
from api.params import RecordId
from tracker.core.access import Caller
from tracker.core.errors import DomainError
from tracker.households import placements, service, unavailability
from tracker.households.queries import get_household, list_households

READ = {"access": "households.read"}
WRITE = {"access": "households.write"}


class HouseholdPages(Controller):
    """The register list, one household's page and its placement forms."""

    path = "/households"
    include_in_schema = False

    @get("/", opt={"access": "dashboard.households"}, sync_to_thread=True)
    def list(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Households as at today, filtered, sorted and paged as the address says."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        params = {k: v for k, v in request.query_params.items() if k != "authority"}
        form, query, kept = view.read_query(params)
        found = list_households(
            session,
            code,
            today,
            care_type=query.care_type,
            status=query.status,
            limit=view.PER_PAGE,
            offset=(query.page - 1) * view.PER_PAGE,
            newest_first=query.sort is view.RegisterSort.NEWEST,
        )
        pages = max(1, -(-found.total // view.PER_PAGE))
        return render(
            request,
            scope,
            "households.html",
            "households",
            status_code=400 if form.errors else 200,
            form=form,
            query=query,
            found=found,
            pages=pages,
            pagination=pagination(
                scope, view.LIST, kept, query.page, pages, landmark="Pages of households"
            ),
            options=view.options,
            household_path=view.path,
            today=today,
            long_date=view.long_date,
        )

    @get("/{household_id:int}", opt=READ, sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """One household: its details, its placements and the placement forms."""
        scope = own_scope(session, caller, authority)
        return _page(request, session, scope, household_id, today, Form(), None, status_code=200)

    @post("/{household_id:int}/placements", opt=WRITE, dependencies=WRITING, sync_to_thread=True)
    def place(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Record a child placed with the household, as `POST .../placements` does."""
        sent = _Sent.read(request, session, caller, authority, household_id, today, data)
        return sent.submit(
            view.new_placement(sent.form, today),
            lambda asked: placements.place_child(
                session, caller, sent.code, household_id, asked, today
            ),
            lambda refused: view.refusal(sent.form, refused, sent.record, "child_ref"),
            "child-placed",
            "place",
        )

    @post(
        "/{household_id:int}/placements/{placement_id:int}/end",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def end(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        placement_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """End a placement of the household, as `POST .../placements/{id}/end` does."""
        sent = _Sent.read(request, session, caller, authority, household_id, today, data)
        placement = placements.get_placement(session, sent.code, placement_id)
        if placement.household_id != household_id:
            raise NotFoundException(f"household {household_id} has no placement {placement_id}")
        return sent.submit(
            view.placement_end(sent.form),
            lambda asked: placements.end_placement(
                session, caller, sent.code, placement_id, asked, today
            ),
            lambda refused: view.refusal(
                sent.form, refused, sent.record, "end_on", placement.start_on
            ),
            "placement-ended",
            "end",
            failed_placement=placement_id,
        )

    @post("/{household_id:int}/changes", opt=WRITE, dependencies=WRITING, sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """A dated change of the household, as `POST .../changes` makes it."""
        sent = _Sent.read(request, session, caller, authority, household_id, today, data)
        asked = view.household_change(sent.form, sent.record)
        return sent.submit(
            asked,
            lambda kind_change: service.change_household(
                session, caller, sent.code, household_id, kind_change[1], today
            ),
            lambda refused: view.refused_in_words(
                sent.form, refused, view.CHANGE_FIELDS, view.CHANGE_FIELD_WORDS, "change"
            ),
            view.CHANGE_DONE[asked[0]] if asked is not None else "",
            "change",
        )

    @post(
        "/{household_id:int}/unavailability", opt=WRITE, dependencies=WRITING, sync_to_thread=True
    )
    def unavailable(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Mark places not available, as `POST .../unavailability` does; the form's one-use
        key makes a form sent twice (no JavaScript, or Back) mark them once."""
        sent = _Sent.read(request, session, caller, authority, household_id, today, data)
        asked = view.new_unavailability(sent.form)
        claimed = None
        if asked is not None:
            where = view.path(household_id, "unavailability")
            banner = "places-already-unavailable"
            claimed = form_keys.claim_sent(session, caller, sent.scope, sent.form, banner, where)
            if isinstance(claimed, Redirect):  # this form was sent before and marked them
                return claimed

        def mark(asked: Any) -> None:
            unavailability.mark_unavailable(session, caller, sent.code, household_id, asked, today)
            form_keys.complete(session, claimed, view.path(household_id))

        return sent.submit(
            asked,
            mark,
            lambda refused: view.refused_in_words(
                sent.form, refused, view.MARK_FIELDS, view.MARK_FIELD_WORDS, "places"
            ),
            "places-unavailable",
            "unavailable",
        )

    @post(
        "/{household_id:int}/unavailability/{unavailability_id:int}/end",
        opt=WRITE,
        dependencies=WRITING,
        sync_to_thread=True,
    )
    def available(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        household_id: RecordId,
        unavailability_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """End a period of places not available, as `POST .../unavailability/{id}/end` does."""
        sent = _Sent.read(request, session, caller, authority, household_id, today, data)
        period = unavailability.get_unavailability(session, sent.code, unavailability_id)
        if period.household_id != household_id:
            raise NotFoundException(
                f"household {household_id} has no unavailable period {unavailability_id}"
            )
        return sent.submit(
            view.unavailability_end(sent.form),
            lambda asked: unavailability.end_unavailability(
                session, caller, sent.code, unavailability_id, asked.end_on, today
            ),
            lambda refused: view.refused_in_words(
                sent.form, refused, {"end_on": "end_on"}, view.END_FIELD_WORDS, "end_on"
            ),
            "places-available",
            "available",
            failed_period=unavailability_id,
        )


@dataclass
class _Sent:
    """A form sent from a household's page: where it was sent from and what it holds."""

    request: Request[Any, Any, Any]
    session: Session
    scope: Scope
    code: str
    household_id: int
    today: date
    form: Form
    record: Any

    @classmethod
    def read(
        cls,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        authority: str | None,
        household_id: int,
        today: date,
        data: dict[str, Any],
    ) -> _Sent:
        """The form, checked, and the household it is for (404 for another council's)."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        form = checked_form(request, data)
        record = get_household(session, code, household_id, today)
        return cls(request, session, scope, code, household_id, today, form, record)

    def submit(
        self,
        asked: Any,
        save: Callable[[Any], object],
        refused: Callable[[DomainError], None],
        banner: str,
        failed: str,
        *,
        failed_placement: int | None = None,
        failed_period: int | None = None,
    ) -> Response[Any]:
        """Save what the form asked (None: the form's own errors); on success go back to the
        household's page with `banner`; otherwise show the page again (400) with the errors
        on the `failed` form, the domain's refusal among them."""
        if asked is not None:
            try:
                save(asked)
            except DomainError as refusal:
                self.session.rollback()
                refused(refusal)
            else:
                self.session.commit()
                return done(self.scope, view.path(self.household_id), banner)
        return _page(
            self.request,
            self.session,
            self.scope,
            self.household_id,
            self.today,
            self.form,
            failed,
            status_code=400,
            failed_placement=failed_placement,
            failed_period=failed_period,
        )


def _page(
    request: Request[Any, Any, Any],
    session: Session,
    scope: Scope,
    household_id: int,
    today: date,
    form: Form,
    failed: str | None,
    *,
    status_code: int,
    failed_placement: int | None = None,
    failed_period: int | None = None,
) -> Response[Any]:
    code = scope.authority_code
    assert code is not None
    context = view.page_context(
        session, code, household_id, today, form, failed, failed_placement, failed_period
    )
    return render(
        request,
        scope,
        "household.html",
        "households",
        status_code=status_code,
        list_path=scope.link(view.LIST),
        # The form marking places not available keeps its key when shown again with errors.
        unavailable_key=(form.text("form_key") if failed == "unavailable" else None)
        or form_keys.new_key(),
        actions={
            "place": scope.link(view.path(household_id, "placements")),
            "change": scope.link(view.path(household_id, "changes")),
            "unavailable": scope.link(view.path(household_id, "unavailability")),
            **{
                f"period-{p.id}": scope.link(view.path(household_id, f"unavailability/{p.id}/end"))
                for p in context["periods"]
            },
            **{
                str(p.id): scope.link(view.path(household_id, f"placements/{p.id}/end"))
                for p in context["running"]
            },
        },
        **context,
    )
