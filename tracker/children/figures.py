"""The children's figures other packages read, in one place: starters and ceased, children
in care (on a date and month by month), Staying Put, time in care, and the monthly figures
councils without an extract enter.

Each lives in a module of its own (`flows`, `in_care`, `staying_put`, `time_in_care`,
`aggregates`); how they count is said there and in `tracker.children.sources`.
"""

from tracker.children.aggregates import (
    BREAKDOWNS,
    Metric,
    MonthlyFigure,
    RecordedFigures,
    record_monthly_figures,
)
from tracker.children.flows import (
    CeasedMonth,
    CeasedReport,
    StarterMonth,
    StartersReport,
    ceased,
    starters,
)
from tracker.children.in_care import (
    InCare,
    InCareReport,
    InCareSeries,
    children_in_care,
    children_in_care_monthly,
    episodes_in_care,
)
from tracker.children.sources import (
    AGGREGATES,
    CATEGORY_NAMES,
    SSDA903,
    has_episodes,
)
from tracker.children.staying_put import (
    StayingPut,
    StayingPutLater,
    StayingPutReport,
    staying_put,
)
from tracker.children.time_in_care import TimeInCareReport, time_in_care

__all__ = [
    "AGGREGATES",
    "BREAKDOWNS",
    "CATEGORY_NAMES",
    "SSDA903",
    "CeasedMonth",
    "CeasedReport",
    "InCare",
    "InCareReport",
    "InCareSeries",
    "Metric",
    "MonthlyFigure",
    "RecordedFigures",
    "StarterMonth",
    "StartersReport",
    "StayingPut",
    "StayingPutLater",
    "StayingPutReport",
    "TimeInCareReport",
    "ceased",
    "children_in_care",
    "children_in_care_monthly",
    "episodes_in_care",
    "has_episodes",
    "record_monthly_figures",
    "starters",
    "staying_put",
    "time_in_care",
]
