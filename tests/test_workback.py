"""Work-back from targets to recruitment activity, on a small hand-checked register and funnel.

As at 15 April 2025 the window is the three years ending 31 March 2025 (1 April 2022 to
31 March 2025). Stoke-on-Trent's enquiries (TODAY is later, so a few dates fall after as_at):

* A: 20 received 3 May 2022, applied 1 June 2022 (29 days); 12 approved 1 March 2023 (273 days
  after applying), 8 withdrew 1 September 2022 (92 days after applying);
* B: 10 received 2 December 2024, applied 15 January 2025 (44 days), open on as_at (two are
  approved on 20 May 2025, after as_at, which must not count);
* C: 60 received 3 May 2022, closed 13 May 2022 (10 days, no response);
* D: 30 received 20 March 2025, open on as_at (26 days);
* E: 10 received 3 May 2022, never went on (open);
* outside: 5 received 2 April 2025 (after the window) that applied on 10 April 2025.

Enquiry -> application (Aalen-Johansen): at day 10, 60 of 130 close (70/130 left); D leaves
the risk set at day 26; at day 29, 20 of the 40 still followed apply (+70/130 x 20/40 = 35/130,
35/130 left); at day 44, 10 of the 20 apply (+35/130 x 10/20 = 17.5/130): 52.5/130 = 0.40385
(the naive 30/130 would count D's 30 as failures).

Application -> approval: 30 applications in the window (A and B); B's are censored at 90 days
(15 Jan to 15 Apr), before A's closures at 92 and approvals at 273, so they count like A's
20: 12/20 = 0.6 (naive 12/30 = 0.4).

Households: 14 in-house households approved 10 January 2021, 2 places each; 3 deregistered
(1 June 2023, 1 September 2023, 1 February 2024), so 14, 14, 11, 11 at the 31 Marches of
2022-2025: 12.5 on average, 3 / (12.5 x 3) = 0.08 a year. On as_at 11 households look after
16 children: 16/11 children per household. A supported lodgings host deregistered in the
window and a connected household must not count.
"""

from datetime import date

import pytest
from sqlalchemy import insert

from tests.conftest import COVENTRY, STOKE
from tracker.core.access import SYSTEM
from tracker.core.errors import InvalidValueError, NotFoundError
from tracker.enquiries.schemas import Closure, NewEnquiry, StageMove
from tracker.enquiries.service import advance_enquiry, close_enquiry, create_enquiry
from tracker.enquiries.stages import ClosureReason, Stage
from tracker.enquiries.tables import Enquiry
from tracker.enquiries.vocabulary import Channel
from tracker.households.care_types import DeregistrationReason, HouseholdCareType, HouseholdStatus
from tracker.households.placements import place_child
from tracker.households.schemas import HouseholdChange, NewHousehold, NewPlacement
from tracker.households.service import approve_household, change_household
from tracker.reference import ENGLAND_CODE, load_reference
from tracker.targets.workback import work_back

TODAY = date(2025, 6, 30)
AS_AT = date(2025, 4, 15)
D = date


def _enquiry(session, received, moves=(), closure=None):
    record = create_enquiry(
        session, SYSTEM, STOKE, NewEnquiry(received_on=received, channel=Channel.PHONE), TODAY
    )
    for stage, on in moves:
        advance_enquiry(session, SYSTEM, STOKE, record.id, StageMove(stage=stage, on=on), TODAY)
    if closure is not None:
        reason, on = closure
        close_enquiry(session, SYSTEM, STOKE, record.id, Closure(reason=reason, on=on), TODAY)


def _household(session, reference, care_type=HouseholdCareType.IN_HOUSE, places=2):
    new = NewHousehold(
        reference=reference, care_type=care_type, approved_places=places, approved_on=D(2021, 1, 10)
    )
    return approve_household(session, SYSTEM, STOKE, new, TODAY).id


def _deregister(session, household_id, on):
    change = HouseholdChange(
        effective_on=on,
        status=HouseholdStatus.DEREGISTERED,
        deregistration_reason=DeregistrationReason.RETIRED,
    )
    change_household(session, SYSTEM, STOKE, household_id, change, TODAY)


