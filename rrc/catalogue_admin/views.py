"""Staff management of the catalogue: facilities, resources, rates, photos, closures, CSV."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from rrc.auth.decorators import capability_required
from rrc.catalogue import photos
from rrc.catalogue.permissions import (
    can_import_catalogue,
    can_manage_facilities,
    can_use_catalogue_admin,
    editable_facility_condition,
)
from rrc.catalogue.search import upcoming_closures
from rrc.catalogue_admin import csv_io, forms, services
from rrc.catalogue_admin.services import FacilityData, RateData, ResourceData
from rrc.extensions import db
from rrc.forms import EmptyForm
from rrc.i18n import datetime_in_zone
from rrc.models import (
    BookingMode,
    Capability,
    Closure,
    Facility,
    PriceTier,
    Resource,
    ResourceKind,
    User,
)
from rrc.models.types import utcnow

blueprint = Blueprint("catalogue_admin", __name__, url_prefix="/staff/catalogue")

PER_PAGE = 50
CATALOGUE_STAFF = (Capability.COORDINATOR, Capability.FACILITY_MANAGER)
# How long ended closures stay listed on a facility's closure page.
PAST_CLOSURES_SHOWN = timedelta(days=30)


@blueprint.app_context_processor
def _navigation_helpers() -> dict:
    return {"can_use_catalogue_admin": can_use_catalogue_admin}


@blueprint.context_processor
def _page_helpers() -> dict:
    return {
        "in_zone": datetime_in_zone,
        "can_manage_facilities": can_manage_facilities,
        "can_import_catalogue": can_import_catalogue,
    }


def _attach_errors(form, errors: dict[str, str], *, only_clean: bool = False) -> None:
    """Show each service refusal beside its field, or at the top of the page; ``only_clean``
    adds messages only to fields that have none yet."""
    for name, message in errors.items():
        field = form._fields.get(name)
        if field is None:
            if not only_clean:
                flash(message, "danger")
        elif not (only_clean and field.errors):
            field.errors = [*field.errors, message]


def _show_rule_problems(form: forms.ResourceForm, resource, facilities) -> None:
    """After a failed form check, also name the business-rule problems of the other fields, so
    that one submission shows every message."""
    if not form.is_submitted() or form.csrf_token.errors:
        return
    data = _resource_data(form, resource, facilities)
    _attach_errors(form, services.resource_problems(data, resource), only_clean=True)


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


def _editable_facilities() -> list[Facility]:
    return list(
        db.session.scalars(
            select(Facility)
            .options(selectinload(Facility.managers))
            .where(editable_facility_condition(current_user))
            .order_by(Facility.code)
        )
    )


# --- overview ----------------------------------------------------------------------------------


@blueprint.get("/")
@capability_required(*CATALOGUE_STAFF)
def index():
    """The resources and facilities the viewer edits, filterable, with links to create more."""
    facilities = _editable_facilities()
    form = forms.ResourceFilterForm(request.args)
    form.set_facilities(facilities)
    statement = (
        select(Resource)
        .join(Resource.facility)
        .options(selectinload(Resource.facility))
        .where(editable_facility_condition(current_user))
    )
    status = forms.STATUS_ACTIVE
    if form.validate():
        status = form.status.data
        if form.q.data:
            escaped = form.q.data.lower().replace("\\", "\\\\").replace("%", "\\%")
            pattern = "%" + escaped.replace("_", "\\_") + "%"
            statement = statement.where(
                or_(
                    func.lower(Resource.code).like(pattern, escape="\\"),
                    func.lower(Resource.name).like(pattern, escape="\\"),
                    func.lower(Resource.name_ko).like(pattern, escape="\\"),
                )
            )
        if form.facility.data:
            statement = statement.where(Facility.code == form.facility.data)
    if status == forms.STATUS_ACTIVE:
        statement = statement.where(Resource.active.is_(True))
    elif status == forms.STATUS_RETIRED:
        statement = statement.where(Resource.active.is_(False))
    pagination = db.paginate(
        statement.order_by(Resource.code), page=_page(), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "catalogue_admin/index.html",
        form=form,
        pagination=pagination,
        facilities=facilities,
    )


# --- facilities --------------------------------------------------------------------------------


def _facility_form(facility: Facility | None) -> forms.FacilityForm:
    form = forms.FacilityForm()
    if facility is not None:
        del form.code
    form.managers.choices = [
        SelectChoice(user.id, f"{user.name} ({user.email})")
        for user in services.eligible_managers(facility)
    ]
    if request.method == "GET":
        data = FacilityData.from_facility(facility) if facility is not None else None
        if data is None:
            form.set_opening_hours({str(day): ["09:00", "18:00"] for day in range(1, 6)})
        else:
            for name in (
                "name",
                "name_ko",
                "description",
                "description_ko",
                "location",
                "biosafety_level",
                "timezone",
                "contact_email",
                "contact_phone",
            ):
                form[name].data = getattr(data, name)
            form.managers.data = [user.id for user in data.managers]
            form.set_opening_hours(data.opening_hours)
    return form


def _facility_data(form: forms.FacilityForm, facility: Facility | None) -> FacilityData:
    chosen = set(form.managers.data or [])
    managers = (
        list(db.session.scalars(select(User).where(User.id.in_(chosen)).order_by(User.name)))
        if chosen
        else []
    )
    return FacilityData(
        code=form.code.data if facility is None else facility.code,
        name=form.name.data,
        name_ko=form.name_ko.data,
        description=form.description.data or "",
        description_ko=form.description_ko.data,
        location=form.location.data or "",
        biosafety_level=form.biosafety_level.data,
        timezone=form.timezone.data,
        opening_hours=form.opening_hours(),
        contact_email=form.contact_email.data,
        contact_phone=form.contact_phone.data,
        managers=managers,
    )


@blueprint.route("/facilities/new", methods=["GET", "POST"])
@capability_required(Capability.COORDINATOR)
def new_facility():
    """Create a facility (coordinators and admins)."""
    form = _facility_form(None)
    if form.validate_on_submit():
        try:
            facility = services.create_facility(current_user, _facility_data(form, None))
            db.session.commit()
        except services.InvalidData as error:
            db.session.rollback()
            _attach_errors(form, error.errors)
        except IntegrityError:
            # Another coordinator saved the same code between our check and our write.
            db.session.rollback()
            _attach_errors(form, {"code": _("Another facility was just saved with this code.")})
        else:
            flash(_("Facility %(code)s is created.", code=facility.code), "success")
            return redirect(url_for("catalogue_admin.index"))
    return render_template("catalogue_admin/edit_facility.html", form=form, facility=None)


def _facility_or_404(facility_id: int) -> Facility:
    facility = db.session.scalar(
        select(Facility)
        .options(selectinload(Facility.managers))
        .where(Facility.id == facility_id, editable_facility_condition(current_user))
    )
    if facility is None:
        abort(404)
    return facility


@blueprint.route("/facilities/<int:facility_id>", methods=["GET", "POST"])
@capability_required(Capability.COORDINATOR)
def edit_facility(facility_id: int):
    """Change a facility's details and managers (coordinators and admins)."""
    facility = _facility_or_404(facility_id)
    form = _facility_form(facility)
    if form.validate_on_submit():
        try:
            changes = services.update_facility(
                current_user, facility, _facility_data(form, facility)
            )
        except services.InvalidData as error:
            db.session.rollback()
            _attach_errors(form, error.errors)
        else:
            db.session.commit()
            if changes:
                flash(_("Facility %(code)s is saved.", code=facility.code), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("catalogue_admin.edit_facility", facility_id=facility.id))
    return render_template(
        "catalogue_admin/edit_facility.html",
        form=form,
        facility=facility,
        state_form=EmptyForm(prefix="state"),
    )


