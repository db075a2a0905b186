"""Human, translated labels for the values of the domain's enums."""

import enum

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from rrc.models import (
    ApprovalStepKind,
    BookingMode,
    BookingStatus,
    Capability,
    ConsentItem,
    OrganisationStatus,
    OrganisationType,
    OutboxStatus,
    PriceTier,
    RequestStatus,
    ResourceKind,
    StepState,
    UsageMode,
    UserKind,
    UserStatus,
)
from rrc.models.catalogue import DocumentType

# Pairs, not a dict literal: StrEnum members equal their string values, so members of different
# enums with the same value (coordinator, approved, pending…) would overwrite each other.
_PAIRS: list[tuple[enum.Enum, object]] = [
    (OrganisationType.UNIVERSITY, _l("University")),
    (OrganisationType.PUBLIC_INSTITUTE, _l("Public research institute")),
    (OrganisationType.HOSPITAL, _l("Hospital")),
    (OrganisationType.STARTUP, _l("Start-up")),
    (OrganisationType.SME, _l("Small or medium enterprise (SME)")),
    (OrganisationType.LARGE_COMPANY, _l("Large company")),
    (OrganisationType.FOREIGN_ACADEMIC, _l("Foreign academic institution")),
    (OrganisationType.FOREIGN_INDUSTRY, _l("Foreign company")),
    (OrganisationType.INTERNAL, _l("IPK (internal)")),
    (PriceTier.INTERNAL, _l("Internal")),
    (PriceTier.ACADEMIC, _l("Academic")),
    (PriceTier.SME, _l("SME")),
    (PriceTier.INDUSTRY, _l("Industry")),
    (OrganisationStatus.PENDING, _l("Awaiting vetting")),
    (OrganisationStatus.VERIFIED, _l("Verified")),
    (OrganisationStatus.REJECTED, _l("Rejected")),
    (OrganisationStatus.SUSPENDED, _l("Suspended")),
    (UserStatus.UNVERIFIED, _l("E-mail not yet verified")),
    (UserStatus.PENDING_APPROVAL, _l("Awaiting approval")),
    (UserStatus.ACTIVE, _l("Active")),
    (UserStatus.REJECTED, _l("Rejected")),
    (UserStatus.SUSPENDED, _l("Suspended")),
    (UserKind.PARTNER, _l("Partner")),
    (UserKind.STAFF, _l("Staff")),
    (Capability.COORDINATOR, _l("Coordinator")),
    (Capability.FACILITY_MANAGER, _l("Facility manager")),
    (Capability.BIOSAFETY_OFFICER, _l("Biosafety officer")),
    (Capability.ADMIN, _l("Administrator")),
    (ConsentItem.REQUIRED, _l("Required items")),
    (ConsentItem.OPTIONAL, _l("Optional items")),
    (ConsentItem.CROSS_BORDER, _l("Transfer across borders")),
    (OutboxStatus.PENDING, _l("Pending")),
    (OutboxStatus.RETRYING, _l("Retrying")),
    (OutboxStatus.SENT, _l("Sent")),
    (OutboxStatus.CAPTURED, _l("Captured")),
    (OutboxStatus.DEAD, _l("Failed")),
    (ResourceKind.INSTRUMENT, _l("Instrument")),
    (ResourceKind.SPACE, _l("Space")),
    (ResourceKind.SERVICE, _l("Service")),
    (ResourceKind.MATERIAL, _l("Material")),
    (ResourceKind.TRAINING, _l("Training")),
    (ResourceKind.CONSULTATION, _l("Consultation")),
    (BookingMode.SLOT, _l("Time slots on a calendar")),
    (BookingMode.QUANTITY, _l("A quantity of units")),
    (ApprovalStepKind.COORDINATOR, _l("RRC coordinator review")),
    (ApprovalStepKind.FACILITY_MANAGER, _l("Facility manager review")),
    (ApprovalStepKind.BIOSAFETY, _l("Biosafety review")),
    (DocumentType.IBC_APPROVAL, _l("Institutional biosafety committee (IBC) approval")),
    (DocumentType.IRB_APPROVAL, _l("IRB approval of the recipient")),
    (DocumentType.IACUC_APPROVAL, _l("IACUC protocol approval")),
    (DocumentType.RESEARCH_PLAN, _l("Research plan")),
    (DocumentType.SIGNED_MTA, _l("Signed material transfer agreement (MTA)")),
    (DocumentType.FACILITY_LIST, _l("List of the applicant's facilities")),
    (DocumentType.TRAINING_CERTIFICATE, _l("Training certificate")),
    (DocumentType.BL3_PERMIT, _l("Recipient's BL3 facility permit")),
    (DocumentType.TRANSFER_NOTICE, _l("High-risk pathogen transfer notice")),
    (DocumentType.INACTIVATION_CERTIFICATE, _l("Inactivation certificate")),
    (DocumentType.SOP, _l("Standard operating procedure (SOP)")),
    (DocumentType.CONTRACT, _l("Facility-use or service contract")),
    (DocumentType.USE_PLAN, _l("Use plan for the material")),
    (DocumentType.COMPOUND_LIST, _l("List of compounds or samples")),
]
_PAIRS += [
    (RequestStatus.DRAFT, _l("Draft")),
    (RequestStatus.IN_REVIEW, _l("In review")),
    (RequestStatus.CHANGES_REQUESTED, _l("Changes requested")),
    (RequestStatus.APPROVED, _l("Approved")),
    (RequestStatus.IN_PROGRESS, _l("In progress")),
    (RequestStatus.COMPLETED, _l("Completed")),
    (RequestStatus.REJECTED, _l("Not approved")),
    (RequestStatus.CANCELLED, _l("Cancelled")),
    (StepState.WAITING, _l("Not reached yet")),
    (StepState.PENDING, _l("Waiting for a decision")),
    (StepState.APPROVED, _l("Approved")),
    (StepState.REJECTED, _l("Rejected")),
    (StepState.CHANGES_REQUESTED, _l("Changes requested")),
    (StepState.SKIPPED, _l("Skipped")),
    (BookingStatus.HELD, _l("Held (under review)")),
    (BookingStatus.CONFIRMED, _l("Confirmed")),
    (BookingStatus.CANCELLED, _l("Cancelled")),
    (BookingStatus.RELEASED, _l("Released")),
    (BookingStatus.COMPLETED, _l("Completed")),
    (BookingStatus.NO_SHOW, _l("No-show")),
    (UsageMode.SELF_USE, _l("Self-use (after the required training)")),
    (UsageMode.ESCORTED, _l("Escorted by facility staff")),
]

LABELS: dict[tuple[type, str], object] = {
    (type(member), member.value): text for member, text in _PAIRS
}


def label(value) -> str:
    """The translated label of an enum value (the raw value for anything unknown)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        text = LABELS.get((type(value), value.value))
        if text is not None:
            return str(text)
    return str(getattr(value, "value", value))


def choices(enum_class: type[enum.Enum]) -> list[SelectChoice]:
    """Options of a select field; labels are resolved lazily per request."""
    return [SelectChoice(member.value, LABELS[(enum_class, member.value)]) for member in enum_class]
