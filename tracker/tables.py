"""Every table of the domain, imported in one place so the metadata is complete (the API's
own tables are in `api.tables`)."""

from sqlmodel import SQLModel

from tracker.capacity.tables import CapacityReturn, ChildrenInCareFigure, ExternalProvisionFigure
from tracker.children.tables import (
    CareEpisode,
    CareLeaverRecord,
    ChildRecord,
    ImportRun,
    MonthlyAggregate,
)
from tracker.core.access import ApiToken
from tracker.core.approvals_targets import ApprovalsTargetSetting
from tracker.core.audit import AuditEntry
from tracker.core.authorities import Authority
from tracker.core.monthly_tables import (
    FunnelMonth,
    FunnelMonthClosure,
    FunnelMonthEvents,
    FunnelMonthHistogram,
    PreparedAuthority,
    RegisterMonth,
    RegisterMonthFlow,
)
from tracker.core.revisions import CouncilRevision
from tracker.enquiries.tables import Enquiry, EnquiryEvent
from tracker.forecasting.tables import ForecastResult, ForecastRun, RunLease
from tracker.households.tables import Household, HouseholdVersion, Placement, Unavailability
from tracker.hubs.tables import Hub, HubDistrict, HubEnquiry, HubMember, HubTarget
from tracker.scenarios.tables import Scenario
from tracker.targets.tables import Target, TargetTrajectory

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "ApprovalsTargetSetting",
    "AuditEntry",
    "Authority",
    "CapacityReturn",
    "CareEpisode",
    "CareLeaverRecord",
    "ChildRecord",
    "ChildrenInCareFigure",
    "CouncilRevision",
    "Enquiry",
    "EnquiryEvent",
    "ExternalProvisionFigure",
    "ForecastResult",
    "ForecastRun",
    "FunnelMonth",
    "FunnelMonthClosure",
    "FunnelMonthEvents",
    "FunnelMonthHistogram",
    "Household",
    "HouseholdVersion",
    "Hub",
    "HubDistrict",
    "HubEnquiry",
    "HubMember",
    "HubTarget",
    "ImportRun",
    "MonthlyAggregate",
    "Placement",
    "PreparedAuthority",
    "RegisterMonth",
    "RegisterMonthFlow",
    "RunLease",
    "Scenario",
    "Target",
    "TargetTrajectory",
    "Unavailability",
    "metadata",
]
