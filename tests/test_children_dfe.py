"""Children's figures as DfE counts them, on hand-made returns: Staying Put at 18, 19 and 20
with DfE's cohort and its exclusions, short breaks left out of every headline figure, and
starters and ceased counted once a child a year ending 31 March. Every expected figure is
worked out by hand from the definitions in the test's docstring (DfE's children looked
after statistics and the SSDA903 guidance; DOMAIN.md quotes them).
"""

from __future__ import annotations

from datetime import date

from litestar.testing import TestClient

from api.dashboard import targets as targets_page
from api.dashboard.scope import Scope
from tests.conftest import STOKE
from tests.ssda903_files import (
    EPISODE_COLUMNS,
    HEADER_COLUMNS,
    OC3_COLUMNS,
    import_files,
    read,
    uploaded,
)
from tracker.children import figures
from tracker.children.mapping import load_mapping
from tracker.core.access import SYSTEM
from tracker.core.db import Database
from tracker.targets.metrics import actuals
from tracker.targets.service import NewTarget, create_target
from tracker.targets.trajectories import trajectory


def episode(child: str, decom: str, rne: str, ls: str, place: str, provider: str, *ended: str):
    """An Episodes row: CIN N1, no postcodes; `ended` is (DEC, REC) when it ended."""
    dec, rec = ended or ("", "")
    return f"{child},{decom},{rne},{ls},N1,{place},{provider},{dec},{rec},,,,"


def episodes(*rows: str) -> str:
    return "\n".join([EPISODE_COLUMNS, *rows]) + "\n"


def header(*people: tuple[str, str]) -> str:
    return "\n".join([HEADER_COLUMNS, *(f"{c},1,{dob},WBRI,,," for c, dob in people)]) + "\n"


def oc3(*rows: str) -> str:
    return "\n".join([OC3_COLUMNS, *rows]) + "\n"


# --- Staying Put -----------------------------------------------------------------------------

# Eight young people left a foster placement (PLACE U1-U6) on their 18th birthday in 2023-24;
# CC1 is a child still in care, so that the later years have returns.
LEAVERS = (
    ("SP1", "10/05/2005"),
    ("SP2", "20/06/2005"),
    ("SP3", "02/07/2005"),
    ("SP4", "14/08/2005"),
    ("SP5", "05/09/2005"),
    ("SP6", "11/10/2005"),
    ("SP7", "19/11/2005"),
    ("SP8", "25/12/2005"),
    ("CC1", "01/01/2012"),
)
STILL_IN_CARE = episode("CC1", "01/06/2021", "S", "C2", "U4", "PR1")
STAYING_PUT_2024 = {
    "header_2023-24.csv": header(*LEAVERS),
    "episodes_2023-24.csv": episodes(
        episode("SP1", "01/09/2019", "S", "C2", "U4", "PR1", "10/05/2023", "E17"),
        episode("SP2", "15/03/2020", "S", "C1", "U5", "PR4", "20/06/2023", "E17"),
        episode("SP3", "10/10/2018", "S", "C2", "U1", "PR1", "02/07/2023", "E8"),
        episode("SP4", "01/02/2021", "S", "C2", "U4", "PR1", "14/08/2023", "E17"),
        episode("SP5", "03/01/2022", "S", "V2", "U6", "PR1", "05/09/2023", "E6"),
        episode("SP6", "01/04/2023", "S", "V3", "U4", "PR1", "11/10/2023", "E17"),
        episode("SP7", "01/10/2023", "S", "V2", "U4", "PR4", "19/11/2023", "E17"),
        episode("SP8", "01/06/2020", "S", "C2", "U5", "PR5", "25/12/2023", "E17"),
        STILL_IN_CARE,
    ),
    "oc3_2023-24.csv": oc3(
        "SP1,10/05/2005,YES,F2,Z1",
        "SP2,20/06/2005,YES,G4,S2",
        "SP5,05/09/2005,YES,F1,T2",
        "SP8,25/12/2005,DIED,,",
    ),
}
LATER_YEARS = {
    "episodes_2024-25.csv": episodes(STILL_IN_CARE),
    "oc3_2024-25.csv": oc3(
        "SP1,10/05/2005,YES,F2,Z1",
        "SP2,20/06/2005,YES,G4,S2",
        "SP4,14/08/2005,YES,F1,Z2",
        "SP5,05/09/2005,YES,F1,T2",
    ),
    "episodes_2025-26.csv": episodes(STILL_IN_CARE),
    "oc3_2025-26.csv": oc3(
        "SP1,10/05/2005,YES,F2,Z1",
        "SP2,20/06/2005,RHOM,,",
        "SP3,02/07/2005,NO,0,0",
        "SP4,14/08/2005,YES,G4,H1",
        "SP5,05/09/2005,YES,F1,Z1",
    ),
}