@blueprint.post("/facilities/<int:facility_id>/retire")
@capability_required(Capability.COORDINATOR)
def retire_facility(facility_id: int):
    """Hide a facility and its resources from the public catalogue."""
    return _change_facility_state(
        facility_id, services.retire_facility, _l("Facility %(code)s is retired.")
    )


@blueprint.post("/facilities/<int:facility_id>/reactivate")
@capability_required(Capability.COORDINATOR)
def reactivate_facility(facility_id: int):
    """Show a retired facility again."""
    return _change_facility_state(
        facility_id, services.reactivate_facility, _l("Facility %(code)s is active again.")
    )


def _change_facility_state(facility_id: int, action, message):
    facility = _facility_or_404(facility_id)
    return _change_state(
        facility, action, message, url_for("catalogue_admin.edit_facility", facility_id=facility_id)
    )


def _change_state(target, action, message, back: str):
    """Retire or reactivate ``target`` with a bare confirmation form, then go ``back``."""
    if not EmptyForm(prefix="state").validate_on_submit():
        abort(400)
    try:
        action(current_user, target)
    except services.CatalogueError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(str(message) % {"code": target.code}, "success")
    return redirect(back)


# --- closures ----------------------------------------------------------------------------------


@blueprint.route("/facilities/<int:facility_id>/closures", methods=["GET", "POST"])
@capability_required(*CATALOGUE_STAFF)
def closures(facility_id: int):
    """A facility's closures (whole facility or one resource), and a form to add one."""
    facility = _facility_or_404(facility_id)
    resources = list(
        db.session.scalars(
            select(Resource).where(Resource.facility_id == facility.id).order_by(Resource.code)
        )
    )
    form = forms.ClosureForm()
    form.scope.choices = [
        SelectChoice("", _("The whole facility")),
        *(SelectChoice(str(item.id), f"{item.code} — {item.name}") for item in resources),
    ]
    if request.method == "GET" and request.args.get("resource"):
        form.scope.data = request.args["resource"]
    affected = []
    shown = ""
    # From the list of affected bookings: "back" shows the form again with the input kept.
    choice = request.form.get("on_bookings", "")
    if form.validate_on_submit() and choice != "back":
        resource = next((item for item in resources if str(item.id) == form.scope.data), None)
        try:
            services.create_closure(
                current_user,
                facility,
                resource=resource,
                starts_local=form.starts_at.data,
                ends_local=form.ends_at.data,
                reason=form.reason.data,
                on_bookings=choice or None,
                shown_bookings=request.form.get("shown_bookings", ""),
            )
        except services.ClosureOverBookings as over:
            db.session.rollback()
            affected, shown = over.bookings, over.shown
        except services.CatalogueError as error:
            db.session.rollback()
            _attach_errors(form, {error.field or "": error.message})
        else:
            db.session.commit()
            if choice == services.CANCEL_BOOKINGS:
                flash(
                    _("The closure is saved; its bookings are cancelled and the partners told."),
                    "success",
                )
            elif choice == services.KEEP_BOOKINGS:
                flash(_("The closure is saved; the bookings in it are kept."), "success")
            else:
                flash(_("The closure is saved."), "success")
            return redirect(url_for("catalogue_admin.closures", facility_id=facility.id))
    now = utcnow()
    return render_template(
        "catalogue_admin/closures.html",
        facility=facility,
        form=form,
        closures=services.facility_closures(facility, since=now - PAST_CLOSURES_SHOWN),
        now=now,
        delete_form=EmptyForm(prefix="delete"),
        affected=affected,
        shown_bookings=shown,
        scope_text=next(
            (option.label for option in form.scope.choices if option.value == form.scope.data), ""
        ),
    )


