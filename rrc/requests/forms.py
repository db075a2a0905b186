"""Forms of the request pages: the request form built per resource, documents, and actions."""

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from rrc.forms import blank_choice, country_choices, within_calendar
from rrc.labels import choices, label
from rrc.models import (
    DocumentType,
    Resource,
    ResourceRequest,
    UsageMode,
    User,
)
from rrc.requests import requirements


def request_label(value) -> str:
    """The translated label of a request status, step state or usage mode."""
    return label(value)


# Every field a partner answers, by block, in the order the form and the request page show them.
BLOCK_FIELDS: dict[str, tuple[str, ...]] = {
    "common": ("title", "purpose", "principal_investigator"),
    "billing": ("payer", "billing_contact", "billing_email", "po_number", "proprietary"),
    "quantity": ("quantity",),
    "slot": ("requested_minutes", "preferred_dates", "usage_mode"),
    "biosafety": (
        "agent_name",
        "risk_group",
        "high_risk_pathogen",
        "gmo",
        "ibc_approval_number",
        "ibc_approval_date",
        "training_evidence",
    ),
    "irb": ("irb_approval_number", "use_plan"),
    "iacuc": ("iacuc_protocol_number", "species", "animal_count"),
    "material": (
        "material_form",
        "shipping_address",
        "shipping_country",
        "receiving_person",
        "receiving_phone",
        "accept_mta",
    ),
    "service": ("samples_description", "plate_format", "desired_timeline", "deliverables"),
}
BLOCK_TITLES = {
    "common": _l("The project"),
    "billing": _l("Billing"),
    "quantity": _l("Amount"),
    "slot": _l("Instrument or space time"),
    "biosafety": _l("Biosafety"),
    "irb": _l("Human specimens (IRB)"),
    "iacuc": _l("Animal work (IACUC)"),
    "material": _l("Material and shipping"),
    "service": _l("Service"),
}
ACCEPTANCES = ("accept_terms", "accept_mta")


def applicable_blocks(resource: Resource) -> list[str]:
    """The blocks of ``BLOCK_FIELDS`` that apply to ``resource``, in display order."""
    applies = requirements.blocks(resource) | {"billing"}
    return [block for block in BLOCK_FIELDS if block in applies]


def applicable_fields(resource: Resource) -> list[str]:
    """Names of the answer fields a request for ``resource`` carries."""
    names = [name for block in applicable_blocks(resource) for name in BLOCK_FIELDS[block]]
    if not resource.training_requirement:
        names = [name for name in names if name != "training_evidence"]
    return names


def duration_text(minutes: int | None) -> str:
    """A duration written for people: "1 h 30 min"."""
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)d h", hours=hours)
    return _("%(minutes)d min", minutes=rest)


def duration_choices(resource: Resource, current: int | None = None) -> list[SelectChoice]:
    """The lengths a session of ``resource`` may have, by its booking rules."""
    step = max(resource.slot_granularity_minutes or 30, 5)
    low = max(resource.min_duration_minutes or step, 1)
    high = max(resource.max_duration_minutes or low, low)
    values = list(range(low, high + 1, step))
    if current and current not in values:
        values = sorted({*values, current})  # keep a saved value the rules no longer offer
    return [blank_choice(), *(SelectChoice(value, duration_text(value)) for value in values)]


def _optional_int(value) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _optional_usage_mode(value) -> UsageMode | None:
    if value is None or value == "":
        return None
    return UsageMode(value)


class CellListField(Field):
    """Every value posted under the field's name: the ticked cells of the slot picker."""

    def process_data(self, value) -> None:
        """Stored sessions are shown by the picker itself; only posted cells are kept here."""
        self.data = [item for item in value or [] if isinstance(item, str)]

    def process_formdata(self, valuelist) -> None:
        """Keep every ticked cell (each a UTC start in ISO form)."""
        self.data = [value for value in valuelist if value]


class NotRequiredInBrowser:
    """Wraps a widget so that it never renders the HTML ``required`` attribute."""

    def __init__(self, widget):
        self.widget = widget

    def __call__(self, field: Field, **kwargs) -> str:
        """Render with the wrapped widget, ``required`` left off."""
        kwargs["required"] = False
        return self.widget(field, **kwargs)


# The slot picker's fields: ticked cells, sessions of other weeks a new request carries (it has no
# draft to keep them in), the week shown, and its buttons.
PICKER_FIELDS = (
    "requested_slots",
    "kept_sessions",
    "week",
    "show_week",
    "remove_session",
    "pick_suggestion",
)
# The free-text time request, the fallback when no session is picked.
SLOT_FALLBACK = ("requested_minutes", "preferred_dates")


