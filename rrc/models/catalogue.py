"""The catalogue: facilities, their resources, rates per tier, and closures."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.accounts import PriceTier, User
from rrc.models.types import UTCDateTime, enum_column, utcnow


class ResourceKind(enum.StrEnum):
    """What a resource is."""

    INSTRUMENT = "instrument"
    SPACE = "space"
    SERVICE = "service"
    MATERIAL = "material"
    TRAINING = "training"
    CONSULTATION = "consultation"


class BookingMode(enum.StrEnum):
    """Slot resources are booked as time on a calendar; quantity resources as units."""

    SLOT = "slot"
    QUANTITY = "quantity"


class ApprovalStepKind(enum.StrEnum):
    """Who decides a step of a request's approval chain."""

    COORDINATOR = "coordinator"
    FACILITY_MANAGER = "facility_manager"
    BIOSAFETY = "biosafety"


class DocumentType(enum.StrEnum):
    """Documents a request may have to carry."""

    IBC_APPROVAL = "ibc_approval"
    IRB_APPROVAL = "irb_approval"
    IACUC_APPROVAL = "iacuc_approval"
    RESEARCH_PLAN = "research_plan"
    SIGNED_MTA = "signed_mta"
    FACILITY_LIST = "facility_list"
    TRAINING_CERTIFICATE = "training_certificate"
    BL3_PERMIT = "bl3_permit"
    TRANSFER_NOTICE = "transfer_notice"
    INACTIVATION_CERTIFICATE = "inactivation_certificate"
    SOP = "sop"
    CONTRACT = "contract"
    USE_PLAN = "use_plan"
    COMPOUND_LIST = "compound_list"