@blueprint.post("/closures/<int:closure_id>/delete")
@capability_required(*CATALOGUE_STAFF)
def delete_closure(closure_id: int):
    """Remove a closure that has not ended."""
    closure = db.session.scalar(
        select(Closure)
        .outerjoin(Resource, Closure.resource_id == Resource.id)
        .join(Facility, Facility.id == func.coalesce(Closure.facility_id, Resource.facility_id))
        .where(Closure.id == closure_id, editable_facility_condition(current_user))
    )
    if closure is None:
        abort(404)
    if not EmptyForm(prefix="delete").validate_on_submit():
        abort(400)
    facility_id = services.closure_facility(closure).id
    try:
        services.delete_closure(current_user, closure)
    except services.CatalogueError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("The closure is deleted."), "success")
    return redirect(url_for("catalogue_admin.closures", facility_id=facility_id))


# --- resources ---------------------------------------------------------------------------------

RESOURCE_FORM_FIELDS = (
    "name",
    "name_ko",
    "summary",
    "summary_ko",
    "description",
    "description_ko",
    "unit_label",
    "unit_label_ko",
    "unit_minutes",
    "slot_granularity_minutes",
    "min_duration_minutes",
    "max_duration_minutes",
    "min_notice_hours",
    "max_advance_days",
    "buffer_minutes",
    "cancellation_notice_hours",
    "lead_time_days",
    "availability_note",
    "training_requirement",
    "biosafety_level",
    "high_risk_pathogen",
    "human_specimen",
    "animal_work",
    "gmo",
)


