"""Public availability of slot resources: the week view (busy or free; who, to staff only)."""

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from rrc import dates
from rrc.bookings import availability
from rrc.catalogue.permissions import can_edit_resource
from rrc.catalogue.search import public_resource
from rrc.models import BookingMode

blueprint = Blueprint("bookings", __name__, url_prefix="/bookings")


def requested_week(value: str | None, fallback: date) -> date:
    """The Monday of the ``YYYY-MM-DD`` in ``value``, else of ``fallback``.

    A malformed date, or one outside :mod:`rrc.dates`' range, is a bad request (400).
    """
    if value:
        try:
            return availability.monday_of(dates.parse_day(value))
        except ValueError:
            abort(400)
    return availability.monday_of(fallback)


@blueprint.get("/<resource_code>/week")
def week(resource_code: str):
    """One week of a slot resource: free, held, booked, closed, outside hours or too soon."""
    resource = public_resource(resource_code)
    if resource is None or resource.booking_mode != BookingMode.SLOT:
        abort(404)
    start = requested_week(request.args.get("start"), availability.first_bookable_week(resource))
    grid = availability.week(resource, start, current_user)
    month_url = None
    if can_edit_resource(current_user, resource):
        # The month of the week's Thursday: the month most of the week belongs to.
        thursday = grid.start + timedelta(days=3)
        month_url = url_for(
            "booking_staff.month", code=resource.code, month=thursday.strftime("%Y-%m")
        )
    return render_template(
        "bookings/week.html",
        resource=resource,
        name=resource.localized("name", str(get_locale())),
        week=grid,
        staff_view=availability.sees_who(current_user),
        month_url=month_url,
    )
