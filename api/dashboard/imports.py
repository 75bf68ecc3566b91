"""Uploading spreadsheets on the dashboard: choose the file, see what it would do (a dry run:
new, changed and unchanged rows, or every error by row and column with nothing stored),
then confirm to import it. The kinds and their domain functions are in `import_kinds`; the
files wait for their confirmation in `uploads`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from sqlalchemy.orm import Session

from api.access import ACCESS
from api.dashboard import uploads
from api.dashboard.enquiries import own_scope
from api.dashboard.forms import Form, checked_form
from api.dashboard.import_kinds import KINDS, RUNNERS, ImportKind, Run
from api.dashboard.pages import AuthorityCode
from api.dashboard.rendering import done, render
from api.dashboard.scope import Scope
from api.deps import WRITER
from api.disconnect import stop_on_disconnect
from api.params import RecordId
from api.uploads import IMPORT_LIMIT
from tracker.core.access import Caller
from tracker.core.errors import DomainError, ImportRejectedError
from tracker.core.settings import Settings

MAX_FILES = 30
UPLOAD = {"access": "dashboard.uploads"}
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _kind(kind: str, caller: Caller) -> ImportKind:
    """The kind of upload, once the caller's role may import it (the role table's kind)."""
    found = KINDS.get(kind)
    if found is None:
        raise NotFoundException(f"there is no upload of {kind!r} here")
    if caller.role not in ACCESS[found.access]:
        raise PermissionDeniedException(f"the {caller.role} role may not upload {kind} files")
    return found


def _files(data: dict[str, Any]) -> list[uploads.UploadedFile]:
    sent = data.get("files")
    parts = sent if isinstance(sent, list) else [sent]
    return [
        uploads.UploadedFile(p.filename or f"file {i}", p.file.read())
        for i, p in enumerate(parts, 1)
        if isinstance(p, UploadFile) and (p.filename or "")
    ]


class ImportPages(Controller):
    """Upload, preview, confirm."""

    path = "/uploads/{kind:str}"
    include_in_schema = False

    @get("/", opt=UPLOAD, sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        caller: Caller,
        kind: str,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """The upload form."""
        scope = own_scope(session, caller, authority)
        return _upload_page(request, scope, _kind(kind, caller), Form())

    @post(
        "/",
        opt=UPLOAD,
        dependencies=WRITER,
        sync_to_thread=True,
        request_max_body_size=IMPORT_LIMIT,
        middleware=[stop_on_disconnect],
    )
    def preview(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        writer: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        kind: str,
        data: Multipart,
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Check the files without storing anything; keep them for the confirmation."""
        scope = own_scope(session, caller, authority)
        chosen = _kind(kind, caller)
        form = checked_form(request, {"csrf_token": data.get("csrf_token")})
        files = _files(data)
        options = {"replace": data.get("replace") == "yes"} if chosen.may_replace else {}
        if not files:
            form.errors.add("files", "Select a file" + ("s" if chosen.several else ""))
        elif len(files) > (MAX_FILES if chosen.several else 1):
            form.errors.add("files", f"Select {MAX_FILES if chosen.several else 1} file at most")
        if form.errors:
            return _upload_page(request, scope, chosen, form, status_code=400)
        code = scope.authority_code
        assert code is not None and caller.token_id is not None
        checking = writer if chosen.dry_run_writes else session
        run = Run(
            session=checking,
            caller=caller,
            code=code,
            files=files,
            options=options,
            today=today,
            settings=settings,
            dry_run=True,
        )
        try:
            outcome = RUNNERS[chosen.key](run)
        except ImportRejectedError as rejected:
            checking.rollback()
            return _upload_page(request, scope, chosen, form, rejected=rejected, status_code=400)
        except DomainError as refused:
            checking.rollback()
            form.errors.add("files", refused.message[:1].upper() + refused.message[1:])
            return _upload_page(request, scope, chosen, form, status_code=400)
        checking.rollback()
        session.rollback()
        upload_id = uploads.keep(writer, caller.token_id, code, chosen.key, files, options)
        writer.commit()
        return render(
            request,
            scope,
            "upload_preview.html",
            chosen.nav,
            kind=chosen,
            outcome=outcome,
            summary=[
                {"key": {"text": name}, "value": {"text": f"{n:,}"}} for name, n in outcome.counts
            ],
            files=[f.name for f in files],
            options=options,
            action=scope.link(f"/dashboard/uploads/{chosen.key}/{upload_id}"),
            again=scope.link(f"/dashboard/uploads/{chosen.key}"),
        )

    @post("/{upload_id:int}", opt=UPLOAD, dependencies=WRITER, sync_to_thread=True)
    def confirm(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        writer: Session,
        caller: Caller,
        settings: Settings,
        today: date,
        kind: str,
        upload_id: RecordId,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
        authority: AuthorityCode = None,
    ) -> Response[Any]:
        """Import the files previewed (all or nothing, as the preview said)."""
        scope = own_scope(session, caller, authority)
        chosen = _kind(kind, caller)
        form = checked_form(request, data)
        code = scope.authority_code
        assert code is not None and caller.token_id is not None
        if chosen.checks_apart:
            # Read and check without the write lock; the upload is taken in the writer's
            # short transaction, with the changes (a second confirmation finds it gone).
            pending = uploads.peek(session, upload_id, caller.token_id, code, chosen.key)
        else:
            pending = uploads.take(writer, upload_id, caller.token_id, code, chosen.key)
        run = Run(
            session=session if chosen.checks_apart else writer,
            writer=writer if chosen.checks_apart else None,
            caller=caller,
            code=code,
            files=pending.files,
            options=pending.options,
            today=today,
            settings=settings,
            dry_run=False,
        )
        try:
            outcome = RUNNERS[chosen.key](run)
            if chosen.checks_apart:
                uploads.take(writer, upload_id, caller.token_id, code, chosen.key)
        except ImportRejectedError as rejected:
            # The stored records changed since the preview: say what is wrong now.
            writer.rollback()
            session.rollback()
            return _upload_page(request, scope, chosen, form, rejected=rejected, status_code=409)
        writer.commit()
        counts = {name.lower(): str(n) for name, n in outcome.counts if " " not in name}
        return done(scope, chosen.back, chosen.banner, **counts)


def _upload_page(
    request: Request[Any, Any, Any],
    scope: Scope,
    kind: ImportKind,
    form: Form,
    *,
    rejected: ImportRejectedError | None = None,
    status_code: int = 200,
) -> Response[Any]:
    errors = [
        [e.file or "", str(e.row), e.field or "", e.message]
        for e in (rejected.errors if rejected else [])
    ]
    return render(
        request,
        scope,
        "upload.html",
        kind.nav,
        status_code=status_code,
        kind=kind,
        form=form,
        rejected=rejected,
        errors=errors,
        action=scope.link(f"/dashboard/uploads/{kind.key}"),
        back=scope.link(kind.back),
    )