def _resource_form(resource: Resource | None, facilities: list[Facility]) -> forms.ResourceForm:
    form = forms.ResourceForm()
    if resource is not None:
        del form.code
    form.facility.choices = forms.facility_choices(facilities)
    if request.method == "GET":
        if resource is not None:
            data = ResourceData.from_resource(resource)
        else:
            chosen = request.args.get("facility", type=int)
            data = ResourceData(
                facility=next((item for item in facilities if item.id == chosen), None)
            )
        for name in RESOURCE_FORM_FIELDS:
            form[name].data = getattr(data, name)
        form.facility.data = data.facility.id if data.facility else None
        form.kind.data = data.kind.value if data.kind else None
        form.booking_mode.data = data.booking_mode.value if data.booking_mode else None
        form.required_documents.data = [str(value) for value in data.required_documents]
        form.approval_chain.data = [str(value) for value in data.approval_chain]
        form.set_opening_hours(data.opening_hours)
        for tier, price, setup, quote in form.rate_fields():
            rate = data.rates.get(tier)
            if rate is not None:
                price.data, setup.data, quote.data = rate.unit_price, rate.setup_fee, rate.on_quote
    return form


def _resource_data(
    form: forms.ResourceForm, resource: Resource | None, facilities: list[Facility]
) -> ResourceData:
    data = ResourceData.from_resource(resource) if resource is not None else ResourceData()
    if resource is None:
        data.code = form.code.data
    for name in RESOURCE_FORM_FIELDS:
        setattr(data, name, form[name].data)
    data.facility = next((item for item in facilities if item.id == form.facility.data), None)
    data.kind = _member_or_none(ResourceKind, form.kind.data)
    data.booking_mode = _member_or_none(BookingMode, form.booking_mode.data)
    # Keep the stored order of documents that stay ticked; newly ticked ones follow.
    chosen = list(form.required_documents.data or [])
    kept = [str(value) for value in data.required_documents if str(value) in chosen]
    data.required_documents = kept + [value for value in chosen if value not in kept]
    data.approval_chain = list(form.approval_chain.data or [])
    hours = form.opening_hours()
    data.opening_hours = hours or None
    data.rates = {
        tier: RateData(price.data, setup.data, bool(quote.data))
        for tier, price, setup, quote in form.rate_fields()
    }
    return data


def _member_or_none(enum_class, value):
    try:
        return enum_class(value)
    except ValueError:
        return None


def _resource_or_404(resource_id: int) -> Resource:
    resource = db.session.scalar(
        select(Resource)
        .join(Resource.facility)
        .options(selectinload(Resource.rates), selectinload(Resource.facility))
        .where(Resource.id == resource_id, editable_facility_condition(current_user))
    )
    if resource is None:
        abort(404)
    return resource


@blueprint.route("/resources/new", methods=["GET", "POST"])
@capability_required(*CATALOGUE_STAFF)
def new_resource():
    """Create a resource in a facility the viewer edits."""
    facilities = _editable_facilities()
    if not facilities:
        flash(_("Create a facility first."), "warning")
        return redirect(url_for("catalogue_admin.index"))
    form = _resource_form(None, facilities)
    if form.validate_on_submit():
        try:
            resource = services.create_resource(
                current_user, _resource_data(form, None, facilities)
            )
            db.session.commit()
        except services.InvalidData as error:
            db.session.rollback()
            _attach_errors(form, error.errors)
        except services.NotAllowed:
            db.session.rollback()
            abort(403)
        except IntegrityError:
            # Another person saved the same code between our check and our write.
            db.session.rollback()
            _attach_errors(form, {"code": _("Another resource was just saved with this code.")})
        else:
            flash(_("Resource %(code)s is created.", code=resource.code), "success")
            return redirect(url_for("catalogue_admin.edit_resource", resource_id=resource.id))
    else:
        _show_rule_problems(form, None, facilities)
    return render_template(
        "catalogue_admin/edit_resource.html", form=form, resource=None, closures=[]
    )


@blueprint.route("/resources/<int:resource_id>", methods=["GET", "POST"])
@capability_required(*CATALOGUE_STAFF)
def edit_resource(resource_id: int):
    """Change every value of a resource and its rates."""
    resource = _resource_or_404(resource_id)
    facilities = _editable_facilities()
    form = _resource_form(resource, facilities)
    if form.validate_on_submit():
        try:
            changes = services.update_resource(
                current_user, resource, _resource_data(form, resource, facilities)
            )
        except services.InvalidData as error:
            db.session.rollback()
            _attach_errors(form, error.errors)
        except services.NotAllowed:
            db.session.rollback()
            abort(403)
        else:
            db.session.commit()
            if changes:
                flash(_("Resource %(code)s is saved.", code=resource.code), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("catalogue_admin.edit_resource", resource_id=resource.id))
    else:
        _show_rule_problems(form, resource, facilities)
    return render_template(
        "catalogue_admin/edit_resource.html",
        form=form,
        resource=resource,
        state_form=EmptyForm(prefix="state"),
        closures=upcoming_closures(resource),
    )


