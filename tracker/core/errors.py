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


# The most errors an import reports: the others are counted, not listed.
MAX_REPORTED_ERRORS = 100


class ImportRejectedError(DomainError):
    """An import found errors and stored nothing.

    Keeps the first `MAX_REPORTED_ERRORS` errors; `total` counts them all (a checker that
    stopped early may pass the number it found).
    """

    rule = "import_rejected"

    def __init__(self, errors: list[RowError], total: int | None = None) -> None:
        self.total = max(total or 0, len(errors))
        self.errors = errors[:MAX_REPORTED_ERRORS]
        shown = "; ".join(
            f"{e.file + ' ' if e.file else ''}row {e.row} {e.field or ''}: {e.message}"
            for e in self.errors[:3]
        )
        listed = f" (the first {len(self.errors)} listed)" if self.left_out else ""
        super().__init__(f"{self.total} error(s){listed}, nothing imported: {shown}")

    @property
    def left_out(self) -> int:
        """How many errors were found beyond those listed."""
        return self.total - len(self.errors)


def check_version(entity: str, record_id: object, version: int, expected: int | None) -> None:
    """Refuse a change made against a version other than the stored one."""
    if expected is not None and expected != version:
        raise VersionMismatchError(
            f"{entity} {record_id} is at version {version}, not {expected}: reload and retry",
            field="If-Match",
        )


class UploadTooLargeError(DomainError):
    """An uploaded file passes a limit on what is read (its size once unpacked, its rows,
    columns or line length); `row` is the row at fault when there is one. Nothing is stored."""

    def __init__(self, message: str, *, rule: str, field: str, row: int | None = None) -> None:
        super().__init__(message, rule=rule, field=field)
        self.row = row
