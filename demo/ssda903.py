"""Synthetic SSDA903 returns: a seeded, realistic multi-year set of Header, Episodes and OC3
CSV files for tests, the import benchmark and the demo.

Children enter care through the years (more in summer, fewer in December), with the DfE's
age mix; they move placements, change legal status, go home, are adopted or placed under a
special guardianship order, or stay until their 18th birthday. Of those who leave foster
care then, about the given share (60% by default) go on living with their former foster
carers: OC3 says so for nearly all (a few have no OC3 row), REC E17 mostly agrees but not
always, a few return home or die, and fewer stay on at 19 and 20 (DfE, England 2018: 55% at
18, 31% at 19, 21% at 20). A few children are looked after only under agreed series of short
breaks (legal status V3, V4). Each collection year (1 April to 31 March) has its own files,
repeating every episode open at any time in that year with DEC and REC blank when the
episode ended after the year, as the DfE returns do. Identifiers, dates of birth, UPNs and
postcodes are invented.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec

from forecast.months import year_ending_march
from tracker.children import codes
from tracker.children.importer import SourceFile

# Children starting to be looked after by age at entry (DfE, England, about 2023).
AGE_AT_ENTRY: tuple[tuple[tuple[int, int], float], ...] = (
    ((0, 0), 0.19),
    ((1, 4), 0.14),
    ((5, 9), 0.16),
    ((10, 15), 0.35),
    ((16, 17), 0.16),
)
# More children come into care over the summer, fewer in December (Coventry).
MONTH_WEIGHT = (0.95, 0.9, 1.0, 0.95, 1.0, 1.1, 1.15, 1.1, 1.1, 1.0, 0.95, 0.8)
STAYING_PUT_RATE = 0.6
# Of those living with former foster carers at 18, the share still there at 19 and at 20
# (DfE, England 2018: 31 / 55 and 21 / 55; 2024: 32% at 19 to 20 against 62% at 18).
STILL_STAYING = {19: 0.7, 20: 0.5}
# Children looked after only under agreed series of short breaks, per child starting care.
SHORT_BREAK_SHARE = 0.04
HOME_DISTRICTS = ("ST1 3", "ST2 8", "ST3 5", "ST4 7", "ST6 1", "ST6 5", "ST10 2")
AWAY_DISTRICTS = ("WS11 4", "DE13 0", "CW1 2", "WV10 9", "B23 6", "SK17 6")
NEIGHBOURS = ("E10000028", "E06000051", "E08000031", "E10000007", "E06000049")
ETHNIC = (
    ("WBRI", 0.73),
    ("WOTH", 0.04),
    ("MWBC", 0.05),
    ("MOTH", 0.04),
    ("APKN", 0.03),
    ("AOTH", 0.02),
    ("BAFR", 0.03),
    ("BCRB", 0.02),
    ("OOTH", 0.02),
    ("NOBT", 0.02),
)
MOVE_REASONS = ("CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB", "CREQO", "CHILD", "LAREQ")
NEED = (("N1", 0.62), ("N2", 0.03), ("N3", 0.03), ("N4", 0.15), ("N5", 0.08), ("N8", 0.09))
LEAVER_ACCOM = ("B1", "C1", "D1", "E1", "G2", "H1", "K1", "R1", "S1", "S2", "T1", "U1", "V2")
LEAVER_ACTIV = ("F1", "F2", "P1", "P2", "G4", "G5", "G6")


class SyntheticSet(msgspec.Struct, frozen=True, kw_only=True):
    """Generated files (one Header, Episodes and OC3 file per collection year) and their size."""

    files: list[SourceFile]
    episode_rows: int
    header_rows: int
    oc3_rows: int
    children: int


@dataclass
class _Episode:
    decom: date
    rne: str
    ls: str
    place: str
    provider: str
    dec: date | None = None
    rec: str | None = None
    reason: str = ""
    home_post: str = ""
    pl_post: str = ""
    urn: str = "XXXXXXX"
    pl_la: str = ""


@dataclass
class _Child:
    entered: date
    birth: date
    sex: str
    ethnic: str
    cin: str
    episodes: list[_Episode] = field(default_factory=list)
    # Collection year -> OC3 (IN_TOUCH, ACTIV, ACCOM), for the 18th to 21st birthdays.
    leaver: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    # Leaving foster care at 18: whether they go on living with their foster carers.
    stays: bool = False
    child_id: str = ""
    upn: str = ""


def _birthday(birth: date, age: int) -> date:
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:  # 29 February
        return date(birth.year + age, 3, 1)


def _pick(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _dmy(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


class _Simulation:
    """Draws children's periods of care; all randomness comes from one seeded generator."""

    def __init__(
        self,
        rng: random.Random,
        authority_code: str | None,
        staying_put_rate: float = STAYING_PUT_RATE,
    ) -> None:
        self.rng = rng
        self.authority_code = authority_code
        self.staying_put_rate = staying_put_rate

    def arrivals(self, per_year: float, start: date, end: date) -> list[date]:
        """Entry dates: a Poisson process whose rate follows the month of the year."""
        days: list[date] = []
        mean_weight = sum(MONTH_WEIGHT) / 12
        day = start
        while day <= end:
            rate = per_year / 365.25 * MONTH_WEIGHT[day.month - 1] / mean_weight
            days += [day] * self._poisson(rate)
            day += timedelta(days=1)
        return days

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        count, total = 0, self.rng.expovariate(mean)
        while total < 1:
            count += 1
            total += self.rng.expovariate(mean)
        return count

    def child(self, entered: date) -> _Child:
        rng = self.rng
        low, high = _pick(rng, AGE_AT_ENTRY)
        age = rng.randint(low, high)
        birth = entered - timedelta(days=age * 365 + rng.randint(0, 364))
        birth = min(birth, entered)
        child = _Child(
            entered=entered,
            birth=birth,
            sex=rng.choice("12"),
            ethnic=_pick(rng, ETHNIC),
            cin=_pick(rng, NEED),
        )
        self._period(child, age)
        return child

    def _first_place(self, age: int) -> tuple[str, str]:
        rng = self.rng
        if age >= 16:
            kind = _pick(rng, (("foster", 0.3), ("home", 0.15), ("supported", 0.5), ("z", 0.05)))
        elif age >= 10:
            kind = _pick(rng, (("foster", 0.78), ("home", 0.12), ("parents", 0.05), ("z", 0.05)))
        else:
            kind = _pick(rng, (("foster", 0.9), ("parents", 0.06), ("z", 0.04)))
        return self._place_of(kind)

    def _place_of(self, kind: str) -> tuple[str, str]:
        rng = self.rng
        if kind == "foster":
            return _pick(
                rng,
                (
                    ((rng.choice(("U4", "U5", "U6")), "PR1"), 0.38),
                    ((rng.choice(("U4", "U5", "U6")), rng.choice(("PR4", "PR4", "PR5"))), 0.3),
                    ((rng.choice(("U1", "U2", "U3")), "PR1"), 0.27),
                    ((rng.choice(("U4", "U5", "U6")), "PR2"), 0.05),
                ),
            )
        if kind == "home":
            return "K2", _pick(rng, (("PR1", 0.25), ("PR4", 0.7), ("PR5", 0.05)))
        if kind == "supported":
            return rng.choice(("H5", "K3", "P2")), rng.choice(("PR4", "PR5", "PR1"))
        if kind == "parents":
            return "P1", "PR0"
        return rng.choice(("T0", "R1", "S1", "K1", "Z1", "R5")), rng.choice(("PR3", "PR4"))

    def _next_place(self, current: str, age: int) -> tuple[str, str]:
        rng = self.rng
        if current in codes.FOSTER_PLACES:
            if age >= 16 and rng.random() < 0.6:
                return self._place_of("supported")
            return self._place_of("foster" if rng.random() < 0.85 else "home")
        if current == "K2":
            if age >= 16 and rng.random() < 0.4:
                return self._place_of("supported")
            return self._place_of("home" if rng.random() < 0.6 else "foster")
        return self._place_of("foster" if age < 16 else rng.choice(("supported", "foster")))

    def _outcome(self, age: int) -> str:
        if age < 4:
            options = (("adoption", 0.33), ("home", 0.4), ("sgo", 0.12), ("to_18", 0.15))
        elif age < 10:
            options = (("home", 0.48), ("sgo", 0.15), ("to_18", 0.37))
        elif age < 16:
            options = (("home", 0.52), ("to_18", 0.4), ("other", 0.08))
        else:
            options = (("home", 0.35), ("to_18", 0.55), ("other", 0.1))
        return _pick(self.rng, options)

    def short_breaks(self, entered: date) -> _Child:
        """A disabled child looked after only under an agreed series of short breaks (legal
        status V3 or V4) with in-house carers, for one to four years or to 18."""
        rng = self.rng
        age = rng.randint(5, 16)
        birth = entered - timedelta(days=age * 365 + rng.randint(0, 364))
        child = _Child(entered=entered, birth=birth, sex=rng.choice("12"), ethnic="WBRI", cin="N2")
        end = min(entered + timedelta(days=rng.randint(365, 1460)), _birthday(birth, 18))
        episode = self._episode(child, entered, "S", rng.choice(("V3", "V4")), "U4", "PR1")
        episode.dec, episode.rec = end, "E8"
        return child

    def _period(self, child: _Child, age: int) -> None:
        """One period of care: placements and legal status changes, and how it ends."""
        rng = self.rng
        entered = child.entered
        eighteenth = _birthday(child.birth, 18)
        outcome = self._outcome(age)
        adoption_on = None
        if outcome == "home":
            end = entered + timedelta(days=7 + int(rng.expovariate(1 / 480)))
        elif outcome == "sgo":
            end = entered + timedelta(days=rng.randint(450, 1500))
        elif outcome == "adoption":
            adoption_on = entered + timedelta(days=rng.randint(240, 540))
            end = adoption_on + timedelta(days=rng.randint(120, 400))
        elif outcome == "other":
            end = entered + timedelta(days=rng.randint(30, 900))
        else:
            end = eighteenth
        if end >= eighteenth:
            outcome, end, adoption_on = "to_18", eighteenth, None
        end = max(end, entered + timedelta(days=1))

        # Change points within the period: placement moves (P), a legal status change (L).
        changes: list[tuple[date, str]] = []
        mean_stay = 350 if age >= 12 else 520
        day = entered
        while True:
            day += timedelta(days=30 + int(rng.expovariate(1 / mean_stay)))
            if day >= (adoption_on or end):
                break
            changes.append((day, "P"))
        if adoption_on is not None:
            changes.append((adoption_on, "T"))
        first_ls = _pick(rng, (("C2", 0.42), ("V2", 0.48), ("C1", 0.06), ("J2", 0.04)))
        if first_ls == "C2":
            review = entered + timedelta(days=rng.randint(120, 300))
            if review < (adoption_on or end) and all(
                abs((review - d).days) > 3 for d, _ in changes
            ):
                changes.append((review, "L"))
        # Many young people move on to supported accommodation at 16 or 17 ("U" below).
        step_down = child.birth + timedelta(days=rng.randint(16 * 365 + 180, 18 * 365 - 20))
        if outcome == "to_18" and entered < step_down < end and rng.random() < 0.4:
            changes = [(d, kind) for d, kind in changes if d < step_down]
            changes.append((step_down, "U"))
        changes.sort()

        place, provider = self._first_place(age)
        ls = first_ls
        episode = self._episode(child, entered, "S", ls, place, provider)
        for when, rne in changes:
            age_now = (when - child.birth).days // 365
            episode.dec, episode.rec = when, codes.CONTINUES
            if rne == "P":
                place, provider = self._next_place(place, age_now)
            elif rne == "U":
                rne, (place, provider) = "P", self._place_of("supported")
            elif rne == "T":
                place, provider, ls = rng.choice(("A5", "A6")), rng.choice(("PR1", "PR5")), "E1"
            else:
                ls = "C1"
            episode = self._episode(child, when, rne, ls, place, provider)
        episode.dec = end
        episode.rec = self._ending(child, outcome, place)
        self._leaver(child, end)

    def _episode(
        self, child: _Child, decom: date, rne: str, ls: str, place: str, provider: str
    ) -> _Episode:
        rng = self.rng
        home = rng.choice(HOME_DISTRICTS)
        local = {"PR1": 0.9, "PR0": 1.0}.get(provider, 0.5 if place != "K2" else 0.35)
        within = rng.random() < local
        episode = _Episode(
            decom=decom,
            rne=rne,
            ls=ls,
            place=place,
            provider=provider,
            reason="" if rne in {"S", "L"} else rng.choice(MOVE_REASONS),
            home_post=home,
            pl_post=home
            if place == "P1"
            else rng.choice(HOME_DISTRICTS if within else AWAY_DISTRICTS),
            urn=f"SC{rng.randint(100000, 999999)}" if place == "K2" else "XXXXXXX",
        )
        if self.authority_code:
            episode.pl_la = self.authority_code if within else rng.choice(NEIGHBOURS)
        child.episodes.append(episode)
        return episode

    def _ending(self, child: _Child, outcome: str, place: str) -> str:
        rng = self.rng
        foster = place in codes.FOSTER_PLACES
        if outcome == "to_18":
            if foster:
                child.stays = rng.random() < self.staying_put_rate
                # REC E17 mostly agrees with where the young person then lives, not always.
                if rng.random() < (0.9 if child.stays else 0.05):
                    return codes.STAYED_PUT
                return _pick(rng, (("E5", 0.4), ("E6", 0.25), ("E8", 0.3), ("E3", 0.05)))
            return _pick(rng, (("E5", 0.6), ("E6", 0.2), ("E8", 0.2)))
        if outcome == "adoption":
            return rng.choice(("E11", "E12"))
        if outcome == "sgo":
            return "E45" if foster else rng.choice(("E46", "E48"))
        if outcome == "home":
            return _pick(rng, (("E13", 0.35), ("E4A", 0.45), ("E41", 0.1), ("E4B", 0.1)))
        return _pick(rng, (("E8", 0.5), ("E3", 0.3), ("E9", 0.2)))

    def _leaver(self, child: _Child, end: date) -> None:
        """OC3 rows in the years of the 18th to 21st birthdays, for those who left care at 16
        or over: living with former foster carers (ACCOM Z1) for those who stay, fewer each
        year; some have no row, a few returned home (RHOM) or died."""
        if end < _birthday(child.birth, 16):
            return
        rng = self.rng
        for age in range(18, 22):
            if rng.random() < 0.05:
                continue
            year = year_ending_march(_birthday(child.birth, age))
            if rng.random() < 0.003:
                child.leaver[year] = ("DIED", "", "")
                return
            still = child.stays and (age == 18 or rng.random() < STILL_STAYING.get(age, 0.25))
            if not still and rng.random() < 0.02:
                child.leaver[year] = ("RHOM", "", "")
                continue
            in_touch = "YES" if still or rng.random() < 0.85 else rng.choice(("NO", "REFU"))
            accom = "Z1" if still else rng.choice(LEAVER_ACCOM)
            child.leaver[year] = (in_touch, rng.choice(LEAVER_ACTIV), accom)


