"""The mail outbox: every e-mail is a row written with the change that causes it."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.accounts import User
from rrc.models.types import UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    """Delivery state of one message."""

    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    CAPTURED = "captured"
    DEAD = "dead"


DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.RETRYING)


class OutboxMessage(db.Model):
    """One e-mail to one recipient, sent by the relay at most once."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    template: Mapped[str] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(5))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)
    # Files sent with the message: [{"filename", "content_type", "content" (base64)}].
    attachments: Mapped[list] = mapped_column(sa.JSON, default=list)

    user: Mapped[Optional[User]] = relationship()

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID, derived from the idempotency key so a resend is recognisable."""
        import hashlib

        digest = hashlib.sha256(self.idempotency_key.encode()).hexdigest()[:32]
        return f"<{digest}@rrc.ip-korea.org>"
