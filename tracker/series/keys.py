"""Series keys: a metric and a breakdown, and the id a stored forecast is filed under."""

from __future__ import annotations

import msgspec

TOTAL = "total"


class SeriesKey(msgspec.Struct, frozen=True):
    """A series of any authority: `metric` ("households") and `breakdown` ("total",
    "care_type=in_house", "channel=phone")."""

    metric: str
    breakdown: str = TOTAL

    def id_for(self, authority_code: str) -> str:
        """The series' id for one authority, e.g. "E06000021/enquiries/channel=phone"."""
        return series_id_of(authority_code, self.metric, self.breakdown)


def series_id_of(authority_code: str, metric: str, breakdown: str = TOTAL) -> str:
    """The id of a series, e.g. "E06000021/enquiries/channel=phone"."""
    return f"{authority_code}/{metric}/{breakdown}"


def parse_series_id(series_id: str) -> tuple[str, str, str]:
    """(authority code, metric, breakdown) of a series id."""
    parts = series_id.split("/", 2)
    if len(parts) != 3:
        return "", series_id, TOTAL
    return parts[0], parts[1], parts[2]
