"""Working days and due dates of the funnel's timeliness norms."""

from datetime import date

from tracker.enquiries.timeliness import (
    approval_due,
    approval_overdue_if_applied_by,
    first_contact_due,
    first_contact_overdue_if_received_by,
    is_working_day,
)


def test_first_contact_is_due_the_next_working_day():
    assert first_contact_due(date(2026, 11, 23)) == date(2026, 11, 24)  # Monday -> Tuesday


def test_a_friday_enquiry_is_due_on_monday():
    assert first_contact_due(date(2026, 11, 20)) == date(2026, 11, 23)


def test_bank_holidays_are_not_working_days():
    # Thursday 24 Dec 2026: Christmas (Fri), weekend, Boxing Day observed (Mon 28th).
    assert not is_working_day(date(2026, 12, 28))
    assert first_contact_due(date(2026, 12, 24)) == date(2026, 12, 29)
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April.
    assert first_contact_due(date(2026, 4, 2)) == date(2026, 4, 7)


def test_approval_is_due_eight_months_after_application():
    assert approval_due(date(2026, 1, 15)) == date(2026, 9, 15)
    assert approval_due(date(2025, 6, 30)) == date(2026, 2, 28)


def test_overdue_thresholds_match_the_due_dates():
    today = date(2026, 11, 24)  # Tuesday
    cutoff = first_contact_overdue_if_received_by(today)
    assert first_contact_due(cutoff) < today
    assert first_contact_due(date.fromordinal(cutoff.toordinal() + 1)) >= today
    assert cutoff == date(2026, 11, 22)  # Sunday's enquiry was due Monday
    applied = approval_overdue_if_applied_by(today)
    assert approval_due(applied) < today <= approval_due(date.fromordinal(applied.toordinal() + 1))
