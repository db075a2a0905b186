"""Staff booking pages: a resource's month overview; move a booking, close it as completed or
no-show."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import DateTimeLocalField
from wtforms.validators import InputRequired

from rrc.auth.decorators import capability_required
from rrc.bookings import month as months
from rrc.bookings import services as bookings
from rrc.bookings import staff
from rrc.catalogue.permissions import editable_facility_condition
from rrc.extensions import db
from rrc.forms import EmptyForm, within_calendar
from rrc.i18n import datetime_in_zone
from rrc.labels import label
from rrc.models import (
    Booking,
    BookingMode,
    BookingStatus,
    Capability,
    Facility,
    Resource,
    ResourceRequest,
)
from rrc.requests.forms import add_error

blueprint = Blueprint("booking_staff", __name__, url_prefix="/staff/bookings")

BOOKING_STAFF = (Capability.COORDINATOR, Capability.FACILITY_MANAGER)
# Belongs in rrc.labels once booking statuses are labelled there.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MoveForm(FlaskForm):
    """A new start and end, as wall-clock times in the facility's zone."""

    starts_at = DateTimeLocalField(
        _l("New start"), validators=[InputRequired(), within_calendar], format=LOCAL_FORMATS
    )
    ends_at = DateTimeLocalField(
        _l("New end"), validators=[InputRequired(), within_calendar], format=LOCAL_FORMATS
    )


@blueprint.app_context_processor
def _booking_helpers() -> dict:
    return {
        "booking_operations": _operations_for_viewer,
        "booking_time": _booking_time,
        "booking_status": _status_label,
    }


def _status_label(status: BookingStatus) -> str:
    return label(status)


def _operations_for_viewer(booking: Booking) -> set[str]:
    return staff.operations(current_user, booking)


def _booking_time(booking: Booking, moment: datetime | None = None) -> str:
    """A booking's time (or ``moment``) in its facility's zone, short style."""
    zone = booking.resource.facility.timezone or "Asia/Seoul"
    return datetime_in_zone(moment or booking.starts_at, zone, "short")


def _booking_or_404(booking_id: int) -> Booking:
    """The booking if the current user runs its facility's schedule, else 404."""
    booking = db.session.scalar(
        select(Booking)
        .join(Resource, Booking.resource_id == Resource.id)
        .join(Facility, Resource.facility_id == Facility.id)
        .options(
            selectinload(Booking.resource).selectinload(Resource.facility),
            selectinload(Booking.resource_request).selectinload(ResourceRequest.organisation),
        )
        .where(Booking.id == booking_id, editable_facility_condition(current_user))
    )
    if booking is None or not staff.can_operate(current_user, booking):
        abort(404)
    return booking


def _managed_resource_or_404(code: str) -> Resource:
    """A slot resource of a facility whose schedule the current user runs, else 404."""
    resource = db.session.scalar(
        select(Resource)
        .join(Facility, Resource.facility_id == Facility.id)
        .options(selectinload(Resource.facility))
        .where(Resource.code == code, editable_facility_condition(current_user))
    )
    if resource is None or resource.booking_mode != BookingMode.SLOT:
        abort(404)
    return resource


@blueprint.get("/resources/<code>/month")
@capability_required(*BOOKING_STAFF)
def month(code: str):
    """A month of one resource: each day's bookings (with their requests) and closures."""
    resource = _managed_resource_or_404(code)
    value = request.args.get("month", "")
    if value:
        try:
            first = months.parse_month(value)
        except ValueError:
            abort(400)
    else:
        first = months.current_month(resource)
    overview = months.month(resource, first)
    return render_template(
        "bookings_staff/month.html",
        resource=resource,
        name=resource.localized("name", str(get_locale())),
        month=overview,
        weekday_names=months.weekday_names(),
        month_label=months.month_label,
        week_label=_week_label,
        public=resource.active and resource.facility.active,
        month_range=(f"{months.FIRST_MONTH:%Y-%m}", f"{months.LAST_MONTH:%Y-%m}"),
    )


def _week_label(monday) -> str:
    return _("Week of %(day)s", day=months.short_day_label(monday))


def _request_url(booking: Booking) -> str:
    return url_for("requests.detail", reference=booking.resource_request.reference)


def _local_value(booking: Booking, moment: datetime) -> datetime:
    return moment.astimezone(bookings.zone_of(booking.resource)).replace(tzinfo=None)


@blueprint.route("/<int:booking_id>/move", methods=["GET", "POST"])
@capability_required(*BOOKING_STAFF)
def move(booking_id: int):
    """Move an active booking to another time (the same checks as a new booking)."""
    booking = _booking_or_404(booking_id)
    form = MoveForm()
    if not form.is_submitted():
        form.starts_at.data = _local_value(booking, booking.starts_at)
        form.ends_at.data = _local_value(booking, booking.ends_at)
    suggestions = []
    if form.validate_on_submit():
        try:
            staff.move_booking(current_user, booking, form.starts_at.data, form.ends_at.data)
        except bookings.SlotConflict as conflict:
            db.session.rollback()
            add_error(form.starts_at, conflict.message)
            # The booking's own time counts as free for the search; offering it is no move.
            here = (booking.starts_at, booking.ends_at)
            suggestions = [slot for slot in conflict.suggestions if slot != here]
        except bookings.BookingError as error:
            db.session.rollback()
            add_error(form.ends_at if error.rule == "ends_at" else form.starts_at, error.message)
        else:
            db.session.commit()
            flash(_("The booking is moved and the partner is told."), "success")
            return redirect(_request_url(booking))
    return render_template(
        "bookings_staff/move.html",
        booking=booking,
        form=form,
        suggestions=[
            (_local_value(booking, start), _local_value(booking, end)) for start, end in suggestions
        ],
    )


def _close(booking_id: int, status: BookingStatus, message: str):
    booking = _booking_or_404(booking_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        staff.close_booking(current_user, booking, status)
    except bookings.BookingError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(_request_url(booking))


@blueprint.post("/<int:booking_id>/complete")
@capability_required(*BOOKING_STAFF)
def complete(booking_id: int):
    """Mark a confirmed booking that has ended as completed."""
    return _close(booking_id, BookingStatus.COMPLETED, _("The session is marked completed."))


@blueprint.post("/<int:booking_id>/no-show")
@capability_required(*BOOKING_STAFF)
def no_show(booking_id: int):
    """Mark a confirmed booking that has ended as a no-show."""
    return _close(booking_id, BookingStatus.NO_SHOW, _("The session is marked as a no-show."))
