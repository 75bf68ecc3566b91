"""Valid SSDA903 codes (DfE guidance), the columns of each file, and the reason codes that
matter to the figures. One home: a new code is one edit here."""

from __future__ import annotations

HEADER_COLUMNS = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODES_COLUMNS = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
)
OC3_COLUMNS = ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM")
# Columns each file must have for the figures; the rest are optional.
REQUIRED = {
    "header": ("CHILD", "SEX", "DOB"),
    "episodes": ("CHILD", "DECOM", "RNE", "PLACE", "PLACE_PROVIDER", "DEC", "REC"),
    "oc3": ("CHILD", "ACCOM"),
}

RNE = frozenset({"S", "P", "L", "T", "U", "B"})
STARTED = "S"
LEGAL_STATUS = frozenset(
    {"C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"}
)
NEED = frozenset({f"N{i}" for i in range(1, 10)})
PROVIDERS = frozenset({"PR0", "PR1", "PR2", "PR3", "PR4", "PR5"})
PLACES = frozenset(
    {
        "U1",
        "U2",
        "U3",
        "U4",
        "U5",
        "U6",
        "A3",
        "A4",
        "A5",
        "A6",
        "K1",
        "K2",
        "K3",
        "R1",
        "R2",
        "R3",
        "R5",
        "S1",
        "H5",
        "P1",
        "P2",
        "P3",
        "T0",
        "T1",
        "T2",
        "T3",
        "T4",
        "Z1",
        "Z11",
        "Z12",
        "Z13",
        "Z14",
    }
)
FOSTER_PLACES = frozenset({"U1", "U2", "U3", "U4", "U5", "U6"})
REASON_ENDED = frozenset(
    {
        "X1",
        "E11",
        "E12",
        "E13",
        "E14",
        "E15",
        "E16",
        "E17",
        "E2",
        "E3",
        "E4A",
        "E4B",
        "E41",
        "E45",
        "E46",
        "E47",
        "E48",
        "E5",
        "E6",
        "E7",
        "E8",
        "E9",
    }
)
# The episode ended but the period of care goes on (a change of placement or status).
CONTINUES = "X1"
# Aged 18 or over and remained with current carers: Staying Put.
STAYED_PUT = "E17"
# Died, and care taken over by another authority: left out of the Staying Put cohort.
DIED = "E2"
TRANSFERRED = "E3"
# Legal status of an agreed series of short-term placements (short breaks): left out of every
# headline figure (DfE) and reported apart.
SHORT_BREAKS = frozenset({"V3", "V4"})
SEX = frozenset({"1", "2"})
# OC3 accommodation codes: a letter and a suitability digit; Z is "with former foster carers".
ACCOM_LETTERS = frozenset("BCDEGHKRSTUVWXYZ0")
WITH_FORMER_FOSTER_CARERS = "Z"
# OC3 IN_TOUCH: the young person died, or returned home to parents for six months or more
# (both leave the care-leaver cohort); the other codes say whether the council is in touch.
IN_TOUCH = frozenset({"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"})
IN_TOUCH_DIED = "DIED"
RETURNED_HOME = "RHOM"