class RequestForm(FlaskForm):
    """The request form; ``__init__`` keeps only the blocks that apply to the resource."""

    title = StringField(_l("Project title"), validators=[Optional(), Length(max=200)])
    purpose = TextAreaField(
        _l("Purpose and research summary"),
        validators=[Optional(), Length(max=10000)],
        description=_l("What you want to do and why, in a few sentences."),
    )
    principal_investigator = StringField(
        _l("Principal investigator"), validators=[Optional(), Length(max=120)]
    )
    payer = StringField(
        _l("Payer (organisation that pays)"), validators=[Optional(), Length(max=200)]
    )
    billing_contact = StringField(_l("Billing contact"), validators=[Optional(), Length(max=120)])
    billing_email = StringField(
        _l("Billing and tax-invoice e-mail"),
        validators=[
            Optional(),
            Length(max=254),
            Email(check_deliverability=False, message=_l("Enter a valid e-mail address.")),
        ],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    po_number = StringField(
        _l("Purchase-order or R&D project number"), validators=[Optional(), Length(max=80)]
    )
    proprietary = BooleanField(
        _l("Proprietary or confidential work"),
        description=_l("Proprietary work pays full cost; results may be kept confidential."),
    )
    quantity = IntegerField(
        _l("Quantity"),
        validators=[
            Optional(),
            NumberRange(min=1, message=_l("Enter a whole number of at least 1.")),
        ],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    requested_minutes = SelectField(
        _l("Requested time"), coerce=_optional_int, validators=[Optional()]
    )
    preferred_dates = StringField(
        _l("Preferred dates"),
        validators=[Optional(), Length(max=300)],
        description=_l(
            "For example: any Tuesday morning in June. The facility agrees the dates with you."
        ),
    )
    usage_mode = SelectField(
        _l("Usage mode"),
        coerce=_optional_usage_mode,
        choices=[
            blank_choice(),
            *choices(UsageMode),
        ],
        validators=[Optional()],
    )
    agent_name = StringField(_l("Agent and strain"), validators=[Optional(), Length(max=200)])
    risk_group = SelectField(
        _l("Risk group"),
        coerce=_optional_int,
        choices=[blank_choice(), *(SelectChoice(group, str(group)) for group in range(1, 5))],
        validators=[Optional()],
    )
    high_risk_pathogen = BooleanField(_l("The agent is a high-risk pathogen"))
    gmo = BooleanField(_l("The work involves a genetically modified organism (GMO/LMO)"))
    ibc_approval_number = StringField(
        _l("IBC approval number"),
        validators=[Optional(), Length(max=80)],
        description=_l("From your institutional biosafety committee."),
    )
    ibc_approval_date = DateField(
        _l("IBC approval date"),
        validators=[Optional(), within_calendar],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )
    training_evidence = TextAreaField(
        _l("Training evidence"), validators=[Optional(), Length(max=5000)]
    )
    irb_approval_number = StringField(
        _l("IRB approval number of the recipient"), validators=[Optional(), Length(max=80)]
    )
    use_plan = TextAreaField(
        _l("Use plan"),
        validators=[Optional(), Length(max=10000)],
        description=_l("How the specimens will be used. Never enter patient identifiers."),
    )
    iacuc_protocol_number = StringField(
        _l("IACUC protocol number"), validators=[Optional(), Length(max=80)]
    )
    species = StringField(_l("Species"), validators=[Optional(), Length(max=120)])
    animal_count = IntegerField(
        _l("Number of animals"),
        validators=[
            Optional(),
            NumberRange(min=1, message=_l("Enter a whole number of at least 1.")),
        ],
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    material_form = StringField(
        _l("Form of the material"),
        validators=[Optional(), Length(max=120)],
        description=_l("For example: frozen vial 0.5 mL, or 384-well plate in DMSO."),
    )
    shipping_address = TextAreaField(
        _l("Shipping address"), validators=[Optional(), Length(max=2000)]
    )
    shipping_country = SelectField(_l("Shipping country"), validators=[Optional()])
    receiving_person = StringField(_l("Receiving person"), validators=[Optional(), Length(max=120)])
    receiving_phone = StringField(
        _l("Receiving person's phone"),
        validators=[Optional(), Length(max=40)],
        render_kw={"type": "tel", "autocomplete": "tel"},
    )
    accept_mta = BooleanField(_l("I accept the material transfer terms above"))
    samples_description = TextAreaField(
        _l("Samples or compounds"), validators=[Optional(), Length(max=10000)]
    )
    plate_format = StringField(
        _l("Plate format"),
        validators=[Optional(), Length(max=40)],
        description=_l("For example: 384-well."),
    )
    desired_timeline = StringField(_l("Desired timeline"), validators=[Optional(), Length(max=200)])
    deliverables = TextAreaField(_l("Deliverables"), validators=[Optional(), Length(max=5000)])
    requested_slots = CellListField(_l("Sessions"), name="slot")
    kept_sessions = CellListField(name="session")
    week = HiddenField()
    show_week = StringField(validators=[Optional(), Length(max=10)])
    remove_session = StringField(validators=[Optional(), Length(max=40)])
    pick_suggestion = StringField(validators=[Optional(), Length(max=100)])
    accept_terms = BooleanField(_l("I accept the terms of use of this resource"))
    resubmit_message = TextAreaField(
        _l("Message to the reviewer (optional)"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What you changed, in a sentence or two."),
    )
    # A new form's own key: posting it again (a reload) finds the draft it created.
    draft_key = HiddenField(validators=[Optional(), Length(max=64)])
    save_draft = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Submit for review"))

    def __init__(self, resource: Resource, *args, resubmitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.resource = resource
        keep = set(applicable_fields(resource)) | {
            "accept_terms",
            "draft_key",
            "save_draft",
            "send",
        }
        if resubmitting:
            keep.add("resubmit_message")
        if "slot" in applicable_blocks(resource):
            keep.update(PICKER_FIELDS)
        for name in [name for name in self._fields if name != "csrf_token"]:
            if name not in keep:
                delattr(self, name)
        self.required_names = [
            name for name in requirements.required_fields(resource) if name in self
        ]
        for name in self.required_names:
            self[name].flags.required = True
        for name in SLOT_FALLBACK:
            if name in self and "requested_slots" in self:
                # Sessions picked on the calendar replace them: the server checks them only
                # when no session is picked, so the browser must not insist on them.
                self[name].widget = NotRequiredInBrowser(self[name].widget)
        locale = str(get_locale())
        if "quantity" in self:
            self.quantity.label.text = _(
                "Quantity (%(unit)s)", unit=resource.localized("unit_label", locale)
            )
        if "requested_minutes" in self:
            self.requested_minutes.choices = duration_choices(resource, self.requested_minutes.data)
            self.requested_minutes.description = _(
                "Sessions last between %(low)s and %(high)s; one priced unit is %(unit)s.",
                low=duration_text(resource.min_duration_minutes),
                high=duration_text(resource.max_duration_minutes),
                unit=duration_text(resource.unit_minutes),
            )
        if "shipping_country" in self:
            self.shipping_country.choices = [blank_choice(), *country_choices()]
        if "training_evidence" in self:
            self.training_evidence.description = _(
                "This resource requires: %(requirement)s. Say when and where you were trained.",
                requirement=resource.training_requirement,
            )
        self.accept_terms.label.text = _(
            "I accept the terms of use of this resource (version %(version)s)",
            version=current_app.config["TERMS_VERSION"],
        )
        self.accept_terms.description = _(
            "They include the facility's safety rules and cancelling at least %(hours)d hours "
            "ahead.",
            hours=resource.cancellation_notice_hours,
        )
        if resubmitting:
            self.send.label.text = _("Resubmit for review")
            self.save_draft.label.text = _("Save changes")

    @property
    def picking(self) -> bool:
        """True when a button of the slot picker (week, remove, suggestion) was pressed."""
        return "week" in self and any(
            self[name].data for name in ("show_week", "remove_session", "pick_suggestion")
        )

    @property
    def sending(self) -> bool:
        """True when the partner pressed the submit (or resubmit) button."""
        return bool(self.send.data)

    def valid_data(self) -> dict:
        """The answers that passed the field checks, for the draft services."""
        data = {}
        for name in applicable_fields(self.resource):
            if name in ACCEPTANCES or name not in self:
                continue
            field = self[name]
            if field.errors:
                continue  # keep what was saved before; the page shows the input and the error
            value = field.data
            if value is None and not ResourceRequest.__table__.c[name].nullable:
                value = ""  # text answers are stored empty, never NULL
            data[name] = value
        for name in ACCEPTANCES:
            if name in self:
                data[name] = bool(self[name].data)
        return data

    def check_required(self, skip: tuple[str, ...] = ()) -> None:
        """Mark every required answer left empty, except ``skip`` (the submit path only)."""
        for name in self.required_names:
            if name in skip:
                continue
            field = self[name]
            if field.errors:
                continue
            if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
                add_error(field, _("Required for this resource."))


def add_error(field: Field, message: str) -> None:
    """Show ``message`` beside ``field`` (fields not validated yet hold a tuple of errors)."""
    if message not in field.errors:
        field.errors = [*field.errors, message]


def document_choices(resource: Resource) -> list[SelectChoice]:
    """The resource's required documents first, then "other"."""
    return [
        *(SelectChoice(document.value, label(document)) for document in resource.document_types),
        SelectChoice("other", _l("Other document")),
    ]


class UploadForm(FlaskForm):
    """Add a document to a request."""

    document_type = SelectField(_l("Document type"))
    file = FileField(
        _l("File"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
    )
    return_to = HiddenField()

    def __init__(self, resource: Resource, *args, **kwargs):
        kwargs.setdefault("prefix", "upload")
        super().__init__(*args, **kwargs)
        self.document_type.choices = document_choices(resource)
        self.file.description = _(
            "PDF, PNG, JPEG, Word (DOCX) or Excel (XLSX), at most %(mb)d MB.",
            mb=current_app.config["UPLOAD_MAX_MB"],
        )

    @property
    def chosen_type(self) -> DocumentType | None:
        """The chosen document type (``None`` for "other")."""
        value = self.document_type.data
        return DocumentType(value) if value and value != "other" else None


class StepForm(FlaskForm):
    """Base of the decisions on one approval step: which step the page showed."""

    step_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ApproveForm(StepForm):
    """Approve the current step."""

    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=5000)])


class RejectForm(StepForm):
    """Reject the request at the current step."""

    comment = TextAreaField(
        _l("Reason for the rejection"),
        validators=[
            InputRequired(message=_l("Give a reason for the rejection.")),
            Length(max=5000),
        ],
        description=_l("The partner receives this reason."),
    )


class ChangesForm(StepForm):
    """Send the request back to the partner for changes."""

    comment = TextAreaField(
        _l("What should change"),
        validators=[InputRequired(message=_l("Say what should change.")), Length(max=5000)],
    )


class SkipForm(StepForm):
    """Skip the current step."""

    reason = TextAreaField(
        _l("Why the step is skipped"),
        validators=[
            InputRequired(message=_l("Give a reason for skipping the step.")),
            Length(max=2000),
        ],
    )


class ReassignForm(StepForm):
    """Hand the current step to one named staff member."""

    assignee = SelectField(_l("Assign to"), coerce=_optional_int)
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("Give a reason for the reassignment.")),
            Length(max=2000),
        ],
    )

    def set_candidates(self, staff: list[User]) -> None:
        """The staff who could decide the step."""
        self.assignee.choices = [
            blank_choice(),
            *(SelectChoice(member.id, f"{member.name} ({member.email})") for member in staff),
        ]