@pytest.fixture
def history(authorities):
    applied = (Stage.APPLICATION, D(2022, 6, 1))
    with authorities.writing() as session:
        for i in range(20):  # A
            if i < 12:
                _enquiry(session, D(2022, 5, 3), [applied, (Stage.APPROVED, D(2023, 3, 1))])
            else:
                closure = (ClosureReason.WITHDRAWN_BY_APPLICANT, D(2022, 9, 1))
                _enquiry(session, D(2022, 5, 3), [applied], closure)
        for i in range(10):  # B
            moves = [(Stage.APPLICATION, D(2025, 1, 15))]
            if i < 2:
                moves.append((Stage.APPROVED, D(2025, 5, 20)))
            _enquiry(session, D(2024, 12, 2), moves)
        # C, D and E never move: stored in one statement, as the demo and imports store them.
        plain = {"authority_code": STOKE, "channel": "phone", "interests": []}
        closed = {"closed_on": D(2022, 5, 13), "closure_reason": "no_response"}
        rows = (
            [{**plain, **closed, "received_on": D(2022, 5, 3)} for _ in range(60)]  # C
            + [{**plain, "received_on": D(2025, 3, 20)} for _ in range(30)]  # D
            + [{**plain, "received_on": D(2022, 5, 3)} for _ in range(10)]  # E
        )
        session.execute(insert(Enquiry), rows)
        for _ in range(5):  # after the window
            _enquiry(session, D(2025, 4, 2), [(Stage.APPLICATION, D(2025, 4, 10))])

        ids = [_household(session, f"H{i}") for i in range(14)]
        leaving = [D(2023, 6, 1), D(2023, 9, 1), D(2024, 2, 1)]
        for household_id, on in zip(ids[:3], leaving, strict=True):
            _deregister(session, household_id, on)
        # 16 children in the 11 remaining: two each in five households, one each in six.
        children = 0
        for position, household_id in enumerate(ids[3:]):
            for _ in range(2 if position < 5 else 1):
                children += 1
                place = NewPlacement(child_ref=f"C-{children:03d}", start_on=D(2024, 5, 1))
                place_child(session, SYSTEM, STOKE, household_id, place, TODAY)
        assert children == 16
        lodgings = _household(session, "SL1", HouseholdCareType.SUPPORTED_LODGINGS, places=1)
        _deregister(session, lodgings, D(2023, 1, 5))
        _household(session, "K1", HouseholdCareType.CONNECTED, places=1)
    return authorities


ENQUIRY_TO_APPLICATION = 52.5 / 130
APPLICATION_TO_APPROVAL = 0.6


def test_work_back_uses_the_authoritys_own_history(history):
    with history.read_session() as session:
        result = work_back(
            session, STOKE, metric="inhouse_foster_children", increase=12, years=3, as_at=AS_AT
        )
        approvals = work_back(session, STOKE, metric="approvals", increase=30, years=1, as_at=AS_AT)
        lodgings = work_back(
            session, STOKE, metric="supported_lodgings_hosts", increase=15, years=3, as_at=AS_AT
        )
        coventry = work_back(
            session, COVENTRY, metric="inhouse_foster_children", increase=12, years=3, as_at=AS_AT
        )
    rates = {r.name: r for r in result.rates}
    assert {r.source for r in result.rates} == {"authority"}
    assert rates["children_per_household"].value == pytest.approx(16 / 11)
    assert "from the household register's placements" in rates["children_per_household"].basis
    assert rates["deregistrations_per_household_per_year"].value == pytest.approx(0.08)
    assert rates["application_to_approval"].value == pytest.approx(APPLICATION_TO_APPROVAL)
    assert rates["enquiry_to_application"].value == pytest.approx(ENQUIRY_TO_APPLICATION)
    assert rates["application_to_approval"].basis == (
        "Stoke-on-Trent, 30 applications made 2022-23 to 2024-25: 12 approved, 8 closed, "
        "10 still open on 2025-04-15 (counted by the pace of earlier ones, not as failures)"
    )
    assert "130 enquiries received 2022-23 to 2024-25: 30 applied, 60 closed" in (
        rates["enquiry_to_application"].basis
    )
    # 4 children a year / (16/11) = 2.75 households; average stock 11 + 2.75 x 3 / 2 = 15.125,
    # 8% of which leave: 1.21; approvals 3.96 -> 4; applications 3.96 / 0.6 = 6.6 -> 7;
    # enquiries 6.6 / 0.40385 = 16.34 -> 17.
    assert result.children_per_household == pytest.approx(16 / 11)
    assert result.households_needed == pytest.approx(2.75)
    assert result.expected_deregistrations_per_year == pytest.approx(1.21)
    assert result.approvals_per_year_exact == pytest.approx(3.96)
    assert result.applications_per_year_exact == pytest.approx(6.6)
    assert result.enquiries_per_year_exact == pytest.approx(6.6 * 130 / 52.5)
    assert (result.approvals_per_year, result.applications_per_year) == (4, 7)
    assert result.enquiries_per_year == 17
    assert result.explanation[0].startswith(
        "To add 4 children a year with in-house foster carers you need about 2.8 more in-house "
        "households a year"
    )
    assert not any("National figures" in line for line in result.explanation)

    # 30 approvals: 30 / 0.6 = 50 applications (exactly, not 51); 50 / 0.40385 = 123.8 -> 124.
    assert approvals.households_needed is None and approvals.children_per_household is None
    assert (approvals.approvals_per_year, approvals.applications_per_year) == (30, 50)
    assert approvals.enquiries_per_year == 124

    # Supported lodgings: one host, gone in January 2023, is too few for a rate of Stoke's own:
    # the deregistration rate is national; conversions are still Stoke's.
    sources = {r.name: r.source for r in lodgings.rates}
    assert sources == {
        "deregistrations_per_household_per_year": "national",
        "application_to_approval": "authority",
        "enquiry_to_application": "authority",
    }
    assert any("supported lodgings hosts" in line for line in lodgings.explanation)
    # Stoke's history is Stoke's alone: Coventry, with none, gets national figures throughout.
    assert {r.source for r in coventry.rates} == {"national"}


