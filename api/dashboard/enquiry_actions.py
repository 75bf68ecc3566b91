"""The forms that change one enquiry: move it on, close it, reopen it or move it back, edit
its details (a stale form is told what someone else changed), and erase its personal data
after a confirmation (managers). Each calls the service function the JSON API calls, so the
funnel's rules, the history and the audit are the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from sqlalchemy.orm import Session

from api import read_audit
from api.dashboard import enquiry_forms, enquiry_list
from api.dashboard.enquiries import _enquiry_form, enquiry_path, own_scope
from api.dashboard.enquiry_view import enquiry_page_context, title
from api.dashboard.forms import Form, FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope
from api.deps import WRITING
from api.housekeeping import forget_erased
from api.params import RecordId
from tracker.core.access import Caller
from tracker.core.errors import DomainError, VersionMismatchError
from tracker.enquiries import service
from tracker.enquiries.conflicts import changes_since, edit_conflict
from tracker.enquiries.queries import get_enquiry

WRITE = {"access": "enquiries.write"}
ERASE = {"access": "enquiries.erase"}


# Each form of the page: how it is read, the service function it calls, its banner.
ACTS: dict[str, tuple[Callable[[Form], Any], Callable[..., Any], str]] = {
    "stage": (enquiry_forms.stage_move, service.advance_enquiry, "moved"),
    "close": (enquiry_forms.closure, service.close_enquiry, "closed"),
    "reopen": (enquiry_forms.reopening, service.reopen_enquiry, "reopened"),
}


def _version(form: Form) -> int | None:
    raw = form.text("version")
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


class EnquiryActions(Controller):
    """Forms of one enquiry's page."""

    path = "/enquiries/{enquiry_id:int}"
    include_in_schema = False

    def _act(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: int,
        data: dict[str, Any],
        authority: str | None,
        name: str,
    ) -> Response[Any]:
        """Read the form; on success change the enquiry and go back to its page with a
        banner; otherwise show the page again with the errors on this form's fields."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        form = checked_form(request, data)
        seen = _version(form)
        list_path, back = enquiry_list.back_link(scope, form.text("back"))
        kept = {"list_path": list_path, "back": back}
        read, change, banner = ACTS[name]
        asked = read(form)
        if asked is not None:
            try:
                change(session, caller, code, enquiry_id, asked, today, expected_version=seen)
            except VersionMismatchError:
                session.rollback()
                return _page(
                    request,
                    session,
                    scope,
                    enquiry_id,
                    today,
                    Form(),
                    None,
                    conflict_since=changes_since(session, code, enquiry_id, seen or 0),
                    status_code=409,
                    **kept,
                )
            except DomainError as refused:
                session.rollback()
                form.refused(refused, "stage" if name != "close" else "reason")
            else:
                session.commit()
                return done(
                    scope, enquiry_path(enquiry_id), banner, **({"back": back} if back else {})
                )
        return _page(
            request, session, scope, enquiry_id, today, form, name, status_code=400, **kept
        )

    @post("/{action:str}", opt=WRITE, dependencies=WRITING, sync_to_thread=True)
    def act(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        action: str,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Move on (`stage`), close with a reason (`close`), or reopen and move back
        (`reopen`)."""
        if action not in ACTS:
            raise NotFoundException(f"an enquiry has no form {action!r}")
        return self._act(request, session, caller, today, enquiry_id, data, authority, action)

    @get("/edit", opt=WRITE, sync_to_thread=True)
    def edit_form(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The enquiry's details in a form, with the version it was read at."""
        scope = own_scope(session, caller, authority)
        assert scope.authority_code is not None
        record = get_enquiry(session, scope.authority_code, enquiry_id, today)
        session.rollback()
        read_audit.write(request, read_audit.one(record.authority_code, enquiry_id, "edit", caller))
        return _enquiry_form(request, scope, Form(), today, record=record)

    @post("/edit", opt=WRITE, dependencies=WRITING, sync_to_thread=True)
    def edit(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Save the details; when someone else changed the enquiry since the form was opened,
        nothing is saved and the form says what they changed."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        form = checked_form(request, data)
        record = get_enquiry(session, code, enquiry_id, today)
        base = enquiry_forms.base_shown(form, today)
        changes = enquiry_forms.changes(form)
        seen = _version(form)
        shown = read_audit.one(code, enquiry_id, "edit", caller)
        if changes is None:
            read_audit.in_session(session, shown)
            return _enquiry_form(
                request, scope, form, today, record=record, base=base, status_code=400
            )
        if seen is None:
            form.errors.add(
                "version", "Open the form again: it did not say which version it changed"
            )
            read_audit.in_session(session, shown)
            return _enquiry_form(
                request, scope, form, today, record=record, base=base, status_code=400
            )
        try:
            service.edit_enquiry(
                session, caller, code, enquiry_id, changes, today, expected_version=seen
            )
        except VersionMismatchError:
            session.rollback()
            conflict = edit_conflict(
                session, code, enquiry_id, seen, changes, today, enquiry_forms.base_of(form)
            )
            read_audit.in_session(session, shown)
            # The form comes back holding their version with this editor's changes on top,
            # against their version (its values become the base of the next save).
            return _enquiry_form(
                request,
                scope,
                enquiry_forms.merged_form(form, conflict.merged),
                today,
                record=conflict.current,
                conflict=conflict,
                status_code=409,
            )
        except DomainError as refused:
            session.rollback()
            form.refused(refused, "received_on")
            read_audit.in_session(session, shown)
            return _enquiry_form(
                request, scope, form, today, record=record, base=base, status_code=400
            )
        session.commit()
        return done(scope, enquiry_path(enquiry_id), "edited")

    @get("/erase", opt=ERASE, sync_to_thread=True)
    def erase_check(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """What erasure removes and keeps, and the button that confirms it."""
        scope = own_scope(session, caller, authority)
        assert scope.authority_code is not None
        record = get_enquiry(session, scope.authority_code, enquiry_id, today)
        session.rollback()
        read_audit.write(
            request, read_audit.one(record.authority_code, enquiry_id, "erase", caller)
        )
        return render(
            request,
            scope,
            "enquiry_erase.html",
            "enquiries",
            record=record,
            heading=title(record),
            back=scope.link(enquiry_path(enquiry_id)),
            action=scope.link(enquiry_path(enquiry_id, "erase")),
        )

    @post("/erase", opt=ERASE, dependencies=WRITING, sync_to_thread=True)
    def erase(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Erase the personal data (audited), as the API's DELETE .../personal-data does."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        checked_form(request, data)
        service.erase_personal_data(session, caller, code, enquiry_id, today)
        forget_erased(session, code, enquiry_id)
        session.commit()
        return done(scope, enquiry_path(enquiry_id), "erased")


def _page(
    request: Request[Any, Any, Any],
    session: Session,
    scope: Scope,
    enquiry_id: int,
    today: date,
    form: Form,
    failed: str | None,
    *,
    status_code: int,
    **extra: Any,
) -> Response[Any]:
    code = scope.authority_code
    assert code is not None
    context = enquiry_page_context(session, scope, code, enquiry_id, today, form, failed, **extra)
    read_audit.in_session(session, read_audit.one(code, enquiry_id, "page", request.user))
    return render(request, scope, "enquiry.html", "enquiries", status_code=status_code, **context)
