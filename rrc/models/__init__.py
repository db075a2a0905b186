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
from rrc.models.mail import OutboxMessage, OutboxStatus

__all__ = [
    "AuditLog",
    "Capability",
    "ConsentItem",
    "ConsentRecord",
    "Organisation",
    "OrganisationStatus",
    "OrganisationType",
    "OutboxMessage",
    "OutboxStatus",
    "PriceTier",
    "User",
    "UserKind",
    "UserStatus",
]
