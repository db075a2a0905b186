"""A partner's request for a resource, its approval steps, timeline, comments and documents."""

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.accounts import Organisation, User
from rrc.models.catalogue import ApprovalStepKind, DocumentType, Resource
from rrc.models.types import UTCDateTime, enum_column, utcnow


class RequestStatus(enum.StrEnum):
    """Where a request stands (DESIGN.md §3)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    RequestStatus.DRAFT,
    RequestStatus.IN_REVIEW,
    RequestStatus.CHANGES_REQUESTED,
    RequestStatus.APPROVED,
    RequestStatus.IN_PROGRESS,
)


class StepState(enum.StrEnum):
    """State of one approval step."""

    WAITING = "waiting"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    SKIPPED = "skipped"


class UsageMode(enum.StrEnum):
    """How instrument or space time is used."""

    SELF_USE = "self_use"
    ESCORTED = "escorted"


class RequestCounter(db.Model):
    """The last reference number handed out in a year; numbers are never reused."""

    __tablename__ = "request_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class ResourceRequest(db.Model):
    """A partner's request to use a resource (never called ``Request``: that is Flask's)."""

    __tablename__ = "resource_request"
    __table_args__ = (
        sa.Index("ix_resource_request_status_updated", "status", "updated_at"),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    requester_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    resource_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.DRAFT, index=True
    )
    # Every request.
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    principal_investigator: Mapped[str] = mapped_column(sa.String(120), default="")
    payer: Mapped[str] = mapped_column(sa.String(200), default="")
    billing_contact: Mapped[str] = mapped_column(sa.String(120), default="")
    billing_email: Mapped[str] = mapped_column(sa.String(254), default="")
    po_number: Mapped[str] = mapped_column(sa.String(80), default="")
    proprietary: Mapped[bool] = mapped_column(default=False)
    terms_version: Mapped[Optional[str]] = mapped_column(sa.String(20))
    terms_accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Amount: units of quantity resources; minutes of time for slot resources.
    quantity: Mapped[Optional[int]]
    requested_minutes: Mapped[Optional[int]]
    preferred_dates: Mapped[str] = mapped_column(sa.String(300), default="")
    # Sessions a slot request asks for, as [{"start": iso, "end": iso}] in UTC; they become held
    # bookings at submission.
    requested_slots: Mapped[list] = mapped_column(sa.JSON, default=list)
    usage_mode: Mapped[Optional[UsageMode]] = mapped_column(enum_column(UsageMode, "usage_mode"))
    # Biosafety.
    agent_name: Mapped[str] = mapped_column(sa.String(200), default="")
    risk_group: Mapped[Optional[int]]
    high_risk_pathogen: Mapped[bool] = mapped_column(default=False)
    gmo: Mapped[bool] = mapped_column(default=False)
    ibc_approval_number: Mapped[str] = mapped_column(sa.String(80), default="")
    ibc_approval_date: Mapped[Optional[date]] = mapped_column(sa.Date)
    training_evidence: Mapped[str] = mapped_column(sa.Text, default="")
    # Human specimens.
    irb_approval_number: Mapped[str] = mapped_column(sa.String(80), default="")
    use_plan: Mapped[str] = mapped_column(sa.Text, default="")
    # Animal work.
    iacuc_protocol_number: Mapped[str] = mapped_column(sa.String(80), default="")
    species: Mapped[str] = mapped_column(sa.String(120), default="")
    animal_count: Mapped[Optional[int]]
    # Materials.
    material_form: Mapped[str] = mapped_column(sa.String(120), default="")
    shipping_address: Mapped[str] = mapped_column(sa.Text, default="")
    shipping_country: Mapped[str] = mapped_column(sa.String(2), default="")
    receiving_person: Mapped[str] = mapped_column(sa.String(120), default="")
    receiving_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    mta_accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Services.
    samples_description: Mapped[str] = mapped_column(sa.Text, default="")
    plate_format: Mapped[str] = mapped_column(sa.String(40), default="")
    desired_timeline: Mapped[str] = mapped_column(sa.String(200), default="")
    deliverables: Mapped[str] = mapped_column(sa.Text, default="")
    # The estimate at submission, never recomputed silently.
    estimate_snapshot: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    cancel_reason: Mapped[Optional[str]] = mapped_column(sa.Text)
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    organisation: Mapped[Organisation] = relationship()
    resource: Mapped[Resource] = relationship()
    steps: Mapped[list["ApprovalStep"]] = relationship(
        back_populates="resource_request",
        order_by="ApprovalStep.position",
        cascade="all, delete-orphan",
    )
    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="resource_request", order_by="RequestEvent.id", cascade="all, delete-orphan"
    )
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="resource_request", order_by="Comment.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="resource_request", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @property
    def current_step(self) -> Optional["ApprovalStep"]:
        """The step whose decision the request is waiting for, if any."""
        return next((step for step in self.steps if step.state == StepState.PENDING), None)

    def __repr__(self) -> str:
        return f"<ResourceRequest {self.reference} {self.status}>"


# The staff's list of requests opens newest submission first, never-submitted ones last
# (requests.queries); this index gives that order without sorting every request. PostgreSQL
# needs the NULLS LAST in the index. SQLite cannot say it there, but it sorts NULL lowest, so a
# plain descending index gives the same order; it is created after the table (and by the
# migration) under the same name.
SUBMITTED_INDEX = "ix_resource_request_submitted_at_id"
sa.Index(
    SUBMITTED_INDEX, ResourceRequest.submitted_at.desc().nulls_last(), ResourceRequest.id.desc()
).ddl_if(dialect="postgresql")
sa.event.listen(
    ResourceRequest.__table__,
    "after_create",
    sa.DDL(
        f"CREATE INDEX {SUBMITTED_INDEX} ON resource_request (submitted_at DESC, id DESC)"
    ).execute_if(dialect="sqlite"),
)


class ApprovalStep(db.Model):
    """One decision in a request's approval chain."""

    __tablename__ = "approval_step"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "position", name="uq_approval_step_request_position"),
        sa.Index("ix_approval_step_state_kind", "state", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_request.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    kind: Mapped[ApprovalStepKind] = mapped_column(
        enum_column(ApprovalStepKind, "approval_step_kind")
    )
    state: Mapped[StepState] = mapped_column(
        enum_column(StepState, "step_state"), default=StepState.WAITING
    )
    # Set when a coordinator hands the step to one named person.
    assignee_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    pending_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    comment: Mapped[Optional[str]] = mapped_column(sa.Text)

    resource_request: Mapped[ResourceRequest] = relationship(back_populates="steps")
    assignee: Mapped[Optional[User]] = relationship(foreign_keys=[assignee_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])


class RequestEvent(db.Model):
    """One entry of a request's timeline: a transition, decision, comment or upload."""

    __tablename__ = "request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_request.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[Optional[str]] = mapped_column(sa.String(32))
    to_status: Mapped[Optional[str]] = mapped_column(sa.String(32))
    step_kind: Mapped[Optional[str]] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    internal: Mapped[bool] = mapped_column(default=False)

    resource_request: Mapped[ResourceRequest] = relationship(back_populates="events")
    actor: Mapped[Optional[User]] = relationship()


class Comment(db.Model):
    """A comment on a request: public (the partner sees it) or internal to staff."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_request.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource_request: Mapped[ResourceRequest] = relationship(back_populates="comments")
    author: Mapped[Optional[User]] = relationship()


class Attachment(db.Model):
    """A document uploaded to a request, stored under ``instance/uploads/`` by generated name."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_request.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    document_type: Mapped[Optional[DocumentType]] = mapped_column(
        enum_column(DocumentType, "document_type")
    )
    original_name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    stored_name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource_request: Mapped[ResourceRequest] = relationship(back_populates="attachments")
    uploaded_by: Mapped[Optional[User]] = relationship()
