"""The audit log: who did what to which account or setting, and from where."""

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rrc.extensions import db
from rrc.models.accounts import User
from rrc.models.types import UTCDateTime, utcnow


class AuditLog(db.Model):
    """One security-relevant event. Kept at least a year (PIPA access-log rule)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[Optional[str]] = mapped_column(sa.String(32))
    target_id: Mapped[Optional[int]]
    ip_address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    detail: Mapped[str] = mapped_column(sa.Text, default="")

    actor: Mapped[Optional[User]] = relationship()
