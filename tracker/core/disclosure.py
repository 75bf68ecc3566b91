"""Small counts: what readers outside an authority (regional tokens) are not shown.

As the national statistics do, a count under `SMALL_COUNT` is withheld from them, and free
text (a campaign's name) is named to them only for a group at least that large: a name with
a count of 1 or 2 can point at a person. Children's figures are withheld as DfE publishes
council figures: small counts, and others with them where a total would give one back
(`withheld`, secondary suppression).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SMALL_COUNT = 5

WITHHELD = (
    f"counts from 1 to {SMALL_COUNT - 1} are withheld (null), and others with them where a "
    "total would give them back, as DfE publishes council figures"
)


@dataclass(frozen=True)
class Line(Generic[K]):
    """Cells that add up to a total (`total`: None when none is shown). `whole`: the total is
    withheld as soon as one of its parts is (a sum over a chosen range, where another range
    would give the part back)."""

    total: K | None
    parts: tuple[K, ...]
    whole: bool = False


def withheld(cells: Mapping[K, int | None], lines: Iterable[Line[K]]) -> set[K]:
    """The cells to withhold: counts from 1 to `SMALL_COUNT` - 1, then (secondary
    suppression) in every line with one cell withheld, another: the total of a `whole`
    line, else its smallest shown part above 0, else its total, else a zero part; repeated
    until no line gives a withheld cell back. Cells without a value (None) are no part."""
    hidden = {k for k, n in cells.items() if n is not None and 0 < n < SMALL_COUNT}
    # Sums over ranges first, each pass anew after a cell is withheld: a total withheld
    # may leave two cells withheld in another line, which then needs no other.
    ordered = sorted(lines, key=lambda line: not line.whole)
    while (pick := _next(cells, ordered, hidden)) is not None:
        hidden.add(pick)
    return hidden


def _next(cells: Mapping[K, int | None], lines: list[Line[K]], hidden: set[K]) -> K | None:
    """The next cell to withhold: in the first line with one cell withheld, see `withheld`."""
    for line in lines:
        parts = [k for k in line.parts if cells.get(k) is not None]
        total = line.total if line.total is not None and cells.get(line.total) is not None else None
        keys = parts if total is None else [*parts, total]
        if sum(k in hidden for k in keys) != 1:
            continue
        shown = sorted((k for k in parts if k not in hidden), key=lambda k: cells[k] or 0)
        above = [k for k in shown if cells[k]]
        if total is not None and total not in hidden and line.whole:
            return total
        if above:
            return above[0]
        if total is not None and total not in hidden:
            return total
        if shown:
            return shown[0]
    return None
