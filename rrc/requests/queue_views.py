"""Staff queues of requests: what waits for my decision, and every request with filters."""

from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from rrc.auth.decorators import staff_required
from rrc.extensions import db
from rrc.forms import blank_choice, within_calendar
from rrc.labels import label
from rrc.models import Facility, RequestStatus
from rrc.models.types import utcnow
from rrc.requests import queries

blueprint = Blueprint("queue", __name__, url_prefix="/staff/requests")

PER_PAGE = 50


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def waited(since: datetime | None, now: datetime) -> str:
    """How long since ``since``, in days and hours ("2 days 5 hours", "3 hours")."""
    if since is None:
        return ""
    elapsed = max(now - since, timedelta(0))
    days, hours = elapsed.days, elapsed.seconds // 3600
    days_text = ngettext("%(num)d day", "%(num)d days", days)
    hours_text = ngettext("%(num)d hour", "%(num)d hours", hours)
    if days and hours:
        return _("%(days)s %(hours)s", days=days_text, hours=hours_text)
    if days:
        return days_text
    if hours:
        return hours_text
    return _("less than an hour")


@blueprint.get("/waiting")
@staff_required
def waiting():
    """Requests whose current approval step I may decide, longest waiting first."""
    pagination = db.paginate(
        queries.waiting_for(current_user), page=_page(), per_page=PER_PAGE, error_out=False
    )
    now = utcnow()
    overdue_after = timedelta(days=current_app.config["REMIND_AFTER_DAYS"])
    rows = [
        {
            "step": step,
            "resource_request": step.resource_request,
            "waited": waited(step.pending_since, now),
            "overdue": step.pending_since is not None and now - step.pending_since >= overdue_after,
        }
        for step in pagination.items
    ]
    return render_template(
        "queue/waiting.html",
        pagination=pagination,
        rows=rows,
        remind_after_days=current_app.config["REMIND_AFTER_DAYS"],
    )


class RequestFilterForm(FlaskForm):
    """Filters and sorting of the all-requests list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Reference, title or purpose"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), default="")
    facility = SelectField(_l("Facility"), default="")
    # Typed, not chosen from a list: after ten years there are thousands of resources and
    # organisations, too many to send with every page. A number still means an id.
    resource = StringField(_l("Resource"), validators=[Optional(), Length(max=100)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=100)])
    requester = StringField(
        _l("Requester (name or e-mail)"), validators=[Optional(), Length(max=100)]
    )
    submitted_from = DateField(_l("Submitted from"), validators=[Optional(), within_calendar])
    submitted_to = DateField(_l("Submitted until"), validators=[Optional(), within_calendar])
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("submitted", _l("Submitted")),
            SelectChoice("updated", _l("Last updated")),
            SelectChoice("reference", _l("Reference")),
            SelectChoice("status", _l("Status")),
        ],
        default="submitted",
    )
    order = SelectField(
        _l("Order"),
        choices=[
            SelectChoice("desc", _l("Newest or last first")),
            SelectChoice("asc", _l("Oldest or first first")),
        ],
        default="desc",
    )

    def __init__(self, formdata, facilities: list[Facility]):
        super().__init__(formdata)
        locale = str(get_locale())
        self.status.choices = [
            blank_choice(_("All except drafts")),
            *(SelectChoice(status.value, label(status)) for status in RequestStatus),
        ]
        self.facility.choices = [
            blank_choice(_("All")),
            *(
                SelectChoice(
                    str(facility.id),
                    facility.name_ko if locale == "ko" and facility.name_ko else facility.name,
                )
                for facility in facilities
            ),
        ]

    def validate_submitted_to(self, field) -> None:
        """The end of the range may not come before its start."""
        if field.data and self.submitted_from.data and field.data < self.submitted_from.data:
            raise ValidationError(_("The end date comes before the start date."))

    def filters(self) -> queries.RequestFilters:
        """The validated filters, for the query."""
        return queries.RequestFilters(
            status=RequestStatus(self.status.data) if self.status.data else None,
            facility_id=int(self.facility.data) if self.facility.data else None,
            resource=self.resource.data or "",
            organisation=self.organisation.data or "",
            requester=self.requester.data or "",
            text=self.q.data or "",
            submitted_from=self.submitted_from.data,
            submitted_to=self.submitted_to.data,
            sort=self.sort.data if self.sort.data in queries.SORT_KEYS else "submitted",
            descending=self.order.data != "asc",
            zone=str(get_timezone()),
        )


@blueprint.get("/", endpoint="all")
@staff_required
def all_requests():
    """Every request (drafts only on request), filtered, sorted and paginated."""
    form = RequestFilterForm(request.args, queries.filter_facilities())
    statement = queries.filtered_requests(form.filters()) if form.validate() else None
    pagination = db.paginate(
        statement if statement is not None else queries.no_requests(),
        page=_page(),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("queue/all.html", form=form, pagination=pagination)
