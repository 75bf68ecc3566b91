"""The recruitment funnel's stages, closure reasons and the rules for moving between them."""

from __future__ import annotations

import enum
from datetime import date

from tracker.core.errors import StageRuleError


class Stage(enum.StrEnum):
    """Funnel stages in order, from the first enquiry to approval."""

    ENQUIRY = "enquiry"
    FIRST_CONTACT = "first_contact"
    INITIAL_VISIT = "initial_visit"
    APPLICATION = "application"
    STAGE_1 = "stage_1"
    STAGE_2 = "stage_2"
    PANEL = "panel"
    APPROVED = "approved"

    @property
    def rank(self) -> int:
        """Position in the funnel (0 for enquiry)."""
        return STAGE_ORDER.index(self)

    @property
    def date_column(self) -> str:
        """Name of the enquiry column holding the date this stage was reached."""
        return "received_on" if self is Stage.ENQUIRY else f"{self.value}_on"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)
LATER_STAGES: tuple[Stage, ...] = STAGE_ORDER[1:]
# Stages that only follow an application: assessment, panel and approval.
NEEDS_APPLICATION: frozenset[Stage] = frozenset(s for s in STAGE_ORDER if s.rank > 3)


class ClosureReason(enum.StrEnum):
    """Why an enquiry closed before approval."""

    WITHDRAWN_BY_APPLICANT = "withdrawn_by_applicant"
    WITHDRAWN_BY_SERVICE = "withdrawn_by_service"
    REJECTED_AFTER_PANEL = "rejected_after_panel"
    NO_RESPONSE = "no_response"
    OTHER_AGENCY = "other_agency"
    OTHER = "other"


class WithdrawalReason(enum.StrEnum):
    """Why an applicant withdrew before approval: Ofsted's codes (collected from 2023-24)."""

    AW1 = "AW1"  # fostering was not as the applicant expected
    AW2 = "AW2"  # the assessment process was not as the applicant expected
    AW3 = "AW3"  # household circumstances changed (other than financial)
    AW4 = "AW4"  # the applicant could not continue for financial reasons
    AW5 = "AW5"  # the applicant was concerned about the risk of allegations
    AW0 = "AW0"  # another reason, or not known


# Closures by the applicant's side, and the withdrawal code each counts under when no
# reason was recorded: none of them says why the applicant withdrew, so "other or unknown".
APPLICANT_WITHDRAWALS: dict[ClosureReason, WithdrawalReason] = {
    ClosureReason.WITHDRAWN_BY_APPLICANT: WithdrawalReason.AW0,
    ClosureReason.NO_RESPONSE: WithdrawalReason.AW0,
    ClosureReason.OTHER_AGENCY: WithdrawalReason.AW0,
    ClosureReason.OTHER: WithdrawalReason.AW0,
}
# Closures that end an application by the service's decision (Ofsted: rejected).
REJECTIONS: frozenset[ClosureReason] = frozenset(
    {ClosureReason.WITHDRAWN_BY_SERVICE, ClosureReason.REJECTED_AFTER_PANEL}
)


def withdrawal_code(
    reason: ClosureReason, recorded: WithdrawalReason | None
) -> WithdrawalReason | None:
    """The withdrawal code an applicant's closure counts under (the recorded one, else the
    reason's default); None for closures that are not the applicant's."""
    default = APPLICANT_WITHDRAWALS.get(reason)
    return None if default is None else recorded or default


class Status(enum.StrEnum):
    """Whether an enquiry is still moving through the funnel."""

    OPEN = "open"
    CLOSED = "closed"
    APPROVED = "approved"


def check_advance(
    reached: dict[Stage, date], current: Stage, target: Stage, on: date, today: date
) -> None:
    """Refuse a move to `target` on date `on` that breaks a funnel rule.

    `reached` maps each stage reached so far to its date (enquiry included).
    """
    if target.rank <= current.rank:
        raise StageRuleError(
            f"stage moves go forward only: {target} is not after the current stage {current}"
            " (reopen the enquiry to move it back)",
            rule="forward_only",
            field="stage",
        )
    if target in NEEDS_APPLICATION and Stage.APPLICATION not in reached:
        raise StageRuleError(
            f"{target} needs an application first: record the application stage before it",
            rule="application_required",
            field="stage",
        )
    check_stage_date(reached, current, on, today)


def check_stage_date(reached: dict[Stage, date], current: Stage, on: date, today: date) -> None:
    """Refuse a date in the future or before the date of the current stage."""
    if on > today:
        raise StageRuleError(
            f"date {on.isoformat()} is in the future", rule="date_in_future", field="on"
        )
    previous = reached.get(current)
    if previous is not None and on < previous:
        raise StageRuleError(
            f"date {on.isoformat()} is before the {current} date {previous.isoformat()}",
            rule="date_before_previous_stage",
            field="on",
        )


def closure_reasons(current: Stage) -> list[ClosureReason]:
    """The closure reasons that fit the stage an open enquiry has reached: a rejection after
    panel only at the panel stage; none once approved."""
    if current is Stage.APPROVED:
        return []
    return [
        r
        for r in ClosureReason
        if r is not ClosureReason.REJECTED_AFTER_PANEL or current is Stage.PANEL
    ]


def check_closure(
    current: Stage, reason: ClosureReason, withdrawal: WithdrawalReason | None = None
) -> None:
    """Refuse closure reasons (and withdrawal reasons) that do not fit the stage reached."""
    if current is Stage.APPROVED:
        raise StageRuleError(
            "an approved enquiry cannot be closed (deregister the household instead)",
            rule="closed_after_approval",
            field="reason",
        )
    if reason not in closure_reasons(current):
        raise StageRuleError(
            "rejected_after_panel is only for an enquiry at the panel stage",
            rule="rejection_needs_panel",
            field="reason",
        )
    if withdrawal is None:
        return
    if reason not in APPLICANT_WITHDRAWALS:
        raise StageRuleError(
            f"a withdrawal_reason goes with the applicant's closures, not {reason}",
            rule="withdrawal_reason_applicant_only",
            field="withdrawal_reason",
        )
    if current.rank < Stage.APPLICATION.rank:
        raise StageRuleError(
            "a withdrawal_reason needs an application: before it, the enquirer is not an applicant",
            rule="withdrawal_reason_needs_application",
            field="withdrawal_reason",
        )


def check_history(reached: dict[Stage, date], today: date) -> None:
    """Check a whole set of stage dates at once (used by imports).

    Dates must not be in the future, must not go backwards along the funnel, and the
    stages after application need an application date.
    """
    last: tuple[Stage, date] | None = None
    for stage in STAGE_ORDER:
        on = reached.get(stage)
        if on is None:
            continue
        if on > today:
            raise StageRuleError(
                f"{stage.date_column} {on.isoformat()} is in the future",
                rule="date_in_future",
                field=stage.date_column,
            )
        if last is not None and on < last[1]:
            raise StageRuleError(
                f"{stage.date_column} {on.isoformat()} is before"
                f" {last[0].date_column} {last[1].isoformat()}",
                rule="date_before_previous_stage",
                field=stage.date_column,
            )
        if stage in NEEDS_APPLICATION and Stage.APPLICATION not in reached:
            raise StageRuleError(
                f"{stage.date_column} is set without an application_on date",
                rule="application_required",
                field=stage.date_column,
            )
        last = (stage, on)
