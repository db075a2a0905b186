"""The domain model: one module per aggregate."""

from rrc.models.accounts import (
    Capability,
    ConsentItem,
    ConsentRecord,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    PriceTier,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.audit import AuditLog
from rrc.models.catalogue import (
    ApprovalStepKind,
    BookingMode,
    Closure,
    DocumentType,
    Facility,
    Rate,
    Resource,
    ResourceKind,
    facility_manager,
)
from rrc.models.mail import OutboxMessage, OutboxStatus

__all__ = [
    "ApprovalStepKind",
    "AuditLog",
    "BookingMode",
    "Capability",
    "Closure",
    "ConsentItem",
    "ConsentRecord",
    "DocumentType",
    "Facility",
    "Organisation",
    "OrganisationStatus",
    "OrganisationType",
    "OutboxMessage",
    "OutboxStatus",
    "PriceTier",
    "Rate",
    "Resource",
    "ResourceKind",
    "User",
    "UserKind",
    "UserStatus",
    "facility_manager",
]
