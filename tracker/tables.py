"""Every table of the schema, imported in one place so the metadata is complete."""

from sqlmodel import SQLModel

from tracker.access import ApiToken
from tracker.audit import AuditEntry
from tracker.authorities import Authority
from tracker.capacity import ChildrenInCareFigure, ExternalProvisionFigure
from tracker.enquiries import Enquiry, EnquiryEvent
from tracker.forecasts import ForecastResult, ForecastRun, RunLease
from tracker.households import Household, HouseholdVersion, Placement, Unavailability
from tracker.idempotency import IdempotencyRecord
from tracker.regional import CapacityReturn
from tracker.scenarios import Scenario
from tracker.ssda903.tables import (
    CareEpisode,
    CareLeaverRecord,
    ChildRecord,
    ImportRun,
    MonthlyAggregate,
)
from tracker.targets import Target
from tracker.web_sessions import WebSession

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Authority",
    "CapacityReturn",
    "CareEpisode",
    "CareLeaverRecord",
    "ChildRecord",
    "ChildrenInCareFigure",
    "Enquiry",
    "EnquiryEvent",
    "ExternalProvisionFigure",
    "ForecastResult",
    "ForecastRun",
    "Household",
    "HouseholdVersion",
    "IdempotencyRecord",
    "ImportRun",
    "MonthlyAggregate",
    "Placement",
    "RunLease",
    "Scenario",
    "Target",
    "Unavailability",
    "WebSession",
    "metadata",
]