@blueprint.post("/resources/<int:resource_id>/retire")
@capability_required(*CATALOGUE_STAFF)
def retire_resource(resource_id: int):
    """Hide a resource from the public catalogue (its history stays)."""
    return _change_resource_state(
        resource_id, services.retire_resource, _l("Resource %(code)s is retired.")
    )


@blueprint.post("/resources/<int:resource_id>/reactivate")
@capability_required(*CATALOGUE_STAFF)
def reactivate_resource(resource_id: int):
    """Show a retired resource again."""
    return _change_resource_state(
        resource_id, services.reactivate_resource, _l("Resource %(code)s is active again.")
    )


def _change_resource_state(resource_id: int, action, message):
    resource = _resource_or_404(resource_id)
    return _change_state(
        resource, action, message, url_for("catalogue_admin.edit_resource", resource_id=resource_id)
    )


# --- photos ------------------------------------------------------------------------------------


@blueprint.route("/resources/<int:resource_id>/photo", methods=["GET", "POST"])
@capability_required(*CATALOGUE_STAFF)
def photo(resource_id: int):
    """Upload or replace a resource's photo."""
    resource = _resource_or_404(resource_id)
    form = forms.PhotoForm()
    if form.validate_on_submit():
        try:
            old = services.replace_photo(current_user, resource, form.photo.data.read())
        except services.CatalogueError as error:
            db.session.rollback()
            _attach_errors(form, {error.field or "": error.message})
        else:
            db.session.commit()
            photos.delete_photo(old)
            flash(_("The photo of %(code)s is saved.", code=resource.code), "success")
            return redirect(url_for("catalogue_admin.edit_resource", resource_id=resource.id))
    return render_template(
        "catalogue_admin/photo.html",
        form=form,
        resource=resource,
        remove_form=EmptyForm(prefix="remove"),
    )


@blueprint.post("/resources/<int:resource_id>/photo/remove")
@capability_required(*CATALOGUE_STAFF)
def remove_photo(resource_id: int):
    """Take a resource's photo away."""
    resource = _resource_or_404(resource_id)
    if not EmptyForm(prefix="remove").validate_on_submit():
        abort(400)
    try:
        old = services.remove_photo(current_user, resource)
    except services.CatalogueError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        photos.delete_photo(old)
        flash(_("The photo is removed."), "success")
    return redirect(url_for("catalogue_admin.edit_resource", resource_id=resource.id))


@blueprint.get("/resources/<int:resource_id>/photo/file")
@capability_required(*CATALOGUE_STAFF)
def photo_file(resource_id: int):
    """The stored photo of a resource (for the staff preview)."""
    resource = _resource_or_404(resource_id)
    if not resource.photo_filename:
        abort(404)
    try:
        path = photos.photo_file(resource.photo_filename)
        if not path.is_file():
            raise FileNotFoundError(path)
    except FileNotFoundError:
        abort(404)
    mimetype = "image/png" if path.suffix == ".png" else "image/jpeg"
    return send_file(path, mimetype=mimetype, max_age=0)


# --- CSV ---------------------------------------------------------------------------------------


@blueprint.get("/export.csv")
@capability_required(*CATALOGUE_STAFF)
def export_csv():
    """Every resource the viewer edits, with its rates, as a CSV download."""
    body = csv_io.export_resources(current_user)
    filename = f"rrc-resources-{utcnow():%Y%m%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blueprint.route("/import", methods=["GET", "POST"])
@capability_required(Capability.COORDINATOR)
def import_csv():
    """Create or update resources from a CSV file: every row is applied, or none."""
    form = forms.ImportForm()
    problems = None
    if form.validate_on_submit():
        try:
            result = csv_io.import_resources(
                current_user, form.csv_file.data.read(csv_io.MAX_BYTES + 1)
            )
            db.session.commit()
        except csv_io.ImportRejected as error:
            db.session.rollback()
            problems = error.problems
        except IntegrityError:
            # Someone saved a resource with one of the file's codes while it was imported.
            db.session.rollback()
            problems = [
                csv_io.RowProblem(
                    0, "", _("Another change was saved at the same time. Upload the file again.")
                )
            ]
        else:
            flash(
                _(
                    "Import done: %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged.",
                    created=len(result.created),
                    updated=len(result.updated),
                    unchanged=len(result.unchanged),
                ),
                "success",
            )
            return redirect(url_for("catalogue_admin.index", status=forms.STATUS_ALL))
    return render_template(
        "catalogue_admin/import_csv.html",
        form=form,
        problems=problems,
        columns=csv_io.COLUMNS,
        tiers=list(PriceTier),
    )
