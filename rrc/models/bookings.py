"""Bookings of slot resources: half-open time intervals that must never overlap while active."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.catalogue import Resource
from rrc.models.requests import ResourceRequest
from rrc.models.types import UTCDateTime, enum_column, utcnow


class BookingStatus(enum.StrEnum):
    """Held at submission, confirmed on approval, then closed one way or another."""

    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RELEASED = "released"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.CONFIRMED)


class Booking(db.Model):
    """Time ``[starts_at, ends_at)`` of one resource for one request (UTC)."""

    __tablename__ = "booking"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_booking_resource_period", "resource_id", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resource.id", ondelete="RESTRICT"))
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_request.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, "booking_status"), default=BookingStatus.HELD
    )
    # Calendar clients replace an event with the same UID and a higher SEQUENCE.
    sequence: Mapped[int] = mapped_column(default=0)
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    reminded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    resource: Mapped[Resource] = relationship()
    resource_request: Mapped[ResourceRequest] = relationship()

    @property
    def is_active(self) -> bool:
        """Held and confirmed bookings block their time."""
        return self.status in ACTIVE_STATUSES

    def __repr__(self) -> str:
        return (
            f"<Booking {self.id} {self.resource_id} {self.starts_at}-{self.ends_at} {self.status}>"
        )


# PostgreSQL's last guard against double booking: no two active bookings of a resource overlap.
# Created with the table (tests build the schema with create_all) and by the migration.
EXCLUSION_CONSTRAINT = "ex_booking_no_overlap"
POSTGRES_EXCLUSION_DDL = (
    f"ALTER TABLE booking ADD CONSTRAINT {EXCLUSION_CONSTRAINT} EXCLUDE USING gist "
    "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status IN ('held', 'confirmed'))"
)
sa.event.listen(
    Booking.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
sa.event.listen(
    Booking.__table__,
    "after_create",
    sa.DDL(POSTGRES_EXCLUSION_DDL).execute_if(dialect="postgresql"),
)
