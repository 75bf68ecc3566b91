"""The recruitment team's enquiry pages: the list (filters, search, sort, pages, the work
tray, downloads), a new enquiry, and one enquiry with its timeline and what can be done
next. Each calls the same domain functions as the JSON API, with its rules and audit; the
forms that change an enquiry are in `enquiry_actions`."""

from __future__ import annotations

import codecs
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy.orm import Session

from api import read_audit
from api.dashboard import enquiry_forms, enquiry_list, form_keys
from api.dashboard.enquiry_view import enquiry_page_context, history_lines
from api.dashboard.forms import Form, FormData, checked_form
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope, resolve_scope
from api.deps import WRITER, WRITING
from api.downloads import spreadsheet
from api.params import RecordId
from tracker.core.access import Caller
from tracker.core.errors import DomainError
from tracker.core.spreadsheets import FileFormat
from tracker.enquiries import files as enquiry_files
from tracker.enquiries import service
from tracker.enquiries.duplicates import open_duplicates
from tracker.enquiries.queries import get_enquiry
from tracker.enquiries.vocabulary import Channel, HouseholdType, Interest

READ = {"access": "enquiries.read"}
WRITE = {"access": "enquiries.write"}
LIST = "/dashboard/enquiries"


def own_scope(session: Session, caller: Caller, authority: str | None) -> Scope:
    """The scope of an enquiry page: an authority must be in view (404 otherwise)."""
    scope = resolve_scope(session, caller, authority)
    if scope.authority_code is None:
        raise DomainError("there is no authority yet: add one first")
    return scope


def enquiry_path(enquiry_id: int, action: str = "") -> str:
    """The page of one enquiry (or one of its forms)."""
    return f"{LIST}/{enquiry_id}" + (f"/{action}" if action else "")


