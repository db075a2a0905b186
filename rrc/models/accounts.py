"""People and the organisations they belong to."""

import enum
import secrets
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.types import UTCDateTime, enum_column, utcnow


class OrganisationType(enum.StrEnum):
    """Kinds of organisation; the kind decides the price tier."""

    UNIVERSITY = "university"
    PUBLIC_INSTITUTE = "public_institute"
    HOSPITAL = "hospital"
    STARTUP = "startup"
    SME = "sme"
    LARGE_COMPANY = "large_company"
    FOREIGN_ACADEMIC = "foreign_academic"
    FOREIGN_INDUSTRY = "foreign_industry"
    INTERNAL = "internal"


class PriceTier(enum.StrEnum):
    """Rate tiers of the catalogue."""

    INTERNAL = "internal"
    ACADEMIC = "academic"
    SME = "sme"
    INDUSTRY = "industry"


TIER_BY_ORGANISATION_TYPE = {
    OrganisationType.UNIVERSITY: PriceTier.ACADEMIC,
    OrganisationType.PUBLIC_INSTITUTE: PriceTier.ACADEMIC,
    OrganisationType.HOSPITAL: PriceTier.ACADEMIC,
    OrganisationType.FOREIGN_ACADEMIC: PriceTier.ACADEMIC,
    OrganisationType.STARTUP: PriceTier.SME,
    OrganisationType.SME: PriceTier.SME,
    OrganisationType.LARGE_COMPANY: PriceTier.INDUSTRY,
    OrganisationType.FOREIGN_INDUSTRY: PriceTier.INDUSTRY,
    OrganisationType.INTERNAL: PriceTier.INTERNAL,
}

# Korean companies must give their business registration number.
KOREAN_COMPANY_TYPES = frozenset(
    {OrganisationType.STARTUP, OrganisationType.SME, OrganisationType.LARGE_COMPANY}
)


class OrganisationStatus(enum.StrEnum):
    """Vetting state of an organisation."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class UserStatus(enum.StrEnum):
    """Account state of a person."""

    UNVERIFIED = "unverified"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class UserKind(enum.StrEnum):
    """Partners come from outside; staff are IPK employees."""

    PARTNER = "partner"
    STAFF = "staff"


class Capability(enum.StrEnum):
    """Staff capabilities (an admin holds all of them)."""

    COORDINATOR = "coordinator"
    FACILITY_MANAGER = "facility_manager"
    BIOSAFETY_OFFICER = "biosafety_officer"
    ADMIN = "admin"


class Organisation(db.Model):
    """A company, university, institute or hospital whose people use the RRC."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    local_name: Mapped[Optional[str]] = mapped_column(sa.String(200))
    org_type: Mapped[OrganisationType] = mapped_column(
        enum_column(OrganisationType, "organisation_type")
    )
    country: Mapped[str] = mapped_column(sa.String(2))
    business_registration_no: Mapped[Optional[str]] = mapped_column(sa.String(20))
    billing_email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_column(OrganisationStatus, "organisation_status"),
        default=OrganisationStatus.PENDING,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", use_alter=True, ondelete="SET NULL")
    )
    rejection_reason: Mapped[Optional[str]] = mapped_column(sa.Text)

    members: Mapped[list["User"]] = relationship(
        back_populates="organisation", foreign_keys="User.organisation_id"
    )
    decided_by: Mapped[Optional["User"]] = relationship(foreign_keys=[decided_by_id])

    @property
    def tier(self) -> PriceTier:
        """The price tier this organisation's type puts it in."""
        return TIER_BY_ORGANISATION_TYPE[self.org_type]

    @property
    def is_verified(self) -> bool:
        """True once a coordinator has vetted the organisation."""
        return self.status == OrganisationStatus.VERIFIED

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.status}>"


def new_login_token() -> str:
    """A random token that identifies the current generation of a user's sessions."""
    return secrets.token_urlsafe(24)


class User(db.Model):
    """A partner or a staff member. Flask-Login identifies sessions by ``id:login_token``."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(40))
    position: Mapped[Optional[str]] = mapped_column(sa.String(120))
    kind: Mapped[UserKind] = mapped_column(
        enum_column(UserKind, "user_kind"), default=UserKind.PARTNER
    )
    organisation_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[UserStatus] = mapped_column(
        enum_column(UserStatus, "user_status"), default=UserStatus.UNVERIFIED, index=True
    )
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    is_facility_manager: Mapped[bool] = mapped_column(default=False)
    is_biosafety_officer: Mapped[bool] = mapped_column(default=False)
    is_org_manager: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(sa.String(5), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Seoul")
    login_token: Mapped[str] = mapped_column(sa.String(64), default=new_login_token)
    # Secret of the personal calendar feed URL; None until the user creates the link.
    calendar_token: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_verified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    rejection_reason: Mapped[Optional[str]] = mapped_column(sa.Text)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    organisation: Mapped[Optional[Organisation]] = relationship(
        back_populates="members", foreign_keys=[organisation_id]
    )
    decided_by: Mapped[Optional["User"]] = relationship(remote_side=[id])
    consents: Mapped[list["ConsentRecord"]] = relationship(
        back_populates="user", order_by="ConsentRecord.id", cascade="all, delete-orphan"
    )

    # Flask-Login protocol -------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        """Suspended and rejected accounts cannot log in; pending ones can, to see their status."""
        return self.status not in (UserStatus.SUSPENDED, UserStatus.REJECTED)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """Session identity; changes whenever the login token rotates, ending old sessions."""
        return f"{self.id}:{self.login_token}"

    # Roles ----------------------------------------------------------------
    @property
    def is_staff(self) -> bool:
        """IPK staff (including admins)."""
        return self.kind == UserKind.STAFF

    @property
    def is_partner(self) -> bool:
        """A person from an outside organisation."""
        return self.kind == UserKind.PARTNER

    @property
    def is_approved(self) -> bool:
        """True when the account is active: vetted partners and all working staff."""
        return self.status == UserStatus.ACTIVE

    def has_capability(self, capability: Capability) -> bool:
        """True if this user may act with ``capability`` (admins hold every capability)."""
        if not self.is_staff or not self.is_approved:
            return False
        if self.is_admin:
            return True
        return {
            Capability.COORDINATOR: self.is_coordinator,
            Capability.FACILITY_MANAGER: self.is_facility_manager,
            Capability.BIOSAFETY_OFFICER: self.is_biosafety_officer,
            Capability.ADMIN: self.is_admin,
        }[capability]

    @property
    def capabilities(self) -> list[Capability]:
        """The capabilities this user holds, in a stable order."""
        return [capability for capability in Capability if self.has_capability(capability)]

    def rotate_login_token(self) -> None:
        """End every existing session and remember-me cookie of this user."""
        self.login_token = new_login_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.kind} {self.status}>"


class ConsentItem(enum.StrEnum):
    """Separately consented groups of personal data (Korea's PIPA)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    CROSS_BORDER = "cross_border"


class ConsentRecord(db.Model):
    """What a person consented to (or refused), which text version, and when."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    item: Mapped[ConsentItem] = mapped_column(enum_column(ConsentItem, "consent_item"))
    text_version: Mapped[str] = mapped_column(sa.String(20))
    granted: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="consents")