def _years_of(episode: _Episode, first_year: int, last_year: int) -> range:
    """The collection years (within the set) whose files hold the episode."""
    start = max(first_year, year_ending_march(episode.decom))
    stop = min(last_year, year_ending_march(episode.dec) if episode.dec else last_year)
    return range(start, stop + 1)


def _rows_of(child: _Child, first_year: int, last_year: int) -> int:
    return sum(len(_years_of(e, first_year, last_year)) for e in child.episodes)


def _in_files(child: _Child, first_year: int, last_year: int) -> bool:
    """In care during the years, or a care leaver with an OC3 row in one of them."""
    return _rows_of(child, first_year, last_year) > 0 or any(
        first_year <= year <= last_year for year in child.leaver
    )


def _csv(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _files(
    children: list[_Child], first_year: int, last_year: int, with_pl_la: bool
) -> tuple[list[SourceFile], int, int, int]:
    episodes: dict[int, list[list[str]]] = {y: [] for y in range(first_year, last_year + 1)}
    headers: dict[int, list[list[str]]] = {y: [] for y in episodes}
    leavers: dict[int, list[list[str]]] = {y: [] for y in episodes}
    for child in children:
        years_present: set[int] = set()
        for episode in child.episodes:
            for year in _years_of(episode, first_year, last_year):
                years_present.add(year)
                ended = episode.dec is not None and episode.dec <= date(year, 3, 31)
                row = [
                    child.child_id,
                    _dmy(episode.decom),
                    episode.rne,
                    episode.ls,
                    child.cin,
                    episode.place,
                    episode.provider,
                    _dmy(episode.dec) if ended else "",
                    (episode.rec or "") if ended else "",
                    episode.reason,
                    episode.home_post,
                    episode.pl_post,
                    episode.urn,
                ]
                if with_pl_la:
                    row.append(episode.pl_la)
                episodes[year].append(row)
        years_present.update(y for y in child.leaver if first_year <= y <= last_year)
        for year in sorted(years_present):
            headers[year].append(
                [child.child_id, child.sex, _dmy(child.birth), child.ethnic, child.upn, "", ""]
            )
        for year, (in_touch, activ, accom) in sorted(child.leaver.items()):
            if first_year <= year <= last_year:
                leavers[year].append([child.child_id, _dmy(child.birth), in_touch, activ, accom])
    episode_columns = [*codes.EPISODES_COLUMNS, *(["PL_LA"] if with_pl_la else [])]
    files: list[SourceFile] = []
    for year in episodes:
        label = f"{year - 1}-{year % 100:02d}"
        files.append(SourceFile(f"header_{label}.csv", _csv(codes.HEADER_COLUMNS, headers[year])))
        files.append(SourceFile(f"episodes_{label}.csv", _csv(episode_columns, episodes[year])))
        files.append(SourceFile(f"oc3_{label}.csv", _csv(codes.OC3_COLUMNS, leavers[year])))
    return (
        files,
        sum(map(len, episodes.values())),
        sum(map(len, headers.values())),
        sum(map(len, leavers.values())),
    )


def _simulate(
    simulation: _Simulation, per_year: float, first_year: int, last_year: int
) -> list[_Child]:
    # Start 19 years early so the first year holds the long-stayers of earlier years.
    start, end = date(first_year - 19, 4, 1), date(last_year, 3, 31)
    children = [simulation.child(day) for day in simulation.arrivals(per_year, start, end)]
    breaks = simulation.arrivals(per_year * SHORT_BREAK_SHARE, date(first_year - 5, 4, 1), end)
    children += [simulation.short_breaks(day) for day in breaks]
    return [c for c in children if _in_files(c, first_year, last_year)]


def _filler(simulation: _Simulation, last_year: int) -> _Child:
    """A recent entrant with one open episode: exactly one row, in the last year's file."""
    rng = simulation.rng
    entered = date(last_year - 1, 4, 1) + timedelta(days=rng.randint(0, 364))
    age = rng.randint(0, 17)
    child = _Child(
        entered=entered,
        birth=entered - timedelta(days=age * 365 + rng.randint(0, 364)),
        sex=rng.choice("12"),
        ethnic=_pick(rng, ETHNIC),
        cin=_pick(rng, NEED),
    )
    place, provider = simulation._first_place(age)
    simulation._episode(child, entered, "S", "V2", place, provider)
    return child


def _exactly(
    simulation: _Simulation, rows: int, per_year: float, first_year: int, last_year: int
) -> list[_Child]:
    """Children whose rows add up to exactly `rows`: a random thinning of a larger
    population (which keeps its shape), topped up with one-row recent entrants."""
    pilot = _simulate(simulation, per_year, first_year, last_year)
    pilot_rows = sum(_rows_of(c, first_year, last_year) for c in pilot) or 1
    rate = per_year * rows / pilot_rows * 1.1
    pool = _simulate(simulation, rate, first_year, last_year)
    order = list(range(len(pool)))
    simulation.rng.shuffle(order)
    chosen, total = [], 0
    for index in order:
        count = _rows_of(pool[index], first_year, last_year)
        if total + count <= rows:
            chosen.append(pool[index])
            total += count
        if total == rows:
            break
    chosen += [_filler(simulation, last_year) for _ in range(rows - total)]
    return chosen


def generate(
    *,
    seed: int = 903,
    first_year: int = 2021,
    last_year: int = 2024,
    starters_per_year: float = 250,
    episode_rows: int | None = None,
    authority_code: str | None = None,
    staying_put_rate: float = STAYING_PUT_RATE,
) -> SyntheticSet:
    """Header, Episodes and OC3 files for collection years ending March `first_year` to
    `last_year` (files named like episodes_2022-23.csv).

    `starters_per_year` sets the size of the council; with `episode_rows` the episode files
    hold exactly that many rows in all (the arrival rate is scaled to fit). With
    `authority_code`, episodes carry a PL_LA column (about three in four placed within it).
    `staying_put_rate` is the chance that an 18-year-old in foster care stays put.
    """
    if first_year > last_year:
        raise ValueError("first_year is after last_year")
    rng = random.Random(seed)
    simulation = _Simulation(rng, authority_code, staying_put_rate)
    if episode_rows is None:
        children = _simulate(simulation, starters_per_year, first_year, last_year)
    else:
        children = _exactly(simulation, episode_rows, starters_per_year, first_year, last_year)
    children.sort(key=lambda c: c.entered)
    ids = rng.sample(range(100_000, 10_000_000), len(children))
    for child, number in zip(children, ids, strict=True):
        child.child_id = str(number)
        child.upn = f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randint(0, 10**11 - 1):011d}" + (
            rng.choice("ABCDEFGHJKLMNPQRTUVWXYZ0123456789")
        )
    files, episode_count, header_count, oc3_count = _files(
        children, first_year, last_year, authority_code is not None
    )
    return SyntheticSet(
        files=files,
        episode_rows=episode_count,
        header_rows=header_count,
        oc3_rows=oc3_count,
        children=len(children),
    )
