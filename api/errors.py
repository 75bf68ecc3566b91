"""Every error answered as RFC 9457 problem details naming the rule or field at fault."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from tracker.core.cancellation import AbandonedError
from tracker.core.errors import (
    ConflictError,
    DomainError,
    ImportRejectedError,
    InvalidValueError,
    NotFoundError,
    StageRuleError,
    TooSoonError,
    UploadTooLargeError,
    VersionMismatchError,
)
from tracker.core.patterns import plain_words

log = logging.getLogger("fostering.api")
PROBLEM = "application/problem+json"
# Stage rules about the dates given are input errors; the rest are conflicts with state.
DATE_RULES = frozenset({"date_in_future", "date_before_previous_stage"})
# Upload limits on a file's shape are input errors (422); on its size once unpacked, 413.
SHAPE_RULES = frozenset({"line_too_long", "too_many_columns", "column_name_too_long"})


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """A problem-details response."""
    body = {"status": status, "title": title, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _domain_status(exc: DomainError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, VersionMismatchError):
        return 412
    if isinstance(exc, InvalidValueError | ImportRejectedError):
        return 422
    if isinstance(exc, UploadTooLargeError):
        return 422 if exc.rule in SHAPE_RULES else 413
    if isinstance(exc, StageRuleError):
        return 422 if exc.rule in DATE_RULES else 409
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, TooSoonError):
        return 429
    return 400


def domain_error(request: Request, exc: DomainError) -> Response[dict[str, Any]]:
    """A refusal from the domain."""
    if isinstance(exc, AbandonedError):
        log.info("%s: stopped reading the upload, the client disconnected", request.url.path)
    errors, counts = None, {}
    if isinstance(exc, ImportRejectedError):
        errors = [
            {"row": e.row, "field": e.field, "message": e.message}
            | ({"file": e.file} if e.file else {})
            for e in exc.errors
        ]
        counts = {"error_count": exc.total}
        if exc.left_out:
            counts["errors_left_out"] = exc.left_out
    elif isinstance(exc, UploadTooLargeError) and exc.row is not None:
        errors = [{"row": exc.row, "field": exc.field, "message": exc.message}]
    status = _domain_status(exc)
    response = problem(
        status, exc.rule, exc.message, rule=exc.rule, field=exc.field, errors=errors, **counts
    )
    if isinstance(exc, TooSoonError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


# msgspec names an unknown or a missing field only in its message.
UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
# A handler's `data` missing altogether: Litestar gives none for an empty body.
NO_BODY = "Object missing required field `data`"
# Where in a list body msgspec found the fault (Litestar drops the path): `$.data[0].value`
# is `value` of row 1.
LIST_ITEM = re.compile(r" - at `\$\.data\[(\d+)\](?:\.(\w+))?")


def _field_of(item: dict[str, Any]) -> str | None:
    message = str(item.get("message") or "")
    if unknown := UNKNOWN_FIELD.search(message):
        return unknown.group(1)
    key = str(item.get("key") or "").removeprefix("$.")
    if key in ("data", "body"):
        return "body"
    return key or None


def _msgspec_message(exc: ValidationException) -> str:
    """msgspec's own message for the request, with the path Litestar leaves out ("" if none)."""
    cause = exc.__cause__
    return str(cause) if isinstance(cause, msgspec.ValidationError) else ""


