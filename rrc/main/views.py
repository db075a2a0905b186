"""Home, language switch and the health check."""

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import func, select

from rrc.extensions import db, limiter
from rrc.forms import EmptyForm
from rrc.models import (
    Capability,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    User,
    UserKind,
    UserStatus,
)
from rrc.security import safe_next

blueprint = Blueprint("main", __name__)


@blueprint.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness for load balancers and benchmarks: touches neither database nor session."""
    return current_app.response_class("ok\n", mimetype="text/plain")


@blueprint.get("/favicon.ico")
@limiter.exempt
def favicon():
    """Browsers and feed readers ask for this path whatever the page says."""
    icon = Path(current_app.static_folder) / "favicon.svg"
    response = current_app.response_class(icon.read_bytes(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.get("/")
def home():
    """The landing page for visitors; the right dashboard for everyone else."""
    if not current_user.is_authenticated:
        return render_template("main/home.html")
    if current_user.is_staff:
        return render_template("main/staff_home.html", counts=_staff_counts())
    from sqlalchemy.orm import selectinload

    from rrc.models import ResourceRequest
    from rrc.models.requests import OPEN_STATUSES

    # One query for the requests plus one per eager-loaded relation, however many there are.
    open_requests = db.session.scalars(
        select(ResourceRequest)
        .options(selectinload(ResourceRequest.resource), selectinload(ResourceRequest.steps))
        .where(
            ResourceRequest.requester_id == current_user.id,
            ResourceRequest.status.in_(OPEN_STATUSES),
        )
        .order_by(ResourceRequest.updated_at.desc(), ResourceRequest.id.desc())
        .limit(20)
    ).all()
    return render_template("main/partner_home.html", open_requests=open_requests)


def _staff_counts() -> dict[str, int]:
    from rrc.models import RequestStatus
    from rrc.requests.queries import count_by_status, count_waiting_for

    counts: dict[str, int] = {"waiting_for_me": count_waiting_for(current_user)}
    by_status = count_by_status(
        [RequestStatus.IN_REVIEW, RequestStatus.APPROVED, RequestStatus.IN_PROGRESS]
    )
    counts["in_review"] = by_status[RequestStatus.IN_REVIEW]
    counts["approved"] = by_status[RequestStatus.APPROVED]
    counts["in_progress"] = by_status[RequestStatus.IN_PROGRESS]
    if current_user.has_capability(Capability.COORDINATOR):
        counts["pending_users"] = db.session.scalar(
            select(func.count(User.id)).where(
                User.kind == UserKind.PARTNER, User.status == UserStatus.PENDING_APPROVAL
            )
        )
        counts["pending_organisations"] = db.session.scalar(
            select(func.count(Organisation.id)).where(
                Organisation.status == OrganisationStatus.PENDING
            )
        )
    if current_user.has_capability(Capability.ADMIN):
        counts["failed_mail"] = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_([OutboxStatus.DEAD, OutboxStatus.RETRYING])
            )
        )
    return counts


@blueprint.post("/language")
def set_language():
    """Switch the interface language (saved on the account when logged in)."""
    form = EmptyForm()
    language = request.form.get("language", "")
    if not form.validate_on_submit() or language not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = language
    if current_user.is_authenticated:
        current_user.locale = language
        db.session.commit()
    return redirect(safe_next(request.form.get("next")))
