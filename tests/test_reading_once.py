"""Work the dashboard's pages no longer repeat: a rate's numerator and denominator read in
one pass over their source, and a proportion's simulated paths fitted once per set of
figures. Both must give exactly what reading and fitting afresh gives."""

from __future__ import annotations

from datetime import date

from forecast.proportions import forecast_proportion
from tests.conftest import STOKE
from tracker.core.access import SYSTEM
from tracker.enquiries.schemas import NewEnquiry
from tracker.enquiries.service import create_enquiry
from tracker.enquiries.vocabulary import Channel
from tracker.households.care_types import HouseholdCareType
from tracker.households.schemas import NewHousehold
from tracker.households.service import approve_household
from tracker.series import register, registry
from tracker.series.keys import SeriesKey
from tracker.targets.trajectories import proportion_paths


def test_a_numerator_and_denominator_of_one_source_are_read_in_one_pass(authorities, monkeypatch):
    with authorities.writing() as session:
        new = NewHousehold(
            reference="H-1",
            care_type=HouseholdCareType.IN_HOUSE,
            approved_on=date(2024, 1, 10),
            approved_places=2,
        )
        approve_household(session, SYSTEM, STOKE, new, date(2026, 6, 1))
        # The register speaks for months from its first enquiry (or leaver) on.
        create_enquiry(
            session, SYSTEM, STOKE,
            NewEnquiry(received_on=date(2023, 12, 1), channel=Channel.PHONE), date(2026, 6, 1),
        )  # fmt: skip
    keys = [
        SeriesKey("filled_places", "care_type=in_house"),
        SeriesKey("available_places", "care_type=in_house"),
    ]
    calls = []
    frame = register.RegisterSource.frame

    def counted(self, ask):
        calls.append(sorted(ask.metrics))
        return frame(self, ask)

    monkeypatch.setattr(register.RegisterSource, "frame", counted)
    first, last = date(2024, 2, 1), date(2026, 5, 1)
    with authorities.read_session() as session:
        together = registry.read_many(session, STOKE, keys, first, last)
        assert calls == [["available_places", "filled_places"]]
        apart = [registry.read(session, STOKE, k, first, last) for k in keys]
    assert together == apart
    assert 2.0 in together[1].values  # the two places, once the register speaks for a month


def test_proportion_paths_are_fitted_once_and_equal_a_fresh_fit():
    numerators = (3.0, 4.0, 2.0, 5.0, 3.0, 4.0, 6.0, 2.0, 3.0, 4.0, 5.0, 3.0, 4.0)
    denominators = (6.0, 7.0, 5.0, 8.0, 6.0, 6.0, 9.0, 4.0, 5.0, 7.0, 8.0, 6.0, 6.0)
    args = (
        "E06000021/staying_put/total",
        date(2025, 1, 1),
        numerators,
        denominators,
        12,
        200,
        False,
    )
    proportion_paths.cache_clear()
    first = proportion_paths(*args)
    again = proportion_paths(*args)
    assert again is first and proportion_paths.cache_info().hits == 1
    fresh = forecast_proportion(args[0], args[1], numerators, denominators, horizon=12, paths=200)
    assert first.numerator_paths == fresh.numerator_paths
    other = proportion_paths(*args[:2], (*numerators[:-1], 6.0), *args[3:])
    assert other is not first and proportion_paths.cache_info().misses == 2