facility_manager = sa.Table(
    "facility_manager",
    db.metadata,
    sa.Column("facility_id", sa.ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Facility(db.Model):
    """A facility of the RRC (a lab suite, a platform, a bank), run by its managers."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_ko: Mapped[Optional[str]] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_ko: Mapped[Optional[str]] = mapped_column(sa.Text)
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    biosafety_level: Mapped[int] = mapped_column(default=1)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Seoul")
    # Opening hours per ISO weekday (1 = Monday): {"1": ["09:00", "18:00"], ...}; absent = closed.
    opening_hours: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[Optional[str]] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    managers: Mapped[list[User]] = relationship(secondary=facility_manager, order_by=User.name)
    resources: Mapped[list["Resource"]] = relationship(
        back_populates="facility", order_by="Resource.code"
    )

    def is_managed_by(self, user: User) -> bool:
        """True if ``user`` manages this facility."""
        return any(manager.id == user.id for manager in self.managers)

    def __repr__(self) -> str:
        return f"<Facility {self.code}>"


class Resource(db.Model):
    """Something partners request: instrument or space time, a service, a material, training."""

    __tablename__ = "resource"
    __table_args__ = (
        sa.CheckConstraint("biosafety_level BETWEEN 0 AND 4", name="biosafety_level_range"),
        sa.CheckConstraint(
            "booking_mode <> 'slot' OR (unit_minutes IS NOT NULL AND unit_minutes > 0)",
            name="slot_resources_have_unit_minutes",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    facility_id: Mapped[int] = mapped_column(
        sa.ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    name_ko: Mapped[Optional[str]] = mapped_column(sa.String(200))
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind, "resource_kind"))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    summary_ko: Mapped[Optional[str]] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    description_ko: Mapped[Optional[str]] = mapped_column(sa.Text)
    biosafety_level: Mapped[int] = mapped_column(default=1)
    high_risk_pathogen: Mapped[bool] = mapped_column(default=False)
    human_specimen: Mapped[bool] = mapped_column(default=False)
    animal_work: Mapped[bool] = mapped_column(default=False)
    gmo: Mapped[bool] = mapped_column(default=False)
    booking_mode: Mapped[BookingMode] = mapped_column(enum_column(BookingMode, "booking_mode"))
    unit_label: Mapped[str] = mapped_column(sa.String(80))
    unit_label_ko: Mapped[Optional[str]] = mapped_column(sa.String(80))
    # Slot resources: the length of one priced unit (60 = hourly rate, 240 = a 4-hour block).
    unit_minutes: Mapped[Optional[int]]
    currency: Mapped[str] = mapped_column(sa.String(3), default="KRW")
    # Booking rules of slot resources.
    slot_granularity_minutes: Mapped[int] = mapped_column(default=30)
    min_duration_minutes: Mapped[int] = mapped_column(default=30)
    max_duration_minutes: Mapped[int] = mapped_column(default=480)
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    max_advance_days: Mapped[int] = mapped_column(default=90)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    # Overrides the facility's opening hours when set (same shape).
    opening_hours: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    cancellation_notice_hours: Mapped[int] = mapped_column(default=48)
    lead_time_days: Mapped[Optional[int]]
    availability_note: Mapped[Optional[str]] = mapped_column(sa.String(300))
    training_requirement: Mapped[Optional[str]] = mapped_column(sa.String(300))
    required_documents: Mapped[list] = mapped_column(sa.JSON, default=list)
    approval_chain: Mapped[list] = mapped_column(sa.JSON, default=list)
    photo_filename: Mapped[Optional[str]] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    retired_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every write that creates or moves a booking: the row lock that serialises them.
    booking_version: Mapped[int] = mapped_column(default=0)

    facility: Mapped[Facility] = relationship(back_populates="resources")
    rates: Mapped[list["Rate"]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="Rate.tier"
    )

    @property
    def is_hazardous(self) -> bool:
        """BSL-2 or above, or any hazard flag: the biosafety block of a request applies."""
        return self.biosafety_level >= 2 or any(
            (self.high_risk_pathogen, self.human_specimen, self.animal_work, self.gmo)
        )

    @property
    def document_types(self) -> list[DocumentType]:
        """The required documents as enum members."""
        return [DocumentType(value) for value in self.required_documents or []]

    @property
    def chain(self) -> list[ApprovalStepKind]:
        """The approval chain as enum members (empty: no approval needed)."""
        return [ApprovalStepKind(value) for value in self.approval_chain or []]

    def rate_for(self, tier: PriceTier) -> Optional["Rate"]:
        """This resource's rate for ``tier``, if one is set."""
        return next((rate for rate in self.rates if rate.tier == tier), None)

    def localized(self, field: str, locale: str) -> str:
        """The Korean text of ``field`` for Korean readers when there is one, else English."""
        if locale == "ko":
            korean = getattr(self, f"{field}_ko", None)
            if korean:
                return korean
        return getattr(self, field) or ""

    def __repr__(self) -> str:
        return f"<Resource {self.code}>"


class Rate(db.Model):
    """The price of one unit of a resource for one tier, or "on quote"."""

    __tablename__ = "rate"
    __table_args__ = (
        sa.UniqueConstraint("resource_id", "tier", name="uq_rate_resource_tier"),
        sa.CheckConstraint("on_quote OR unit_price IS NOT NULL", name="price_or_on_quote"),
        sa.CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price_positive"),
        sa.CheckConstraint("setup_fee IS NULL OR setup_fee >= 0", name="setup_fee_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id", ondelete="CASCADE"))
    tier: Mapped[PriceTier] = mapped_column(enum_column(PriceTier, "price_tier"))
    # Integer amounts in the currency's minor unit (KRW has none: 1 = 1 won).
    unit_price: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    setup_fee: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    on_quote: Mapped[bool] = mapped_column(default=False)

    resource: Mapped[Resource] = relationship(back_populates="rates")


class Closure(db.Model):
    """A period when a whole facility or one resource is unavailable, with a reason."""

    __tablename__ = "closure"
    __table_args__ = (
        sa.CheckConstraint(
            "(facility_id IS NULL) <> (resource_id IS NULL)", name="facility_or_resource"
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_closure_resource_period", "resource_id", "starts_at", "ends_at"),
        sa.Index("ix_closure_facility_period", "facility_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("facility.id", ondelete="CASCADE")
    )
    resource_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("resource.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(300))
    created_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    facility: Mapped[Optional[Facility]] = relationship()
    resource: Mapped[Optional[Resource]] = relationship()
    created_by: Mapped[Optional[User]] = relationship()
