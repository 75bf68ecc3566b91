"""The funnel's stage rules, as pure functions."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.core.errors import StageRuleError
from tracker.enquiries.stages import (
    STAGE_ORDER,
    ClosureReason,
    Stage,
    check_advance,
    check_closure,
    check_history,
)

TODAY = date(2026, 11, 23)
START = date(2026, 1, 5)


def refused(rule: str, call, *args) -> None:
    with pytest.raises(StageRuleError) as caught:
        call(*args)
    assert caught.value.rule == rule


def test_moves_go_forward_only():
    reached = {Stage.ENQUIRY: START, Stage.FIRST_CONTACT: START}
    refused(
        "forward_only", check_advance, reached, Stage.FIRST_CONTACT, Stage.ENQUIRY, START, TODAY
    )
    refused(
        "forward_only",
        check_advance,
        reached,
        Stage.FIRST_CONTACT,
        Stage.FIRST_CONTACT,
        START,
        TODAY,
    )


def test_approval_without_application_is_refused():
    reached = {Stage.ENQUIRY: START}
    refused(
        "application_required", check_advance, reached, Stage.ENQUIRY, Stage.APPROVED, START, TODAY
    )
    refused(
        "application_required", check_advance, reached, Stage.ENQUIRY, Stage.STAGE_1, START, TODAY
    )


def test_stages_before_application_may_be_skipped():
    check_advance({Stage.ENQUIRY: START}, Stage.ENQUIRY, Stage.APPLICATION, START, TODAY)


def test_a_stage_dated_before_the_previous_one_is_refused():
    reached = {Stage.ENQUIRY: START, Stage.FIRST_CONTACT: START + timedelta(days=3)}
    refused(
        "date_before_previous_stage",
        check_advance,
        reached,
        Stage.FIRST_CONTACT,
        Stage.INITIAL_VISIT,
        START,
        TODAY,
    )


def test_a_stage_dated_in_the_future_is_refused():
    refused(
        "date_in_future",
        check_advance,
        {Stage.ENQUIRY: START},
        Stage.ENQUIRY,
        Stage.FIRST_CONTACT,
        TODAY + timedelta(days=1),
        TODAY,
    )


def test_rejection_after_panel_needs_the_panel():
    refused(
        "rejection_needs_panel", check_closure, Stage.STAGE_2, ClosureReason.REJECTED_AFTER_PANEL
    )
    check_closure(Stage.PANEL, ClosureReason.REJECTED_AFTER_PANEL)


def test_an_approved_enquiry_cannot_be_closed():
    refused("closed_after_approval", check_closure, Stage.APPROVED, ClosureReason.OTHER)


@given(
    moves=st.lists(
        st.tuples(st.sampled_from(STAGE_ORDER), st.integers(min_value=-30, max_value=60)),
        max_size=12,
    )
)
def test_any_accepted_sequence_keeps_dates_ordered_and_application_first(moves):
    """Whatever moves are tried, the accepted ones leave a history check_history accepts."""
    reached = {Stage.ENQUIRY: START}
    current = Stage.ENQUIRY
    for target, offset in moves:
        on = reached[current] + timedelta(days=offset)
        try:
            check_advance(reached, current, target, on, TODAY)
        except StageRuleError:
            continue
        reached[target] = on
        current = target
    check_history(reached, TODAY)
    dates = [reached[s] for s in STAGE_ORDER if s in reached]
    assert dates == sorted(dates)
    if any(s.rank > Stage.APPLICATION.rank for s in reached):
        assert Stage.APPLICATION in reached
