"""Series from the household register: deregistrations, net change and month-end households,
and the month-end households and places of the care types targets are set on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.capacity.figures import monthly_flows
from tracker.capacity.schemas import PlaceCounts
from tracker.households.care_types import HouseholdCareType, HouseholdStatus
from tracker.households.tables import HouseholdVersion
from tracker.series.funnel import first_enquiry
from tracker.series.keys import SeriesKey
from tracker.series.source import Ask, Family, Frame, Keep, floats
from tracker.series.window import Span, first_full_month

IN_HOUSE = HouseholdCareType.IN_HOUSE.value
CARE_TYPES: tuple[HouseholdCareType, ...] = (
    HouseholdCareType.IN_HOUSE,
    HouseholdCareType.SUPPORTED_LODGINGS,
)
"""Care types whose month-end households are series of their own (targets are set on them)."""


def register_start(session: Session, code: str) -> date | None:
    """The first day the register shows it records leavers (its first deregistration) or
    enquiries start, whichever is earlier: before that it holds only the households that are
    still there, so its stock and flows would be too low."""
    first_leaver = session.scalar(
        select(func.min(HouseholdVersion.valid_from)).where(
            HouseholdVersion.authority_code == code,
            HouseholdVersion.status == HouseholdStatus.DEREGISTERED.value,
        )
    )
    known = [d for d in (first_leaver, first_enquiry(session, code)) if d is not None]
    return min(known) if known else None


def _available(counts: PlaceCounts) -> int:
    return counts.approved_places - counts.unavailable_places


class RegisterSource:
    """Month-end stocks and monthly flows of the register."""

    name = "register"

    def span(self, session: Session, code: str) -> Span:
        """From the first full month after `register_start`."""
        return Span(first_full_month(register_start(session, code)))

    def available(self, session: Session, code: str, key: SeriesKey) -> bool:
        """Whether the register can be trusted for any month."""
        return register_start(session, code) is not None

    def frame(self, ask: Ask) -> Frame:
        """Every register series, month by month."""
        flows = monthly_flows(ask.session, ask.code, ask.months[0], ask.last_day, by_care_type=True)
        by_type = [f.by_care_type or {} for f in flows]
        values = {
            SeriesKey("deregistrations"): floats([f.deregistrations for f in flows]),
            SeriesKey("net_households"): floats([f.net_change for f in flows]),
            SeriesKey("households"): floats([f.households for f in flows]),
            **{
                SeriesKey("households", f"care_type={t.value}"): floats(
                    [counts[t.value].households for counts in by_type]
                )
                for t in CARE_TYPES
            },
            SeriesKey("filled_places", f"care_type={IN_HOUSE}"): floats(
                [counts[IN_HOUSE].filled_places for counts in by_type]
            ),
            SeriesKey("available_places", f"care_type={IN_HOUSE}"): floats(
                [_available(counts[IN_HOUSE]) for counts in by_type]
            ),
        }
        return Frame(
            values={k: v for k, v in values.items() if k.metric in ask.metrics}, label=self.name
        )


SOURCE = RegisterSource()
FAMILIES: tuple[Family, ...] = (
    Family("deregistrations", SOURCE),
    Family("net_households", SOURCE, is_count=False),
    Family("households", SOURCE),
    Family("households", SOURCE, "care_type=", parts=True, keep=Keep.ABOVE_ZERO),
    Family("filled_places", SOURCE, "care_type=", parts=True, keep=Keep.ABOVE_ZERO),
    Family("available_places", SOURCE, "care_type=", parts=True, forecast=False),
)
"""The series this source builds, in the order forecast runs store them."""
