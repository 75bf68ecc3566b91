"""Every table of the schema, imported in one place so the metadata is complete."""

from sqlmodel import SQLModel

from tracker.access import ApiToken
from tracker.audit import AuditEntry
from tracker.authorities import Authority
from tracker.capacity import ChildrenInCareFigure, ExternalProvisionFigure
from tracker.enquiries import Enquiry, EnquiryEvent
from tracker.households import Household, HouseholdVersion, Placement, Unavailability

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Authority",
    "ChildrenInCareFigure",
    "Enquiry",
    "EnquiryEvent",
    "ExternalProvisionFigure",
    "Household",
    "HouseholdVersion",
    "Placement",
    "Unavailability",
    "metadata",
]
