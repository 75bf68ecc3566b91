"""The national benchmark data set (demo.national): reproducible, loads on both backends,
sized from the councils' real figures."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from demo.enquiries import annual_volume
from demo.national import councils, generate_national, scale_factor
from tests.conftest import _empty
from tracker.core.db import Database
from tracker.core.errors import InvalidValueError
from tracker.enquiries.tables import Enquiry, EnquiryEvent

TODAY = date(2026, 12, 4)
# Hartlepool (30 enquiries in 2018-19), Middlesbrough (215), Redcar and Cleveland (110).
SLICE = ["E06000001", "E06000002", "E06000003"]
# One year of each national enquiry at the 600,000 over ten years.
ONE_YEAR = 60_000


def _rows(database: Database) -> list[tuple[object, ...]]:
    with database.read_session() as session:
        enquiries = session.execute(
            select(
                Enquiry.authority_code,
                Enquiry.external_ref,
                Enquiry.enquirer_name,
                Enquiry.approved_on,
                Enquiry.received_on,
                Enquiry.stage,
                Enquiry.closed_on,
                Enquiry.closure_reason,
            ).order_by(Enquiry.external_ref)
        ).all()
    return [tuple(row) for row in enquiries]


def test_the_reference_holds_155_councils_with_a_region() -> None:
    assert len(councils()) == 155


def test_ten_years_at_600000_scale_the_real_enquiries_by_about_five_thirds() -> None:
    # 35,975 enquiries a year in the reference (150 where Ofsted has none).
    assert scale_factor(councils(), 10, 600_000) == pytest.approx(600_000 / 359_750)


def test_unknown_council_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValueError) as raised:
        councils(["E99999999"])
    assert raised.value.field == "authorities"


def test_slice_loads_sized_from_real_figures_and_again_identically(db: Database) -> None:
    first = generate_national(db, today=TODAY, years=1, enquiries=ONE_YEAR, codes=SLICE)
    scale = scale_factor(councils(), 1, ONE_YEAR)
    assert [c.code for c in first.loaded] == SLICE
    by_code = {c.code: c for c in first.loaded}
    for figures in councils(SLICE):
        expected = annual_volume(figures) * scale
        # Arrivals are drawn around the yearly volume: within a fifth of it.
        assert abs(by_code[figures.code].enquiries - expected) <= 0.2 * expected + 5
    # Middlesbrough's 215 a year against Hartlepool's 30.
    assert by_code["E06000002"].enquiries > 4 * by_code["E06000001"].enquiries
    with db.read_session() as session:
        stored = session.scalar(select(func.count()).select_from(Enquiry))
        events = session.scalar(select(func.count()).select_from(EnquiryEvent))
    assert stored == first.enquiries
    assert events == sum(c.events for c in first.loaded)
    rows = _rows(db)

    again = generate_national(db, today=TODAY, years=1, enquiries=ONE_YEAR, codes=SLICE)
    assert again.loaded == []
    assert again.skipped == SLICE

    _empty(db)
    generate_national(db, today=TODAY, years=1, enquiries=ONE_YEAR, codes=SLICE)
    assert _rows(db) == rows