class EnquiryPages(Controller):
    """The enquiry list, a new enquiry and one enquiry's page."""

    path = "/enquiries"
    include_in_schema = False

    @get("/", opt=READ, sync_to_thread=True)
    def list(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Enquiries filtered, searched, sorted and paged as the address says; the page read
        (the list and the work tray) is audited."""
        scope = own_scope(session, caller, authority)
        params = {k: v for k, v in request.query_params.items() if k != "authority"}
        listing = enquiry_list.build(session, scope, params, today)
        session.rollback()
        read_audit.write(request, enquiry_list.audit_entry(scope, listing, caller))
        kept = listing.kept
        return render(
            request,
            scope,
            "enquiries.html",
            "enquiries",
            listing=listing,
            form=listing.form,
            pagination=enquiry_list.pagination(
                scope, LIST, kept, listing.query.page, listing.pages
            ),
            downloads={
                fmt.value: scope.link(f"{LIST}/export", **kept, format=fmt.value)
                for fmt in FileFormat
            },
            options=enquiry_list.options,
            enquiry_path=enquiry_path,
            back=enquiry_list.back_query(kept, listing.query.page),
        )

    @get("/export", opt=READ, dependencies=WRITER, sync_to_thread=True)
    def export(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        writer: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
        format: FileFormat = FileFormat.CSV,
    ) -> Response[Any]:
        """The listed enquiries (every page) as CSV or Excel, with the import's columns;
        audited, as the API's export is."""
        scope = own_scope(session, caller, authority)
        params = {k: v for k, v in request.query_params.items() if k not in ("authority", "format")}
        _, query, received_from, received_to = enquiry_list.read_query(params)
        filters = enquiry_list.filter_of(query, received_from, received_to)
        code = scope.authority_code
        assert code is not None
        content = enquiry_files.export_enquiries(
            session, caller, code, filters, today, format, writer=writer
        )
        writer.commit()
        if format is FileFormat.CSV:  # Excel reads UTF-8 (Siân, not SiÃ¢n) only after a BOM;
            content = codecs.BOM_UTF8 + content  # the import drops it, so the file goes back
        return spreadsheet(content, format, f"enquiries-{code}-{today.isoformat()}")

    @get("/new", opt=WRITE, sync_to_thread=True)
    def new_form(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The form for a new enquiry, received today unless changed."""
        scope = own_scope(session, caller, authority)
        return _enquiry_form(request, scope, Form(), today)

    @post("/new", opt=WRITE, dependencies=WRITING, sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        data: FormData,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Log the enquiry; an email or phone that an open enquiry already holds asks for a
        confirmation first."""
        scope = own_scope(session, caller, authority)
        form = checked_form(request, data)
        new = enquiry_forms.new_enquiry(form, today)
        code = scope.authority_code
        assert code is not None
        if new is None:
            return _enquiry_form(request, scope, form, today, status_code=400)
        duplicates = open_duplicates(session, code, email=new.email, phone=new.phone)
        if duplicates and form.text("duplicate_seen") != "yes":
            ids = [d.enquiry_id for d in duplicates]
            read_audit.in_session(session, read_audit.listed(code, "duplicates", ids, caller))
            return _enquiry_form(request, scope, form, today, duplicates=duplicates)
        claimed = form_keys.claim_sent(session, caller, scope, form, "already-logged")
        if isinstance(claimed, Redirect):  # this form was sent before and logged an enquiry
            return claimed
        try:
            record = service.create_enquiry(session, caller, code, new, today)
        except DomainError as refused:
            form.refused(refused, "received_on")
            session.rollback()
            return _enquiry_form(request, scope, form, today, status_code=400)
        path = enquiry_path(record.id)
        form_keys.complete(session, claimed, path)
        session.commit()
        return done(scope, path, "logged")

    @get("/{enquiry_id:int}", opt=READ, sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        today: date,
        enquiry_id: RecordId,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """One enquiry: its details, timeline and the forms to move it on; `back` (the list's
        filters) makes its back link return to the same list."""
        scope = own_scope(session, caller, authority)
        code = scope.authority_code
        assert code is not None
        list_path, back = enquiry_list.back_link(scope, request.query_params.get("back"))
        context = enquiry_page_context(
            session, scope, code, enquiry_id, today, Form(), None, list_path=list_path, back=back
        )
        session.rollback()
        read_audit.write(request, read_audit.one(code, enquiry_id, "page", caller))
        return render(request, scope, "enquiry.html", "enquiries", **context)


def _enquiry_form(
    request: Request[Any, Any, Any],
    scope: Scope,
    form: Form,
    today: date,
    *,
    status_code: int = 200,
    duplicates: list[Any] | None = None,
    record: Any = None,
    conflict: Any = None,
    base: Any = None,
) -> Response[Any]:
    """The new-enquiry form, or an enquiry's edit form (`record`); `base` is what the edit
    form was first opened with (default: `record`'s values), carried in hidden inputs."""
    if record is not None and base is None:
        base = enquiry_forms.shown_values(Form(), record, today)
    # A new enquiry's form carries a key of its own, kept when it is shown again (errors, a
    # duplicate warning), so that it logs one enquiry however often it is sent.
    form_key = None if record is not None else (form.text("form_key") or form_keys.new_key())
    return render(
        request,
        scope,
        "enquiry_form.html",
        "enquiries",
        status_code=status_code,
        form=form,
        record=record,
        shown=enquiry_forms.shown_values(form, record, today),
        duplicates=duplicates or [],
        conflict=conflict,
        history_lines=history_lines,
        base_inputs=enquiry_forms.base_inputs(base) if base is not None else [],
        form_key=form_key,
        choices=enquiry_forms.choices,
        ethnicity_items=enquiry_forms.ethnicity_items,
        channel_codes=Channel,
        household_codes=HouseholdType,
        interest_codes=Interest,
        labels=enquiry_forms.LABELS,
        shown_value=enquiry_forms.shown_value,
        enquiry_path=enquiry_path,
        list_path=scope.link(LIST),
    )


def get_record(session: Session, code: str, enquiry_id: int, today: date) -> Any:
    """One enquiry of the authority (404 page for another's)."""
    return get_enquiry(session, code, enquiry_id, today)
