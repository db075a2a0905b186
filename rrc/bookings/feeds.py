"""Calendar feeds: the personal secret-URL feed, staff resource feeds, a request's .ics file."""

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc.auth.decorators import staff_required
from rrc.bookings import calendar
from rrc.extensions import db
from rrc.forms import EmptyForm
from rrc.models import Resource
from rrc.requests.views import load_visible

blueprint = Blueprint("feeds", __name__, url_prefix="/calendar")

LINK_FORM_PREFIX = "calendar"


def _ics(body: bytes, filename: str, *, attachment: bool = False) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Feeds carry personal data: never kept by shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.app_context_processor
def _calendar_link_helpers() -> dict:
    def calendar_link_form() -> EmptyForm:
        """The CSRF-only form of the create/regenerate buttons on the profile page."""
        return EmptyForm(prefix=LINK_FORM_PREFIX)

    return {
        "calendar_link_form": calendar_link_form,
        "personal_feed_url": calendar.personal_feed_url,
        "resource_feed_url": calendar.resource_feed_url,
    }


@blueprint.get("/<token>.ics")
def personal(token: str):
    """The personal feed: no login (the URL is the secret); a wrong token is 404."""
    user = calendar.user_by_calendar_token(token)
    if user is None:
        abort(404)
    return _ics(calendar.personal_calendar(user), "rrc-bookings.ics")


def _resource_or_404(code: str) -> Resource:
    found = db.session.scalar(
        select(Resource).options(selectinload(Resource.facility)).where(Resource.code == code)
    )
    if found is None:
        abort(404)
    return found


@blueprint.get("/<token>/resources/<code>.ics")
def resource_subscription(token: str, code: str):
    """A resource's staff feed at a secret URL (no login, for calendar applications).

    The token is the staff member's personal calendar token: regenerating the personal link
    revokes this URL too. A wrong token, a partner's token, or a staff member who may not
    follow the resource all get 404.
    """
    user = calendar.user_by_calendar_token(token)
    if user is None:
        abort(404)
    found = _resource_or_404(code)
    if not calendar.can_follow_resource(user, found):
        abort(404)
    return _ics(calendar.resource_calendar(found), f"{found.code}.ics")


@blueprint.get("/resource/<code>.ics")
@staff_required
def resource(code: str):
    """All active bookings of one resource, for any active staff member who is logged in."""
    found = _resource_or_404(code)
    if not calendar.can_follow_resource(current_user, found):
        abort(404)
    return _ics(calendar.resource_calendar(found), f"{found.code}.ics")


@blueprint.get("/request/<reference>.ics")
@login_required
def request_sessions(reference: str):
    """The confirmed sessions of a request the user may view, as a file to import."""
    resource_request = load_visible(reference)
    return _ics(
        calendar.request_calendar(resource_request, current_user),
        f"{resource_request.reference}.ics",
        attachment=True,
    )


def _change_link(created_message: str):
    form = EmptyForm(prefix=LINK_FORM_PREFIX)
    if not form.validate_on_submit():
        abort(400)
    calendar.create_calendar_link(current_user)
    db.session.commit()
    flash(created_message, "success")
    return redirect(url_for("account.profile", _anchor="calendar"))


@blueprint.post("/link")
@login_required
def create_link():
    """Create the personal feed link (a user who already has one gets it replaced)."""
    return _change_link(_("Your calendar link is ready. Add it to your calendar application."))


@blueprint.post("/link/regenerate")
@login_required
def regenerate_link():
    """Replace the personal feed link: the old URL stops working at once."""
    return _change_link(
        _("Your calendar link was replaced. The old link no longer works; subscribe again.")
    )