class CancelForm(FlaskForm):
    """The requester withdraws the request."""

    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[InputRequired(message=_l("Give a reason for cancelling.")), Length(max=2000)],
    )


class ResubmitForm(FlaskForm):
    """Resubmit a request after the requested changes."""

    message = TextAreaField(
        _l("Message to the reviewer (optional)"), validators=[Optional(), Length(max=5000)]
    )


class NoteForm(FlaskForm):
    """Start or complete the work, with an optional note to the partner."""

    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=5000)])


class CommentForm(FlaskForm):
    """A comment on the request; staff may keep it internal."""

    body = TextAreaField(
        _l("Comment"),
        validators=[InputRequired(message=_l("Write a comment first.")), Length(max=10000)],
    )
    internal = BooleanField(
        _l("Internal note (IPK staff only)"),
        description=_l("The partner does not see internal notes and is not e-mailed about them."),
    )

    def __init__(self, *args, staff: bool = False, **kwargs):
        kwargs.setdefault("prefix", "comment")
        super().__init__(*args, **kwargs)
        if not staff:
            del self.internal


# Labels the request page shows for each answer (the form's own labels, one source).
def answer_label(name: str) -> str:
    """The label of an answer field, as the form shows it."""
    field = getattr(RequestForm, name, None)
    text = field.args[0] if field is not None and field.args else name
    return str(text)