def test_staying_put_at_18_follows_dfe_not_every_foster_leaver(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """2023-24 at 18. Eight young people left foster care on their 18th birthday; counting
    them all, and counting REC E17 or OC3 ACCOM Z as staying, gives 6 of 8 = 75% (SP1, SP2,
    SP4, SP6, SP7, SP8 have E17). DfE's cohort leaves out SP6 (short breaks, LS V3), SP7
    (in care 01/10/2023 to 19/11/2023: 49 days since the 14th birthday, under 13 weeks, so
    not eligible for care-leaver support) and SP8 (OC3 IN_TOUCH DIED): 5 eligible. Who
    lives with former foster carers is the OC3 accommodation where there is an OC3 row:
    SP1 Z1 yes, SP2 S2 no (despite E17), SP5 T2 no; REC only without one: SP3 E8 no, SP4
    E17 yes. Stayed 2 of 5 = 40%, judged on OC3 for 3 and on REC E17 for 2.

    By the placement left: in-house foster (U4-U6 with PR1) SP1, SP4, SP5 (2 stayed);
    IFA (U5 PR4) SP2; connected (U1) SP3.
    """
    token = tokens["manager_stoke"]
    uploaded(children_client, token, STAYING_PUT_2024)
    report = read(
        children_client, token, "staying-put", date_from="2023-04-01", date_to="2024-03-31"
    )
    (year,) = report["years"]
    assert (year["eligible"], year["stayed"], year["rate"]) == (5, 2, 0.4)
    assert (year["judged_on_oc3"], year["judged_on_rec_e17"]) == (3, 2)
    assert year["excluded"] == {
        "short_breaks": 1,
        "died": 1,
        "transferred": 0,
        "returned_home": 0,
        "not_eligible": 1,
    }
    assert year["eligible_by_category"] == {
        "in_house_foster": 3,
        "ifa_foster": 1,
        "connected_foster": 1,
    }
    assert year["stayed_by_category"] == {
        "in_house_foster": 2,
        "ifa_foster": 0,
        "connected_foster": 0,
    }
    months = {m["period"]: (m["eligible"], m["stayed"]) for m in report["months"]}
    assert months["2023-05"] == (1, 1)  # SP1
    assert months["2023-06"] == (1, 0)  # SP2
    assert months["2023-08"] == (1, 1)  # SP4
    assert months["2023-10"] == (0, 0)  # SP6, left out
    assert sum(e for e, _ in months.values()) == 5
    assert "on OC3" in report["note"] and report["definition"].startswith("Staying Put as DfE")


def test_staying_put_at_19_and_20_follows_the_cohort_by_later_oc3(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """The five of the 2023-24 cohort (SP1-SP5; SP6-SP8 were left out at 18), a year and two
    years on, by the OC3 accommodation of the year of their 19th or 20th birthday.

    2024-25 at 19: SP1 Z1 and SP4 Z2 live with former foster carers, SP2 S2 and SP5 T2 do
    not, SP3 has no OC3 row (counted, not staying): 2 of 5 = 40%. At 20 the cohort would be
    2022-23's, whose return is not loaded: no figure, nor for 19 to 20.
    2025-26 at 20: SP2 returned home for six months or more (RHOM) and leaves the cohort;
    SP1 Z1 and SP5 Z1 stay, SP3 (not in touch) and SP4 (H1) do not: 2 of 4 = 50%. At 19: the
    2024-25 return had no one leaving foster care at 18: 0 eligible, no rate. 19 to 20:
    2 of 4 = 50%. At 18 in 2024-25 and 2025-26: nobody (0 eligible).
    """
    token = tokens["manager_stoke"]
    uploaded(children_client, token, {**STAYING_PUT_2024, **LATER_YEARS})
    report = read(
        children_client, token, "staying-put", date_from="2024-04-01", date_to="2026-03-31"
    )
    later = {
        (y["period"], y["age"]): (y["eligible"], y["stayed"], y["rate"], y["without_oc3"])
        for y in report["later"]
    }
    assert later == {
        ("2024-25", "19"): (5, 2, 0.4, 1),
        ("2024-25", "20"): (None, None, None, None),
        ("2024-25", "19_to_20"): (None, None, None, None),
        ("2025-26", "19"): (0, 0, None, 0),
        ("2025-26", "20"): (4, 2, 0.5, 0),
        ("2025-26", "19_to_20"): (4, 2, 0.5, 0),
    }
    assert [(y["period"], y["eligible"]) for y in report["years"]] == [
        ("2024-25", 0),
        ("2025-26", 0),
    ]


TRANSFERS_2023 = {
    "episodes_2022-23.csv": episodes(
        episode("TX6", "01/12/2022", "S", "V2", "U4", "PR1", "15/01/2023", "E13"),
        episode("TX7", "01/12/2022", "S", "V2", "U4", "PR1", "17/01/2023", "E13"),
    ),
    "header_2022-23.csv": header(("TX6", "15/10/2005"), ("TX7", "20/10/2005")),
}
TRANSFERS_2024 = {
    "header_2023-24.csv": header(
        ("TX1", "03/05/2005"),
        ("TX2", "07/06/2005"),
        ("TX3", "09/07/2005"),
        ("TX4", "11/08/2005"),
        ("TX5", "13/09/2005"),
        ("TX6", "15/10/2005"),
        ("TX7", "20/10/2005"),
    ),
    "episodes_2023-24.csv": episodes(
        episode("TX1", "01/01/2020", "S", "C2", "U4", "PR1", "03/05/2023", "E3"),
        episode("TX2", "01/01/2021", "S", "C2", "U5", "PR4", "07/06/2023", "E8"),
        episode("TX3", "01/01/2021", "S", "C2", "K2", "PR4", "09/07/2023", "E5"),
        episode("TX4", "01/01/2021", "S", "C2", "U4", "PR1", "01/08/2023", "E5"),
        episode("TX5", "01/01/2021", "S", "C2", "U4", "PR1", "13/09/2023", "E2"),
        episode("TX6", "01/09/2023", "S", "V2", "U4", "PR1", "15/10/2023", "E17"),
        episode("TX7", "04/09/2023", "S", "V2", "U4", "PR1", "20/10/2023", "E17"),
    ),
    "oc3_2023-24.csv": oc3("TX2,07/06/2005,RHOM,,"),
}


def test_staying_put_leaves_out_transfers_deaths_returns_home_and_the_ineligible(
    authorities: Database,
) -> None:
    """2023-24 at 18, with the 2022-23 return for earlier time in care.

    Leaving foster care on the 18th birthday: TX1 (REC E3, care taken over by another
    authority: out), TX2 (OC3 IN_TOUCH RHOM, returned home for six months or more: out),
    TX5 (REC E2, died: out), TX6 and TX7. TX6 was in care 01/12/2022-15/01/2023 (45 days,
    in the 2022-23 return) and 01/09/2023-15/10/2023 (44 days): 89 days since 14, under 13
    weeks (91 days): not eligible. TX7, 47 + 46 = 93 days: eligible, and stayed (REC E17,
    no OC3 row). TX3 left a children's home and TX4 left ten days before her 18th
    birthday: neither is a Staying Put leaver at all. Eligible 1, stayed 1.
    """
    import_files(authorities, {**TRANSFERS_2023, **TRANSFERS_2024})
    with authorities.read_session() as session:
        report = figures.staying_put(
            session, STOKE, date(2023, 4, 1), date(2024, 3, 31), load_mapping()
        )
    (year,) = report.years
    assert (year.eligible, year.stayed, year.judged_on_rec_e17) == (1, 1, 1)
    assert year.excluded == {
        "short_breaks": 0,
        "died": 1,
        "transferred": 1,
        "returned_home": 1,
        "not_eligible": 1,
    }


def test_the_staying_put_target_trajectory_uses_the_dfe_rate(authorities: Database) -> None:
    """The Staying Put rate target reads stayed / eligible per month and sums 12 months:
    at March 2024 that is 2 of 5 = 40.0%, not 75% (6 of 8) as every foster leaver would
    give; the trajectory's notes, and the targets page with them, carry the definition."""
    import_files(authorities, STAYING_PUT_2024)
    today = date(2024, 4, 15)
    with authorities.read_session() as session:
        found = actuals(session, STOKE, "staying_put_rate", date(2023, 4, 1), date(2024, 3, 1))
    assert sum(v or 0 for v in found.values) == 2
    assert sum(d or 0 for d in found.denominators or []) == 5
    with authorities.writing() as session:
        target = create_target(
            session,
            SYSTEM,
            STOKE,
            NewTarget(
                metric="staying_put_rate",
                kind="level_by_date",
                name="Raise Staying Put to 62%",
                target_value=62,
                target_date=date(2026, 3, 31),
            ),
            today=today,
        )
    with authorities.read_session() as session:
        result = trajectory(session, STOKE, target.id, today=today)
    actual = {row.month: row.actual for row in result.months}
    assert actual[date(2024, 3, 1)] == 40.0
    assert result.target.baseline_value == 40.0
    assert any(note.startswith("Staying Put as DfE publishes it") for note in result.notes)
    # The targets page shows the same notes under the target.
    scope = Scope(
        caller=SYSTEM,
        authority_code=STOKE,
        authority_name="Stoke-on-Trent",
        region="West Midlands",
        authorities=[],
        pages=[],
    )
    with authorities.read_session() as session:
        page = targets_page.build(session, scope, today, load_mapping())
    (section,) = [s for s in page.sections if s.title == "Raise Staying Put to 62%"]
    assert any(note.startswith("Staying Put as DfE publishes it") for note in section.notes)


# --- short breaks ----------------------------------------------------------------------------

SHORT_BREAKS_2024 = {
    "episodes_2023-24.csv": episodes(
        episode("N1", "01/05/2023", "S", "C2", "U4", "PR1"),
        episode("N2", "01/09/2023", "S", "V2", "K2", "PR4", "10/12/2023", "E4A"),
        episode("SB1", "01/06/2023", "S", "V4", "U4", "PR1"),
        episode("SB2", "10/07/2023", "S", "V3", "U4", "PR1", "12/07/2023", "E13"),
        episode("SB3", "01/04/2023", "S", "V3", "U4", "PR1", "01/08/2023", "X1"),
        episode("SB3", "01/08/2023", "L", "C2", "U5", "PR4"),
    ),
}


def test_short_breaks_are_left_out_of_every_headline_figure_and_reported_apart(
    children_client: TestClient, tokens: dict[str, str]
) -> None:
    """2023-24. N1 and N2 are looked after in the ordinary way; SB1 (V4) and SB2 (V3) only
    under agreed series of short breaks; SB3 had short breaks (V3) from 01/04/2023 and has
    been in IFA foster care on a care order since 01/08/2023.

    Starters: N1 (May), SB3 (August, leaving short breaks for full care), N2 (September) =
    3; short-break starters SB3 (April), SB1 (June), SB2 (July) = 3. Ceased: N2 (December)
    = 1; short breaks ended: SB2 (July) = 1 (SB3's moved on, X1). In care at 31/03/2024: N1
    (in-house) and SB3 (IFA) = 2, short breaks SB1 = 1.
    """
    token = tokens["manager_stoke"]
    uploaded(children_client, token, SHORT_BREAKS_2024)
    span = {"date_from": "2023-04-01", "date_to": "2024-03-31"}
    starters = read(children_client, token, "starters", **span)
    assert (starters["starters"], starters["short_breaks"]) == (3, 3)
    assert {m["month"]: m["starters"] for m in starters["months"] if m["starters"]} == {
        "2023-05": 1,
        "2023-08": 1,
        "2023-09": 1,
    }
    assert starters["by_category"]["ifa_foster"] == 1  # SB3's placement on leaving breaks
    ceased = read(children_client, token, "ceased", **span)
    assert (ceased["ceased"], ceased["short_breaks"]) == (1, 1)
    figures_ = read(children_client, token, "in-care", as_at="2024-03-31")["figures"]
    assert (figures_["children"], figures_["short_breaks"], figures_["return_year"]) == (
        2,
        1,
        "2023-24",
    )
    assert {k: v for k, v in figures_["by_category"].items() if v} == {
        "in_house_foster": 1,
        "ifa_foster": 1,
    }
    series = read(children_client, token, "in-care/monthly", **span)
    by_month = {m["as_at"]: (m["children"], m["short_breaks"]) for m in series["months"]}
    # 30 June: N1 in care; SB1 and SB3 on short breaks. 31 August: N1 and SB3; SB1.
    assert by_month["2023-06-30"] == (1, 2)
    assert by_month["2023-08-31"] == (2, 1)
    assert by_month["2024-03-31"] == (2, 1)


# --- once a child a year ----------------------------------------------------------------------

REPEATS = {
    "episodes_2023-24.csv": episodes(
        episode("R1", "01/05/2023", "S", "V2", "U4", "PR1", "01/07/2023", "E13"),
        episode("R1", "01/11/2023", "S", "V2", "U4", "PR1", "15/01/2024", "E4A"),
        episode("R1", "01/03/2024", "S", "C2", "U4", "PR1"),
        episode("R2", "01/02/2023", "S", "V2", "U5", "PR4", "01/06/2023", "E13"),
        episode("R2", "01/09/2023", "S", "V2", "U5", "PR4"),
        episode("R3", "01/05/2023", "S", "V2", "U4", "PR1", "10/08/2023", "X1"),
        episode("R3", "10/08/2023", "P", "V2", "U5", "PR4", "10/08/2023", "E13"),
    ),
}


def test_starters_and_ceased_count_each_child_once_a_year_ending_march(
    authorities: Database,
) -> None:
    """2023-24. R1 started three times (May, November, March) and ceased twice (July,
    January); R2 started in February 2023 (2022-23), ceased in June and started again in
    September; R3 started in May and went home on 10 August from a placement begun and
    ended that day (two episodes ending on one day). Counting episodes gives 5 starts and
    4 endings. DfE counts a child once a year: the first start (R1 and R3 May, R2
    September) and the last ending (R2 June, R3 August, R1 January): 3 starters and 3
    ceased. From October to March nobody's first start of the year falls, so those months
    hold no starter, though R1 started again in November and March.
    """
    import_files(authorities, REPEATS)
    mapping = load_mapping()
    with authorities.read_session() as session:
        year = figures.starters(session, STOKE, date(2023, 4, 1), date(2024, 3, 31), mapping)
        late = figures.starters(session, STOKE, date(2023, 10, 1), date(2024, 3, 31), mapping)
        ceased = figures.ceased(session, STOKE, date(2023, 4, 1), date(2024, 3, 31))
    assert {m.month: m.starters for m in year.months if m.starters} == {
        "2023-05": 2,
        "2023-09": 1,
    }
    assert late.starters == 0
    assert {m.month: m.ceased for m in ceased.months if m.ceased} == {
        "2023-06": 1,
        "2023-08": 1,
        "2024-01": 1,
    }