def test_too_little_history_falls_back_to_national_figures(authorities):
    # Coventry has no enquiries and no households.
    with authorities.read_session() as session:
        result = work_back(
            session, COVENTRY, metric="inhouse_households", increase=10, years=1, as_at=AS_AT
        )
        children = work_back(
            session, COVENTRY, metric="inhouse_foster_children", increase=5, years=1, as_at=AS_AT
        )
    reference = [r for code, r in load_reference().items() if code != ENGLAND_CODE]
    households = sum(r.households or 0 for r in reference)
    leaving = sum(r.households_deregistered or 0 for r in reference) / households
    assert (households, round(leaving, 5)) == (28010, round(6545 / 28010, 5))
    to_approval = (5540 - 3190) / 4350  # LA sector 2018-19, family and friends excluded
    to_application = 4245 / 33875
    rates = {r.name: r for r in result.rates}
    assert {r.source for r in result.rates} == {"national"}
    assert rates["application_to_approval"].value == pytest.approx(to_approval)
    assert rates["enquiry_to_application"].value == pytest.approx(to_application)
    assert rates["enquiry_to_application"].basis.startswith(
        "England council fostering services, Ofsted 2018-19: 4,245 applications from 33,875"
    )
    assert "fewer than 100 enquiries" in rates["enquiry_to_application"].basis
    # 10 households a year, none now: average stock 5, 5 x 0.23367 = 1.168 leave; approvals
    # 11.168 -> 12; applications 11.168 / 0.5402 = 20.67 -> 21; enquiries 164.97 -> 165.
    assert result.expected_deregistrations_per_year == pytest.approx(5 * 6545 / 28010)
    assert result.approvals_per_year_exact == pytest.approx(10 + 5 * 6545 / 28010)
    assert (result.approvals_per_year, result.applications_per_year) == (12, 21)
    assert result.enquiries_per_year == 165
    assert any("National figures" in line for line in result.explanation)
    # Children per household: filled places / households of the LA sector, 34,195 / 28,010.
    assert children.children_per_household == pytest.approx(34195 / 28010)
    assert children.households_needed == pytest.approx(5 / (34195 / 28010))


def test_bad_requests_name_the_field(authorities):
    with authorities.read_session() as session:
        with pytest.raises(InvalidValueError) as error:
            work_back(session, STOKE, metric="carers", increase=1, years=1, as_at=AS_AT)
        assert error.value.field == "metric"
        with pytest.raises(InvalidValueError) as error:
            work_back(session, STOKE, metric="approvals", increase=1, years=0, as_at=AS_AT)
        assert error.value.field == "years"
        with pytest.raises(InvalidValueError) as error:
            work_back(
                session, STOKE, metric="approvals", increase=float("nan"), years=1, as_at=AS_AT
            )
        assert error.value.field == "increase"
        with pytest.raises(NotFoundError):
            work_back(session, "E06000099", metric="approvals", increase=1, years=1, as_at=AS_AT)
