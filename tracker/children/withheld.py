"""Children's figures as readers outside the council (regional tokens) are shown them: small
counts withheld (null) as DfE publishes council figures, with secondary suppression so that
no total gives a withheld count back (`tracker.core.disclosure`). Each report then says so
in its `withheld` field; the council's own managers keep the exact figures.

Months are whole and each month's figures are withheld the same in every range, while a
figure summed over a range (a period's total, a year's) is withheld with any of its months,
so that two ranges' totals never give a month back.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

import msgspec

from tracker.children.flows import CeasedReport, StarterMonth, StartersReport
from tracker.children.in_care import InCare, InCareReport, InCareSeries
from tracker.children.staying_put import StayingPut, StayingPutLater, StayingPutReport
from tracker.children.time_in_care import TimeInCareReport
from tracker.core.disclosure import WITHHELD, Line, withheld

Key = tuple[Hashable, ...]


def _shown(cells: dict[Key, int | None], hidden: set[Key], key: Key) -> int | None:
    return None if key in hidden else cells.get(key)


def _note(hidden: set[Key]) -> str | None:
    return WITHHELD if hidden else None


def _rate(numerator: int | None, denominator: int | None, rate: float | None) -> float | None:
    return rate if numerator is not None and denominator is not None else None


def starters(report: StartersReport) -> StartersReport:
    """Starters with small counts withheld: per month, by age band and category, and summed."""
    cells: dict[Key, int | None] = {("T",): report.starters, ("S",): report.short_breaks}
    lines: list[Line[Key]] = []
    for kind, attr in (("a", "by_age_band"), ("c", "by_category")):
        names = list(getattr(report, attr))
        for name in names:
            cells[(kind.upper(), name)] = getattr(report, attr)[name]
        lines.append(Line(("T",), tuple((kind.upper(), n) for n in names)))
        for m in report.months:
            for name in names:
                cells[(kind, m.month, name)] = getattr(m, attr).get(name)
            lines.append(Line(("t", m.month), tuple((kind, m.month, n) for n in names)))
        for name in names:
            parts = tuple((kind, m.month, name) for m in report.months)
            lines.append(Line((kind.upper(), name), parts, whole=True))
    for m in report.months:
        cells[("t", m.month)] = m.starters
        cells[("s", m.month)] = m.short_breaks
    lines.append(Line(("T",), tuple(("t", m.month) for m in report.months), whole=True))
    lines.append(Line(("S",), tuple(("s", m.month) for m in report.months), whole=True))
    hidden = withheld(cells, lines)

    def show(*key: Hashable) -> int | None:
        return _shown(cells, hidden, key)

    months = [
        StarterMonth(
            month=m.month,
            starters=show("t", m.month),
            by_age_band={b: show("a", m.month, b) for b in m.by_age_band},
            by_category={c: show("c", m.month, c) for c in m.by_category},
            short_breaks=show("s", m.month),
        )
        for m in report.months
    ]
    return msgspec.structs.replace(
        report,
        starters=show("T"),
        by_age_band={b: show("A", b) for b in report.by_age_band},
        by_category={c: show("C", c) for c in report.by_category},
        months=months,
        short_breaks=show("S"),
        withheld=_note(hidden),
    )


def ceased(report: CeasedReport) -> CeasedReport:
    """Children ceasing care with small counts withheld, per month and summed."""
    cells: dict[Key, int | None] = {("T",): report.ceased, ("S",): report.short_breaks}
    for m in report.months:
        cells[("t", m.month)] = m.ceased
        cells[("s", m.month)] = m.short_breaks
    hidden = withheld(
        cells,
        [
            Line(("T",), tuple(("t", m.month) for m in report.months), whole=True),
            Line(("S",), tuple(("s", m.month) for m in report.months), whole=True),
        ],
    )
    months = [
        msgspec.structs.replace(
            m,
            ceased=_shown(cells, hidden, ("t", m.month)),
            short_breaks=_shown(cells, hidden, ("s", m.month)),
        )
        for m in report.months
    ]
    return msgspec.structs.replace(
        report,
        ceased=_shown(cells, hidden, ("T",)),
        months=months,
        short_breaks=_shown(cells, hidden, ("S",)),
        withheld=_note(hidden),
    )


def _in_care(figures: InCare) -> tuple[InCare, set[Key]]:
    cells: dict[Key, int | None] = {("T",): figures.children, ("S",): figures.short_breaks}
    cells.update({("c", c): n for c, n in figures.by_category.items()})
    hidden = withheld(cells, [Line(("T",), tuple(("c", c) for c in figures.by_category))])
    shown = msgspec.structs.replace(
        figures,
        children=_shown(cells, hidden, ("T",)),
        by_category={c: _shown(cells, hidden, ("c", c)) for c in figures.by_category},
        short_breaks=_shown(cells, hidden, ("S",)),
    )
    return shown, hidden


def in_care(report: InCareReport) -> InCareReport:
    """Children in care on a date with small counts withheld."""
    figures, hidden = _in_care(report.figures)
    return msgspec.structs.replace(report, figures=figures, withheld=_note(hidden))


def in_care_monthly(report: InCareSeries) -> InCareSeries:
    """Children in care at each month end with small counts withheld."""
    shown = [_in_care(m) for m in report.months]
    hidden = set().union(*(h for _, h in shown))
    return msgspec.structs.replace(report, months=[m for m, _ in shown], withheld=_note(hidden))


def _year_of(month: str) -> str:
    """The year ending 31 March ("2025-26") of a month ("2026-03")."""
    year, number = int(month[:4]), int(month[5:7])
    start = year if number >= 4 else year - 1
    return f"{start}-{str(start + 1)[2:]}"


def _staying_put_cells(
    row: StayingPut, cells: dict[Key, int | None], lines: list[Line[Key]]
) -> None:
    p = row.period
    e, s = row.eligible, row.stayed
    cells[(p, "e")], cells[(p, "s")] = e, s
    cells[(p, "n")] = e - s if e is not None and s is not None else None
    cells[(p, "oc3")], cells[(p, "e17")] = row.judged_on_oc3, row.judged_on_rec_e17
    lines.append(Line((p, "e"), ((p, "s"), (p, "n"))))
    lines.append(Line((p, "e"), ((p, "oc3"), (p, "e17"))))
    for reason, n in (row.excluded or {}).items():
        cells[(p, "x", reason)] = n
    eligible, stayed = row.eligible_by_category or {}, row.stayed_by_category or {}
    for c in eligible:
        cells[(p, "eb", c)], cells[(p, "sb", c)] = eligible[c], stayed.get(c, 0)
        cells[(p, "nb", c)] = eligible[c] - stayed.get(c, 0)
        lines.append(Line((p, "eb", c), ((p, "sb", c), (p, "nb", c))))
    for total, part in (("e", "eb"), ("s", "sb"), ("n", "nb")):
        lines.append(Line((p, total), tuple((p, part, c) for c in eligible)))


def whole_years(date_from: date, date_to: date) -> tuple[date, date]:
    """The whole years ending 31 March that a range touches: what `staying_put` needs."""
    first = date_from.year if date_from.month >= 4 else date_from.year - 1
    last = date_to.year + 1 if date_to.month >= 4 else date_to.year
    return date(first, 4, 1), date(last, 3, 31)


def staying_put(report: StayingPutReport, date_from: date, date_to: date) -> StayingPutReport:
    """Staying Put with small counts withheld. `report` covers the whole years of the range
    (each year's figures are the sum of its months), its months then cut to the range
    from `date_from`'s month to `date_to`'s."""
    cells: dict[Key, int | None] = {}
    lines: list[Line[Key]] = []
    for row in (*report.months, *report.years):
        _staying_put_cells(row, cells, lines)
    keys = list(cells)
    for year in report.years:
        months = [m.period for m in report.months if _year_of(m.period) == year.period]
        for key in keys:
            if key[0] == year.period:
                parts = tuple((m, *key[1:]) for m in months)
                lines.append(Line(key, parts, whole=True))
    later: dict[str, dict[str, Key]] = {}
    for row in report.later:
        p = (row.period, row.age)
        cells[(*p, "e")], cells[(*p, "s")] = row.eligible, row.stayed
        e, s, w = row.eligible, row.stayed, row.without_oc3
        cells[(*p, "n")] = e - s if e is not None and s is not None else None
        cells[(*p, "w")] = w
        cells[(*p, "o")] = e - w if e is not None and w is not None else None
        lines.append(Line((*p, "e"), ((*p, "s"), (*p, "n"))))
        lines.append(Line((*p, "e"), ((*p, "w"), (*p, "o"))))
        later.setdefault(row.period, {})[row.age] = p
    for ages in later.values():
        if "19_to_20" in ages:
            for kind in ("e", "s", "n", "w", "o"):
                parts = tuple((*ages[a], kind) for a in ages if a != "19_to_20")
                lines.append(Line((*ages["19_to_20"], kind), parts))
    hidden = withheld(cells, lines)

    def show(*key: Hashable) -> int | None:
        return _shown(cells, hidden, key)

    def row_of(row: StayingPut) -> StayingPut:
        p = row.period
        eligible, stayed = show(p, "e"), show(p, "s")
        by = row.eligible_by_category
        # Stayed is withheld with eligible (none of a few stayed says as much as one did),
        # and a category withheld is left out, as categories none left are.
        shown = [c for c in by or {} if show(p, "eb", c) is not None]
        return msgspec.structs.replace(
            row,
            eligible=eligible,
            stayed=None if eligible is None else stayed,
            rate=_rate(stayed, eligible, row.rate),
            judged_on_oc3=show(p, "oc3"),
            judged_on_rec_e17=show(p, "e17"),
            excluded=None if row.excluded is None else {x: show(p, "x", x) for x in row.excluded},
            eligible_by_category=None if by is None else {c: show(p, "eb", c) for c in shown},
            stayed_by_category=None if by is None else {c: show(p, "sb", c) for c in shown},
        )

    def later_of(row: StayingPutLater) -> StayingPutLater:
        p = (row.period, row.age)
        eligible, stayed = show(*p, "e"), show(*p, "s")
        return msgspec.structs.replace(
            row,
            eligible=eligible,
            stayed=stayed,
            rate=_rate(stayed, eligible, row.rate),
            without_oc3=show(*p, "w"),
        )

    first, last = f"{date_from:%Y-%m}", f"{date_to:%Y-%m}"
    years = [row_of(y) for y in report.years]
    return msgspec.structs.replace(
        report,
        date_from=date_from,
        date_to=date_to,
        months=[row_of(m) for m in report.months if first <= m.period <= last],
        years=years,
        later=[later_of(r) for r in report.later],
        note=_staying_put_note(report.note, years),
        withheld=_note(hidden),
    )


def _staying_put_note(note: str | None, years: list[StayingPut]) -> str | None:
    """The note of how many were judged each way, from the figures as shown."""
    if note is None or not note.startswith("young people judged"):
        return note
    judged = [y for y in years if y.judged_on_oc3 is not None or y.judged_on_rec_e17 is not None]
    parts = [
        f"{y.period}: {_c(y.judged_on_oc3)} on OC3, {_c(y.judged_on_rec_e17)} on REC E17"
        for y in judged
    ]
    return "young people judged on OC3 accommodation, or on REC E17 where they have no OC3 " + (
        "row that year: " + "; ".join(parts)
    )


def _c(n: int | None) -> str:
    """A count as DfE prints it, "c" when withheld."""
    return "c" if n is None else str(n)


def time_in_care(report: TimeInCareReport) -> TimeInCareReport:
    """Time in care with small counts withheld; the median and share with their counts."""
    t, sni, known, within = (
        report.children,
        report.start_not_imported,
        report.placement_location_known,
        report.placed_within_authority,
    )

    def less(a: int | None, b: int | None) -> int | None:
        return a - b if a is not None and b is not None else None

    cells: dict[Key, int | None] = {
        ("T",): t,
        ("sni",): sni,
        ("rest",): less(t, sni),
        ("known",): known,
        ("unknown",): less(t, known),
        ("within",): within,
        ("outside",): less(known, within),
    }
    cells.update({("b", b): n for b, n in report.by_time_in_care.items()})
    hidden = withheld(
        cells,
        [
            Line(("T",), tuple(("b", b) for b in report.by_time_in_care)),
            Line(("T",), (("sni",), ("rest",))),
            Line(("T",), (("known",), ("unknown",))),
            Line(("known",), (("within",), ("outside",))),
        ],
    )

    def show(*key: Hashable) -> int | None:
        return _shown(cells, hidden, key)

    children = show("T")
    return msgspec.structs.replace(
        report,
        children=children,
        by_time_in_care={b: show("b", b) for b in report.by_time_in_care},
        median_days=report.median_days if children is not None else None,
        start_not_imported=show("sni"),
        placement_location_known=show("known"),
        placed_within_authority=show("within"),
        share_within_authority=_rate(show("within"), show("known"), report.share_within_authority),
        # The note repeats counts: left out when any is withheld.
        note=None if hidden else report.note,
        withheld=_note(hidden),
    )
