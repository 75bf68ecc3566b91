"""Domain exceptions, raised in `tracker` and mapped to HTTP once, in the API."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes; `rule` names the rule that refused."""

    rule: str = "domain_error"

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if rule is not None:
            self.rule = rule
        self.field = field


class NotFoundError(DomainError):
    """The record does not exist (or not for this authority)."""

    rule = "not_found"


class InvalidValueError(DomainError):
    """A value is well-formed but not acceptable (a date in the future, an unknown code)."""

    rule = "invalid_value"


class StageRuleError(DomainError):
    """A stage change breaks one of the funnel's rules."""

    rule = "stage_rule"


class ConflictError(DomainError):
    """The change conflicts with stored state (a duplicate reference, for example)."""

    rule = "conflict"


class TooSoonError(DomainError):
    """Asked again before a cool-down has passed; `retry_after_s` says how long to wait."""

    rule = "too_soon"

    def __init__(self, message: str, retry_after_s: int, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s


class VersionMismatchError(DomainError):
    """The record changed since the caller read it (optimistic concurrency)."""

    rule = "version_mismatch"


class RowError(DomainError):
    """One problem in one row of an imported file (and which file, when there are several)."""

    def __init__(self, row: int, field: str | None, message: str, file: str | None = None) -> None:
        super().__init__(message, rule="import_row", field=field)
        self.row = row
        self.file = file


class ImportRejectedError(DomainError):
    """An import found errors and stored nothing."""

    rule = "import_rejected"

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(
            f"{e.file + ' ' if e.file else ''}row {e.row} {e.field or ''}: {e.message}"
            for e in errors[:3]
        )
        super().__init__(f"{len(errors)} error(s), nothing imported: {shown}")
        self.errors = errors


def check_version(entity: str, record_id: object, version: int, expected: int | None) -> None:
    """Refuse a change made against a version other than the stored one."""
    if expected is not None and expected != version:
        raise VersionMismatchError(
            f"{entity} {record_id} is at version {version}, not {expected}: reload and retry",
            field="If-Match",
        )
