"""Small counts: what readers outside an authority (regional tokens) are not shown.

As the national statistics do, a count under `SMALL_COUNT` is withheld from them, and free
text (a campaign's name) is named to them only for a group at least that large: a name with
a count of 1 or 2 can point at a person.
"""

from __future__ import annotations

SMALL_COUNT = 5
