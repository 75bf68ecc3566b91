"""The Ofsted return for a hand-made year (2025-26), every figure worked out by hand below,
on SQLite and PostgreSQL; its checks, its records, and its CSV and Excel files.

The year runs 1 April 2025 to 31 March 2026; the return is built on 30 June 2026.

Enquiries (received; application; outcome):
  E1  2025-03-20; 2025-05-01; approved 2025-12-01            (214 days)
  E2  2025-04-10; 2025-06-02; approved 2026-02-27            (270 days)
  E3  2024-10-01; 2024-12-01; approved 2025-05-30            (180 days)
  E4  2025-04-15; 2025-07-01; withdrawn_by_applicant 2025-09-01, AW1
  E5  2025-04-16; 2025-07-02; withdrawn_by_applicant 2025-09-02, AW2
  E6  2025-04-17; 2025-07-03; no_response 2025-09-03, AW3
  E7  2025-04-18; 2025-07-04; withdrawn_by_applicant 2025-09-04, AW4
  E8  2025-04-19; 2025-07-05; other 2025-09-05, AW5
  E9  2025-04-20; 2025-07-06; other_agency 2025-09-06, no reason recorded (counts as AW0)
  E10 2025-04-21; 2025-07-07; withdrawn_by_applicant 2025-09-07, AW0
  E11 2025-05-01; none;       withdrawn_by_applicant 2025-05-20 (an enquirer, not an applicant)
  E12 2025-05-05; 2025-06-10; withdrawn_by_service at stage 2, 2025-11-15
  E13 2025-05-06; 2025-06-11; rejected_after_panel 2026-01-20
  E14 2025-01-05; 2025-02-01; withdrawn_by_applicant 2025-04-20, AW4 (applied before the year)
  E15 2025-11-01; 2026-01-10; open
  E16 2025-08-01; 2025-10-01; withdrawn_by_service 2026-04-15 (after the year)
  E17 2025-09-01; 2026-02-01; approved 2026-05-05 (after the year)
  E18 2026-04-02; none; open.   E19 2025-03-31; none; open.
  E20 2024-06-01; 2024-09-01; withdrawn_by_service 2025-03-15 (before the year)

  initial enquiries (received in the year): E2, E4-E10, E11, E12, E13, E15, E16, E17 = 14
  applications received: E1, E2, E4-E10, E12, E13, E15, E16, E17 = 14
  applications approved: E1, E2, E3 = 3 (E17 after the year)
  withdrawn: E4-E10 and E14 = 8: AW1 1 (E4), AW2 1 (E5), AW3 1 (E6), AW4 2 (E7, E14),
             AW5 1 (E8), AW0 2 (E9 unrecorded, E10)
  rejected: E12, E13 = 2
  in progress at 31 March: E15 (open), E16 (closed after), E17 (approved after) = 3
  days from application to approval: 214, 270, 180: mean 664 / 3 = 221.3, median 214

Households (care type, terms, places; approved; what happened):
  H1  in_house, short_term + long_term, 2; 2025-12-01 (E1); C1 from 2025-12-05; 1 place
      held for a matched child from 2026-03-20; carers 2 (45-49, 50-54), 0 disabled, White
  H2  in_house, parent_and_child, 1; 2026-02-27 (E2); C2 from 2026-03-01, and C8 from
      2026-03-15 stored straight into the table (an exemption the register does not model);
      carers 1 (30-34), 1 disabled, Asian
  H3  connected, 1; 2025-06-15; C3 from 2025-06-15; carers 2 (60-64 and one not known),
      disability not known, Black
  H4  in_house, short_breaks, 1; 2025-05-30 (E3); 1 place not available (other) from
      2026-01-01; nothing recorded about its carers
  H5  in_house, no terms, 3; 2020-01-10; C4 from 2024-01-01, C5 from 2025-02-01, C6
      2025-03-01 to 2026-01-31; 1 place not available (carers' circumstances) from
      2026-02-01; carers 2 (55-59, 55-59), 0 disabled, ethnicity not stated
  H6  in_house, long_term, 2; 2019-05-01; C7 from 2023-01-01; on hold from 2026-01-15;
      carers 1 (70+), 0 disabled, Mixed
  H7  connected, 1; 2022-03-01; deregistered 2025-07-01, retired
  H8  in_house, short_term, 2; 2018-01-01; deregistered 2025-08-01, moved_agency
  H9  in_house, emergency, 1; 2021-01-01; deregistered 2025-10-01, standards_concern
  H10 in_house, short_term, 1; 2023-02-01; deregistered 2026-03-31, other
  H11 in_house, long_term, 1; 2025-09-01, deregistered the same day, resigned
  H12 supported_lodgings, 1; 2025-06-01 (not a fostering household: left out)
  H13 in_house, short_term, 1; 2024-01-01; 1 place under investigation 2026-03-01 to
      2026-03-31; deregistered 2026-04-10 (after the year); carers 1 (25-29), 0, Arab

  approved in the year: H1 (mainstream), H2 (parent and child), H3 (family and friends),
      H4 (short breaks), H11 (mainstream) = 5, of which family and friends 1
  deregistered in the year: H7 carer, H8 transfer to an IFA, H9 service, H10 unknown,
      H11 carer = 5 (transfer to an LA 0, IFA 1, service 1, carer 2, unknown 1)
  at 31 March: H1, H2, H3, H4, H5, H6, H13 = 7 households: mainstream H1, H5, H6, H13 = 4,
      family and friends 1, short breaks 1, parent and child 1; one place H2, H3, H4, H13 = 4,
      two H1, H6 = 2, three H5 = 1, four or more 0
  places: approved 2+1+1+1+3+2+1 = 11; filled H1 1, H2 2, H3 1, H5 2, H6 1 = 7;
      not available H1 1 (matched), H4 1 (other), H5 1 (carers' circumstances), H6 1 (on
      hold: its free place) = 4 (under investigation 0: H13's period ended on 31 March);
      vacant: H13's 1 = 1. By type: mainstream 2+3+2+1 = 8, family and friends 1, short
      breaks 1, parent and child 1
  carers: 2+1+2+1 (H4: none recorded, counted as one)+2+1+1 = 10
      ages: 25-29 1, 30-34 1, 45-49 1, 50-54 1, 55-59 2, 60-64 1, 70+ 1, not known 2 (H3 1, H4 1)
      ethnicity: White 2, Mixed 1, Asian 1, Black 2, Other 1, not known 3 (H4 1, H5 2)
      disability: yes 1 (H2), no 6 (H1 2, H5 2, H6 1, H13 1), unknown 3 (H3 2, H4 1)

  checks: H11 deregistered without having been approved; H2 more children than places;
      H5 no terms (counted as mainstream); H3 and H4 lack carers' characteristics; E9's
      withdrawal has no reason recorded. Approvals (3) are not above applications (14).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import msgspec
import openpyxl
import pytest

from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.core.spreadsheets import FileFormat
from tracker.enquiries import service as enquiries
from tracker.enquiries.schemas import Closure, NewEnquiry, StageMove
from tracker.households import placements, unavailability
from tracker.households import service as households
from tracker.households.schemas import (
    HouseholdChange,
    NewHousehold,
    NewPlacement,
    NewUnavailability,
)
from tracker.households.tables import Placement
from tracker.ofsted.service import export_return, figure_records, ofsted_return, return_rows

STOKE = "E06000021"
TODAY = date(2026, 6, 30)
D = date.fromisoformat


def make(kind: type, **fields: Any) -> Any:
    """A request struct from plain values, as the API would decode it."""
    return msgspec.convert(fields, kind)


ENQUIRIES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "E1": ("2025-03-20", "2025-05-01", ("approved", "2025-12-01")),
    "E2": ("2025-04-10", "2025-06-02", ("approved", "2026-02-27")),
    "E3": ("2024-10-01", "2024-12-01", ("approved", "2025-05-30")),
    "E4": ("2025-04-15", "2025-07-01", ("withdrawn_by_applicant", "2025-09-01", "AW1")),
    "E5": ("2025-04-16", "2025-07-02", ("withdrawn_by_applicant", "2025-09-02", "AW2")),
    "E6": ("2025-04-17", "2025-07-03", ("no_response", "2025-09-03", "AW3")),
    "E7": ("2025-04-18", "2025-07-04", ("withdrawn_by_applicant", "2025-09-04", "AW4")),
    "E8": ("2025-04-19", "2025-07-05", ("other", "2025-09-05", "AW5")),
    "E9": ("2025-04-20", "2025-07-06", ("other_agency", "2025-09-06", "")),
    "E10": ("2025-04-21", "2025-07-07", ("withdrawn_by_applicant", "2025-09-07", "AW0")),
    "E11": ("2025-05-01", None, ("withdrawn_by_applicant", "2025-05-20", "")),
    "E12": ("2025-05-05", "2025-06-10",
            ("stage_2", "2025-09-10", "withdrawn_by_service", "2025-11-15")),
    "E13": ("2025-05-06", "2025-06-11",
            ("panel", "2026-01-15", "rejected_after_panel", "2026-01-20")),
    "E14": ("2025-01-05", "2025-02-01", ("withdrawn_by_applicant", "2025-04-20", "AW4")),
    "E15": ("2025-11-01", "2026-01-10", ()),
    "E16": ("2025-08-01", "2025-10-01", ("withdrawn_by_service", "2026-04-15", "")),
    "E17": ("2025-09-01", "2026-02-01", ("approved", "2026-05-05")),
    "E18": ("2026-04-02", None, ()),
    "E19": ("2025-03-31", None, ()),
    "E20": ("2024-06-01", "2024-09-01", ("withdrawn_by_service", "2025-03-15", "")),
}  # fmt: skip


def _enquiries(session: Any) -> dict[str, int]:
    ids = {}
    for ref, (received, applied, outcome) in ENQUIRIES.items():
        new = make(NewEnquiry, received_on=D(received), channel="phone", external_ref=ref)
        enquiry_id = enquiries.create_enquiry(session, SYSTEM, STOKE, new, TODAY).id
        ids[ref] = enquiry_id

        def move(stage: str, on: str, enquiry_id: int = enquiry_id) -> None:
            enquiries.advance_enquiry(
                session, SYSTEM, STOKE, enquiry_id, make(StageMove, stage=stage, on=D(on)), TODAY
            )

        if applied:
            move("application", applied)
        steps = list(outcome)
        if steps and steps[0] in ("stage_2", "panel", "approved"):
            move(steps.pop(0), steps.pop(0))
        if steps:
            reason, on, withdrawal = steps[0], steps[1], steps[2] if len(steps) > 2 else ""
            closure = make(Closure, reason=reason, on=D(on), withdrawal_reason=withdrawal or None)
            enquiries.close_enquiry(session, SYSTEM, STOKE, enquiry_id, closure, TODAY)
    return ids


def _household(session: Any, reference: str, **fields: Any) -> int:
    new = make(NewHousehold, reference=reference, **fields)
    return households.approve_household(session, SYSTEM, STOKE, new, TODAY).id


def _place(session: Any, household_id: int, child: str, start: str, end: str | None = None) -> None:
    new = make(NewPlacement, child_ref=child, start_on=D(start), end_on=D(end) if end else None)
    placements.place_child(session, SYSTEM, STOKE, household_id, new, TODAY)


def _mark(session: Any, household_id: int, reason: str, start: str, end: str | None = None) -> None:
    new = make(
        NewUnavailability,
        places=1,
        reason=reason,
        start_on=D(start),
        end_on=D(end) if end else None,
    )
    unavailability.mark_unavailable(session, SYSTEM, STOKE, household_id, new, TODAY)


def _change(session: Any, household_id: int, on: str, **fields: Any) -> None:
    change = make(HouseholdChange, effective_on=D(on), **fields)
    households.change_household(session, SYSTEM, STOKE, household_id, change, TODAY)


def _households(session: Any, enquiry_ids: dict[str, int]) -> dict[str, int]:
    h: dict[str, int] = {}
    h["H1"] = _household(
        session,
        "H1",
        care_type="in_house",
        terms=["short_term", "long_term"],
        approved_places=2,
        enquiry_id=enquiry_ids["E1"],
        carers=2,
        carers_age_bands=["45_49", "50_54"],
        carers_disabled=0,
        carers_ethnicity="white_british",
    )
    h["H2"] = _household(
        session,
        "H2",
        care_type="in_house",
        terms=["parent_and_child"],
        approved_places=1,
        enquiry_id=enquiry_ids["E2"],
        carers=1,
        carers_age_bands=["30_34"],
        carers_disabled=1,
        carers_ethnicity="asian_pakistani",
    )
    h["H3"] = _household(
        session,
        "H3",
        care_type="connected",
        approved_places=1,
        approved_on=D("2025-06-15"),
        carers=2,
        carers_age_bands=["60_64"],
        carers_ethnicity="black_caribbean",
    )
    h["H4"] = _household(
        session,
        "H4",
        care_type="in_house",
        terms=["short_breaks"],
        approved_places=1,
        enquiry_id=enquiry_ids["E3"],
    )
    h["H5"] = _household(
        session,
        "H5",
        care_type="in_house",
        approved_places=3,
        approved_on=D("2020-01-10"),
        carers=2,
        carers_age_bands=["55_59", "55_59"],
        carers_disabled=0,
        carers_ethnicity="not_stated",
    )
    h["H6"] = _household(
        session,
        "H6",
        care_type="in_house",
        terms=["long_term"],
        approved_places=2,
        approved_on=D("2019-05-01"),
        carers=1,
        carers_age_bands=["70_plus"],
        carers_disabled=0,
        carers_ethnicity="mixed_other",
    )
    for ref, care_type, terms, places, approved, left, reason in (
        ("H7", "connected", [], 1, "2022-03-01", "2025-07-01", "retired"),
        ("H8", "in_house", ["short_term"], 2, "2018-01-01", "2025-08-01", "moved_agency"),
        ("H9", "in_house", ["emergency"], 1, "2021-01-01", "2025-10-01", "standards_concern"),
        ("H10", "in_house", ["short_term"], 1, "2023-02-01", "2026-03-31", "other"),
        ("H11", "in_house", ["long_term"], 1, "2025-09-01", "2025-09-01", "resigned"),
    ):
        h[ref] = _household(
            session,
            ref,
            care_type=care_type,
            terms=terms,
            approved_places=places,
            approved_on=D(approved),
        )
        _change(session, h[ref], left, status="deregistered", deregistration_reason=reason)
    h["H12"] = _household(
        session,
        "H12",
        care_type="supported_lodgings",
        approved_places=1,
        approved_on=D("2025-06-01"),
    )
    h["H13"] = _household(
        session,
        "H13",
        care_type="in_house",
        terms=["short_term"],
        approved_places=1,
        approved_on=D("2024-01-01"),
        carers=1,
        carers_age_bands=["25_29"],
        carers_disabled=0,
        carers_ethnicity="other_arab",
    )
    _place(session, h["H1"], "C-001", "2025-12-05")
    _mark(session, h["H1"], "matched_pending", "2026-03-20")
    _place(session, h["H2"], "C-002", "2026-03-01")
    session.add(Placement(household_id=h["H2"], authority_code=STOKE, child_ref="C-008",
                          start_on=D("2026-03-15")))  # fmt: skip
    _place(session, h["H3"], "C-003", "2025-06-15")
    _mark(session, h["H4"], "other", "2026-01-01")
    _place(session, h["H5"], "C-004", "2024-01-01")
    _place(session, h["H5"], "C-005", "2025-02-01")
    _place(session, h["H5"], "C-006", "2025-03-01", "2026-01-31")
    _mark(session, h["H5"], "carer_circumstances", "2026-02-01")
    _place(session, h["H6"], "C-007", "2023-01-01")
    _change(session, h["H6"], "2026-01-15", status="on_hold")
    _mark(session, h["H13"], "under_investigation", "2026-03-01", "2026-03-31")
    _change(
        session, h["H13"], "2026-04-10", status="deregistered", deregistration_reason="resigned"
    )
    return h


EXPECTED: dict[str, int | float] = {
    "initial_enquiries": 14,
    "applications_received": 14,
    "applications_approved": 3,
    "applications_withdrawn": 8,
    "withdrawn_aw1": 1,
    "withdrawn_aw2": 1,
    "withdrawn_aw3": 1,
    "withdrawn_aw4": 2,
    "withdrawn_aw5": 1,
    "withdrawn_aw0": 2,
    "applications_rejected": 2,
    "applications_in_progress": 3,
    "application_to_approval_mean_days": 221.3,
    "application_to_approval_median_days": 214,
    "households_approved": 5,
    "households_approved_family_and_friends": 1,
    "deregistered_transfer_la": 0,
    "deregistered_transfer_ifa": 1,
    "deregistered_service": 1,
    "deregistered_carer": 2,
    "deregistered_unknown": 1,
    "households_deregistered": 5,
    "approved_households": 7,
    "households_mainstream": 4,
    "households_family_and_friends": 1,
    "households_short_breaks": 1,
    "households_parent_and_child": 1,
    "households_one_place": 4,
    "households_two_places": 2,
    "households_three_places": 1,
    "households_four_or_more_places": 0,
    "approved_places": 11,
    "filled_places": 7,
    "vacant_places": 1,
    "unavailable_places": 4,
    "places_mainstream": 8,
    "places_family_and_friends": 1,
    "places_short_breaks": 1,
    "places_parent_and_child": 1,
    "unavailable_carer_circumstances": 1,
    "unavailable_matched_pending": 1,
    "unavailable_under_investigation": 0,
    "unavailable_household_on_hold": 1,
    "unavailable_other": 1,
    "approved_carers": 10,
    "carers_age_18_19": 0,
    "carers_age_20_24": 0,
    "carers_age_25_29": 1,
    "carers_age_30_34": 1,
    "carers_age_35_39": 0,
    "carers_age_40_44": 0,
    "carers_age_45_49": 1,
    "carers_age_50_54": 1,
    "carers_age_55_59": 2,
    "carers_age_60_64": 1,
    "carers_age_65_69": 0,
    "carers_age_70_plus": 1,
    "carers_age_not_known": 2,
    "carers_white": 2,
    "carers_mixed": 1,
    "carers_asian": 1,
    "carers_black": 2,
    "carers_other_ethnic_group": 1,
    "carers_ethnicity_not_known": 3,
    "carers_disabled_yes": 1,
    "carers_disabled_no": 6,
    "carers_disabled_unknown": 3,
}


@pytest.fixture
def year(authorities: Database) -> dict[str, dict[str, int]]:
    """The hand-made year stored; the enquiries' and households' ids by reference."""
    with authorities.writing() as session:
        enquiry_ids = _enquiries(session)
        household_ids = _households(session, enquiry_ids)
    return {"enquiries": enquiry_ids, "households": household_ids}


def _figures(database: Database) -> dict[str, Any]:
    with database.read_session() as session:
        built = ofsted_return(session, STOKE, "2025-26", TODAY)
    return {f.key: f.value for s in built.sections for f in s.figures}


def test_every_figure_of_the_hand_made_year(authorities: Database, year) -> None:
    assert _figures(authorities) == EXPECTED


def test_each_figure_lists_exactly_the_records_it_counts(authorities: Database, year) -> None:
    e = {i: ref for ref, i in year["enquiries"].items()}
    h = {i: ref for ref, i in year["households"].items()}
    with authorities.read_session() as session:

        def refs(key: str) -> list[str]:
            found = figure_records(session, STOKE, "2025-26", key, TODAY)
            assert found.value == EXPECTED[key]
            return sorted((e if r.kind == "enquiry" else h)[r.id] for r in found.records)

        assert refs("withdrawn_aw0") == ["E10", "E9"]
        assert refs("withdrawn_aw4") == ["E14", "E7"]
        assert refs("applications_in_progress") == ["E15", "E16", "E17"]
        assert refs("applications_approved") == ["E1", "E2", "E3"]
        assert refs("deregistered_carer") == ["H11", "H7"]
        assert refs("households_mainstream") == ["H1", "H13", "H5", "H6"]
        assert refs("unavailable_household_on_hold") == ["H6"]
        assert refs("carers_ethnicity_not_known") == ["H4", "H5"]


def test_the_checks_name_the_records_and_figures_to_look_at(authorities: Database, year) -> None:
    with authorities.read_session() as session:
        built = ofsted_return(session, STOKE, "2025-26", TODAY)
    h = year["households"]
    found = {w.rule: w for w in built.warnings}

    assert list(found) == [
        "approvals_apart",
        "deregistration_without_approval",
        "filled_above_approved",
        "household_without_type",
        "carers_characteristics_missing",
        "withdrawal_reason_not_recorded",
    ]
    # H11, in-house and approved in the year, came from no approved application; H1, H2 and
    # H4 came from E1, E2 and E3, the year's approvals; H3 and H12 are not in-house.
    apart = found["approvals_apart"]
    assert [(r.id, r.detail) for r in apart.records] == [(h["H11"], "no approved application")]
    assert apart.figures == {
        "applications_approved": 3,
        "households_approved": EXPECTED["households_approved"],
    }
    assert "4 in-house household(s) were approved on the register" in apart.message
    assert [r.id for r in found["deregistration_without_approval"].records] == [h["H11"]]
    assert [r.id for r in found["filled_above_approved"].records] == [h["H2"]]
    assert found["filled_above_approved"].figures == {"filled_places": 7, "approved_places": 11}
    assert [r.id for r in found["household_without_type"].records] == [h["H5"]]
    assert [r.id for r in found["carers_characteristics_missing"].records] == [h["H3"], h["H4"]]
    assert [r.detail for r in found["carers_characteristics_missing"].records] == [
        "no age bands, disability",
        "no number of carers, age bands, ethnicity, disability",
    ]
    assert [r.id for r in found["withdrawal_reason_not_recorded"].records] == [
        year["enquiries"]["E9"]
    ]


def test_more_approvals_than_applications_is_a_check_that_explains_itself(
    authorities: Database,
) -> None:
    with authorities.writing() as session:
        for ref, applied in (("A1", "2025-01-10"), ("A2", "2025-02-10"), ("A3", "2025-06-10")):
            new = make(NewEnquiry, received_on=D("2024-12-01"), channel="phone", external_ref=ref)
            enquiry_id = enquiries.create_enquiry(session, SYSTEM, STOKE, new, TODAY).id
            for stage, on in (("application", applied), ("approved", "2025-12-01")):
                move = make(StageMove, stage=stage, on=D(on))
                enquiries.advance_enquiry(session, SYSTEM, STOKE, enquiry_id, move, TODAY)
        built = ofsted_return(session, STOKE, "2025-26", TODAY)

    [warning] = [w for w in built.warnings if w.rule == "approvals_above_applications"]
    assert warning.figures == {"applications_approved": 3, "applications_received": 1}
    assert "2 of the approvals were of applications made before 1 April 2025" in warning.message
    assert len(warning.records) == 2


def test_the_files_give_the_return_in_its_order(authorities: Database, year) -> None:
    with authorities.writing() as session:
        built = ofsted_return(session, STOKE, "2025-26", TODAY)
        text = export_return(session, SYSTEM, STOKE, "2025-26", TODAY, FileFormat.CSV)
        workbook = export_return(session, SYSTEM, STOKE, "2025-26", TODAY, FileFormat.XLSX)
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]

    assert rows[0] == ["section", "field", "label", "value"] == list(cells[0])
    fields = [r[1] for r in rows[4:]]
    assert fields == list(EXPECTED)
    assert {r[1]: r[3] for r in rows[4:]} == {k: str(v) for k, v in EXPECTED.items()}
    assert {r[1]: r[3] for r in cells[4:]} == EXPECTED
    assert [r[3] for r in rows[1:3]] == [STOKE, "2025-26"]
    assert len(return_rows(built)) == len(rows) - 1


def test_2023_24_leaves_out_the_carers_it_collected_one_carer_at_a_time(
    authorities: Database, year
) -> None:
    with authorities.read_session() as session:
        built = ofsted_return(session, STOKE, "2023-24", TODAY)
    [carers] = [s for s in built.sections if s.key == "carers"]
    rows = return_rows(built)

    assert (carers.level, carers.figures) == ("carer", [])
    assert not any(r[1].startswith("carers_") or r[1] == "approved_carers" for r in rows)
    assert [r for r in rows if r[0] == carers.title] == [[carers.title, "", carers.note, None]]
    assert "carers_characteristics_missing" not in {w.rule for w in built.warnings}


def test_an_approved_application_without_its_household_is_a_check_until_linked(
    authorities: Database,
) -> None:
    with authorities.writing() as session:
        new = make(NewEnquiry, received_on=D("2025-04-02"), channel="phone", external_ref="L1")
        enquiry_id = enquiries.create_enquiry(session, SYSTEM, STOKE, new, TODAY).id
        for stage, on in (("application", "2025-05-01"), ("approved", "2025-12-01")):
            move = make(StageMove, stage=stage, on=D(on))
            enquiries.advance_enquiry(session, SYSTEM, STOKE, enquiry_id, move, TODAY)
        _household(session, "K1", care_type="connected", approved_places=1,
                   approved_on=D("2025-07-01"))  # fmt: skip
        built = ofsted_return(session, STOKE, "2025-26", TODAY)
        [warning] = [w for w in built.warnings if w.rule == "approvals_apart"]
        assert [(r.kind, r.id, r.detail) for r in warning.records] == [
            ("enquiry", enquiry_id, "no household on the register")
        ]  # the connected carers came from no application, and are not listed
        _household(session, "L1", care_type="in_house", approved_places=2, enquiry_id=enquiry_id)
        built = ofsted_return(session, STOKE, "2025-26", TODAY)
    assert "approvals_apart" not in {w.rule for w in built.warnings}
