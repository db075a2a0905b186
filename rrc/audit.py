"""Writing to the audit log."""

from flask import has_request_context, request

from rrc.extensions import db
from rrc.models import AuditLog, User


def record(
    actor: User | None,
    action: str,
    *,
    target: object | None = None,
    detail: str = "",
) -> AuditLog:
    """Add one audit entry in the current transaction (the caller commits)."""
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None),
        ip_address=request.remote_addr if has_request_context() else None,
        detail=detail[:2000],
    )
    db.session.add(entry)
    return entry