def _malformed_body(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        # ValidationError subclasses DecodeError but means well-formed JSON of the wrong shape.
        if isinstance(cause, msgspec.DecodeError) and not isinstance(
            cause, msgspec.ValidationError
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _error_of(item: dict[str, Any], in_list: re.Match[str] | None) -> dict[str, Any]:
    """One fault as the answer lists it; in a list body, with its row (1 is the first)."""
    message = str(item.get("message") or "")
    error: dict[str, Any] = {
        "field": _field_of(item),
        "message": plain_words(message),
        "source": item.get("source"),
    }
    if in_list and item.get("key") == "data":
        unknown = UNKNOWN_FIELD.search(message)
        error["row"] = int(in_list.group(1)) + 1
        error["field"] = in_list.group(2) or (unknown.group(1) if unknown else None)
    return error


def validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    """Malformed or mistyped input: name each field."""
    if _malformed_body(exc):
        return problem(
            400, "malformed_body", f"the request body is not valid JSON: {exc.detail}", field="body"
        )
    fault = _msgspec_message(exc)
    if fault == NO_BODY:
        return problem(
            400, "empty_body", "the request body is empty: send it as JSON", field="body"
        )
    errors = [
        _error_of(item, LIST_ITEM.search(fault))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = "; ".join(
        (f"row {e['row']} " if "row" in e else "")
        + (f"{e['field']}: {e['message']}" if e["field"] else str(e["message"]))
        for e in errors
    )
    return problem(400, "invalid_request", detail or str(exc.detail), errors=errors or None)


def _too_large(request: Request) -> Response[dict[str, Any]]:
    """413 naming the route's limit on the request body (a file upload's size)."""
    limit = request.route_handler.resolve_request_max_body_size()
    detail = "the request body is too large"
    if limit:
        detail += f": this route takes at most {limit:,} bytes ({limit / 1_000_000:g} MB)"
    return problem(413, "body_too_large", detail, rule="body_too_large", field="body", limit=limit)


def http_error(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's own HTTP errors (401, 403, 404, 405, 413, ...)."""
    if exc.status_code == 400 and _malformed_body(exc):
        return problem(
            400, "malformed_body", f"the request body is not valid JSON: {exc.detail}", field="body"
        )
    if exc.status_code == 413 and "route_handler" in request.scope:
        return _too_large(request)
    field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
    response = problem(exc.status_code, "http_error", str(exc.detail), field=field)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def integrity_error(_: Request, exc: IntegrityError) -> Response[dict[str, Any]]:
    """A constraint the database enforced (a race on a unique reference, say)."""
    log.warning("integrity error: %s", type(exc.orig).__name__)
    return problem(409, "conflict", "the change conflicts with stored data", rule="constraint")


def data_error(_: Request, exc: DataError) -> Response[dict[str, Any]]:
    """A value the database cannot hold (a number out of range, a NUL character)."""
    log.warning("data error: %s", type(exc.orig).__name__)
    return problem(400, "invalid_value", "a value is out of the range the database can hold")


def operational_error(_: Request, exc: OperationalError) -> Response[dict[str, Any]]:
    """The database is busy or unreachable: ask the client to retry."""
    log.error("database unavailable: %s", type(exc.orig).__name__)
    return problem(503, "database_unavailable", "the database is busy or unreachable; retry")


def unexpected_error(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    """Anything else: log it (no request data) and say nothing of internals."""
    log.exception("unhandled %s", type(exc).__name__)
    return problem(500, "internal_error", "an unexpected error occurred")


class ProblemItem(msgspec.Struct, kw_only=True):
    """One of several faults: a field of the request, or a row (and file) of an import."""

    field: str | None = None
    message: str | None = None
    source: str | None = None
    row: int | None = None
    file: str | None = None


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, the body of every error response."""

    status: int
    title: str
    detail: str
    rule: str | None = None
    field: str | None = None
    errors: list[ProblemItem] | None = None
    # An import's errors: how many were found, and how many of them are not listed.
    error_count: int | None = None
    errors_left_out: int | None = None
    # A body too large: the route's limit in bytes.
    limit: int | None = None


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem, media_type=PROBLEM, description=description, generate_examples=False
    )


ANY_ROUTE = {
    400: _problem_spec("Invalid request: the field at fault is named"),
    500: _problem_spec("Unexpected error (nothing internal is disclosed)"),
    503: _problem_spec("Database busy or unreachable; retry (see Retry-After)"),
}
PROTECTED = {
    401: _problem_spec("No valid bearer token"),
    403: _problem_spec("The token's role or scope does not allow this"),
    404: _problem_spec("No such authority, region or record"),
    409: _problem_spec("Conflicts with stored data or a rule (named in `rule`)"),
    422: _problem_spec("A value breaks a rule (named in `rule` and `field`)"),
    429: _problem_spec(
        "Too many requests: failed authentications from this client, requests of this token,"
        " or a forecast run started too soon after the last (see Retry-After)"
    ),
}
WRITING_ROUTE = {
    412: _problem_spec("If-Match does not match the current version"),
    413: _problem_spec(
        "Request body too large (`limit` in bytes), or an uploaded file past a limit on what"
        " is read (named in `rule`)"
    ),
    428: _problem_spec("If-Match required"),
}
JSON_BODY = {415: _problem_spec("The body was not sent as JSON (Content-Type: application/json)")}


def _takes_json(handler: HTTPRouteHandler) -> bool:
    """True when the handler reads a JSON body (`data` with no other media type)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    media = getattr(data.kwarg_definition, "media_type", None)
    return media in (None, RequestEncodingType.JSON)


def declare_problem_responses(app: Litestar) -> None:
    """Document the problem+json error responses on every operation of the OpenAPI spec.

    Litestar would otherwise describe its own default error body; a handler's own
    `responses` entries win. Cheap: it only sets attributes read when the spec is built.
    """
    for route in app.routes:
        for handler in route.route_handlers:
            if not isinstance(handler, HTTPRouteHandler):
                continue
            declared: dict[int, ResponseSpec] = dict(ANY_ROUTE)
            if not handler.opt.get("public"):
                declared |= PROTECTED
            if any(m in ("POST", "PUT", "PATCH", "DELETE") for m in handler.http_methods):
                declared |= WRITING_ROUTE
            if _takes_json(handler):
                declared |= JSON_BODY
            handler.responses = declared | dict(handler.responses or {})


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    IntegrityError: integrity_error,
    DataError: data_error,
    OperationalError: operational_error,
    Exception: unexpected_error,
}
