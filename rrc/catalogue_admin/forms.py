"""Forms of the catalogue management pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from rrc.admin.forms import CheckboxListField
from rrc.catalogue_admin.services import (
    MAX_DAYS,
    MAX_HOURS,
    MAX_MINUTES,
    MAX_PRICE,
    WEEKDAYS,
    opening_hours_from_pairs,
)
from rrc.forms import blank_choice, email_field, timezone_choices, within_calendar
from rrc.labels import LABELS, choices
from rrc.models import ApprovalStepKind, BookingMode, PriceTier, ResourceKind
from rrc.models.catalogue import DocumentType

DAY_LABELS = {
    1: (_l("Monday opens"), _l("Monday closes")),
    2: (_l("Tuesday opens"), _l("Tuesday closes")),
    3: (_l("Wednesday opens"), _l("Wednesday closes")),
    4: (_l("Thursday opens"), _l("Thursday closes")),
    5: (_l("Friday opens"), _l("Friday closes")),
    6: (_l("Saturday opens"), _l("Saturday closes")),
    7: (_l("Sunday opens"), _l("Sunday closes")),
}
CODE_HINT = _l("Capital letters, digits and hyphens (e.g. INS-HCS-02). It cannot change later.")


def strip(value):
    """Trim surrounding space of submitted text."""
    return value.strip() if isinstance(value, str) else value


def plain_newlines(value):
    """Trim and store browsers' CRLF line ends as LF."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def upper_code(value):
    """Codes are upper case."""
    return value.strip().upper() if isinstance(value, str) else value


class WholeNumber:
    """A whole number within bounds (silent when the field is empty or unreadable)."""

    def __init__(self, minimum: int = 0, maximum: int | None = None):
        self.minimum = minimum
        self.maximum = maximum

    def __call__(self, form, field):
        if field.data is None:
            return
        if field.data < self.minimum:
            if self.minimum == 0:
                raise ValidationError(_l("Must not be negative."))
            raise ValidationError(_l("Must be at least %(n)d.", n=self.minimum))
        if self.maximum is not None and field.data > self.maximum:
            raise ValidationError(_l("Must be at most %(n)d.", n=self.maximum))


def biosafety_choices() -> list[SelectChoice]:
    """Biosafety levels 0 (no biological work) to 4."""
    return [SelectChoice(0, _l("None (no biological work)"))] + [
        SelectChoice(level, _l("BSL-%(level)d", level=level)) for level in range(1, 5)
    ]


class OpeningHoursMixin:
    """Seven pairs of time inputs; a day with neither time is closed."""

    def validate_opening_hours(self) -> bool:
        """Both times or neither, closing after opening; errors go beside the fields."""
        valid = True
        for day in WEEKDAYS:
            opens, closes = getattr(self, f"opens_{day}"), getattr(self, f"closes_{day}")
            if opens.errors or closes.errors:
                valid = False
                continue
            if (opens.data is None) != (closes.data is None):
                missing = closes if closes.data is None else opens
                missing.errors = [*missing.errors, str(_l("Give both times, or neither."))]
                valid = False
            elif opens.data is not None and closes.data <= opens.data:
                closes.errors = [*closes.errors, str(_l("Must be after the opening time."))]
                valid = False
        return valid

    def opening_hours(self) -> dict:
        """The stored shape: ``{"1": ["09:00", "18:00"], ...}``."""
        return opening_hours_from_pairs(
            {
                day: (getattr(self, f"opens_{day}").data, getattr(self, f"closes_{day}").data)
                for day in WEEKDAYS
            }
        )

    def set_opening_hours(self, hours: dict | None) -> None:
        """Fill the time inputs from stored opening hours (GET only)."""
        from datetime import time

        for day in WEEKDAYS:
            span = (hours or {}).get(str(day))
            if span:
                getattr(self, f"opens_{day}").data = time.fromisoformat(span[0])
                getattr(self, f"closes_{day}").data = time.fromisoformat(span[1])

    def hour_fields(self) -> list[tuple]:
        """``(opens, closes)`` field pairs, Monday first."""
        return [(getattr(self, f"opens_{day}"), getattr(self, f"closes_{day}")) for day in WEEKDAYS]


def _add_hour_fields(form_class) -> None:
    for day in WEEKDAYS:
        opens_label, closes_label = DAY_LABELS[day]
        setattr(
            form_class,
            f"opens_{day}",
            TimeField(opens_label, validators=[Optional()], format=["%H:%M", "%H:%M:%S"]),
        )
        setattr(
            form_class,
            f"closes_{day}",
            TimeField(closes_label, validators=[Optional()], format=["%H:%M", "%H:%M:%S"]),
        )


class FacilityForm(OpeningHoursMixin, FlaskForm):
    """A facility's details and managers (the code only when creating)."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=32)],
        filters=[upper_code],
        description=CODE_HINT,
    )
    name = StringField(
        _l("Name (English)"), validators=[InputRequired(), Length(max=200)], filters=[strip]
    )
    name_ko = StringField(_l("Name (Korean)"), validators=[Length(max=200)], filters=[strip])
    description = TextAreaField(_l("Description (English)"), filters=[plain_newlines])
    description_ko = TextAreaField(_l("Description (Korean)"), filters=[plain_newlines])
    location = StringField(_l("Location"), validators=[Length(max=200)], filters=[strip])
    biosafety_level = SelectField(
        _l("Biosafety level"), choices=biosafety_choices(), coerce=int, default=1
    )
    timezone = SelectField(
        _l("Time zone"),
        choices=timezone_choices(),
        default="Asia/Seoul",
        description=_l("Closures and opening hours are entered in this zone."),
    )
    contact_email = email_field(_l("Contact e-mail"))
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), Length(max=40)], filters=[strip]
    )
    managers = CheckboxListField(
        _l("Facility managers"),
        coerce=int,
        description=_l(
            "Staff holding the facility-manager capability (an administrator grants it)."
        ),
    )

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the opening-hours pairs."""
        fields_valid = super().validate(extra_validators)
        return self.validate_opening_hours() and fields_valid


_add_hour_fields(FacilityForm)


def _whole(label, minimum: int, maximum: int, required: bool = True, description=None):
    return IntegerField(
        label,
        validators=[InputRequired() if required else Optional(), WholeNumber(minimum, maximum)],
        description=description,
    )


class ResourceForm(OpeningHoursMixin, FlaskForm):
    """Every editable value of a resource, with a rate per tier."""

    code = StringField(
        _l("Code"),
        validators=[InputRequired(), Length(max=32)],
        filters=[upper_code],
        description=CODE_HINT,
    )
    facility = SelectField(_l("Facility"), coerce=int, validators=[InputRequired()])
    name = StringField(
        _l("Name (English)"), validators=[InputRequired(), Length(max=200)], filters=[strip]
    )
    name_ko = StringField(_l("Name (Korean)"), validators=[Length(max=200)], filters=[strip])
    kind = SelectField(_l("Type of resource"), choices=choices(ResourceKind))
    summary = TextAreaField(
        _l("Summary (English)"), validators=[Length(max=500)], filters=[plain_newlines]
    )
    summary_ko = TextAreaField(
        _l("Summary (Korean)"), validators=[Length(max=500)], filters=[plain_newlines]
    )
    description = TextAreaField(_l("Description (English)"), filters=[plain_newlines])
    description_ko = TextAreaField(_l("Description (Korean)"), filters=[plain_newlines])

    booking_mode = SelectField(_l("Booking mode"), choices=choices(BookingMode))
    unit_label = StringField(
        _l("Unit (English)"),
        validators=[InputRequired(), Length(max=80)],
        filters=[strip],
        description=_l("What one priced unit is: hour, 4 h block, vial, 384-well plate…"),
    )
    unit_label_ko = StringField(_l("Unit (Korean)"), validators=[Length(max=80)], filters=[strip])
    unit_minutes = _whole(
        _l("Minutes in one unit"),
        1,
        MAX_MINUTES,
        required=False,
        description=_l("Required for time-slot resources: 60 for an hourly rate, 240 for 4 h."),
    )
    slot_granularity_minutes = _whole(
        _l("Booking granularity (minutes)"),
        1,
        MAX_MINUTES,
        description=_l("Bookings start and end on multiples of this."),
    )
    min_duration_minutes = _whole(_l("Shortest booking (minutes)"), 1, MAX_MINUTES)
    max_duration_minutes = _whole(_l("Longest booking (minutes)"), 1, MAX_MINUTES)
    min_notice_hours = _whole(_l("Minimum notice (hours)"), 0, MAX_HOURS)
    max_advance_days = _whole(_l("Bookable up to (days ahead)"), 0, MAX_DAYS)
    buffer_minutes = _whole(
        _l("Buffer between bookings (minutes)"),
        0,
        MAX_MINUTES,
        description=_l("Cleaning or set-up time kept free around each booking."),
    )
    cancellation_notice_hours = _whole(_l("Free cancellation until (hours before)"), 0, MAX_HOURS)
    lead_time_days = _whole(
        _l("Lead time (days)"),
        0,
        MAX_DAYS,
        required=False,
        description=_l("Typical time from approval to delivery or first slot."),
    )
    availability_note = StringField(
        _l("Availability note"), validators=[Length(max=300)], filters=[strip]
    )
    training_requirement = StringField(
        _l("Training requirement"), validators=[Length(max=300)], filters=[strip]
    )
    required_documents = CheckboxListField(
        _l("Documents a request must carry"), choices=choices(DocumentType)
    )
    approval_chain = CheckboxListField(
        _l("Approval steps"),
        choices=choices(ApprovalStepKind),
        description=_l(
            "Steps run in this order: coordinator, facility manager, biosafety. "
            "None ticked: requests are approved at once."
        ),
    )
    biosafety_level = SelectField(
        _l("Biosafety level"), choices=biosafety_choices(), coerce=int, default=1
    )
    high_risk_pathogen = BooleanField(_l("High-risk pathogen"))
    human_specimen = BooleanField(_l("Human specimen"))
    animal_work = BooleanField(_l("Animal work"))
    gmo = BooleanField(_l("GMO / LMO"))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the opening-hours pairs."""
        fields_valid = super().validate(extra_validators)
        return self.validate_opening_hours() and fields_valid

    def rate_fields(self) -> list[tuple]:
        """``(tier, price, set-up fee, on quote)`` per tier."""
        return [
            (
                tier,
                getattr(self, f"price_{tier.value}"),
                getattr(self, f"setup_{tier.value}"),
                getattr(self, f"quote_{tier.value}"),
            )
            for tier in PriceTier
        ]


_add_hour_fields(ResourceForm)
for _tier in PriceTier:
    setattr(
        ResourceForm,
        f"price_{_tier.value}",
        _whole(
            _l("%(tier)s: unit price (KRW)", tier=LABELS[(type(_tier), _tier.value)]),
            0,
            MAX_PRICE,
            False,
        ),
    )
    setattr(
        ResourceForm,
        f"setup_{_tier.value}",
        _whole(
            _l("%(tier)s: set-up fee (KRW)", tier=LABELS[(type(_tier), _tier.value)]),
            0,
            MAX_PRICE,
            False,
        ),
    )
    setattr(
        ResourceForm,
        f"quote_{_tier.value}",
        BooleanField(_l("%(tier)s: on quote", tier=LABELS[(type(_tier), _tier.value)])),
    )


class PhotoForm(FlaskForm):
    """Upload a resource photo."""

    photo = FileField(
        _l("Photo"),
        validators=[FileRequired(_l("Choose an image file."))],
        description=_l("JPEG, PNG, WebP or GIF, up to 8 MB; it is resized to 1600 pixels."),
    )


class ClosureForm(FlaskForm):
    """A period when a facility or one of its resources is closed."""

    scope = SelectField(_l("What is closed"))
    starts_at = DateTimeLocalField(
        _l("From"),
        validators=[InputRequired(), within_calendar],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    ends_at = DateTimeLocalField(
        _l("Until"),
        validators=[InputRequired(), within_calendar],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    reason = StringField(
        _l("Reason"), validators=[InputRequired(), Length(max=300)], filters=[strip]
    )

    def validate_ends_at(self, field):
        """Said at once, beside the field, even when another field is missing too."""
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))


class ImportForm(FlaskForm):
    """Upload a CSV file of resources."""

    csv_file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l("UTF-8, comma-separated, with the header row of the export."),
    )


STATUS_ACTIVE = "active"
STATUS_RETIRED = "retired"
STATUS_ALL = "all"


class ResourceFilterForm(FlaskForm):
    """Filters of the resource list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Code or name"), validators=[Optional(), Length(max=100)], filters=[strip])
    facility = SelectField(_l("Facility"), default="")
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(STATUS_ACTIVE, _l("Active")),
            SelectChoice(STATUS_RETIRED, _l("Retired")),
            SelectChoice(STATUS_ALL, _l("All")),
        ],
        default=STATUS_ACTIVE,
    )

    def set_facilities(self, facilities) -> None:
        """Offer the facilities the viewer edits."""
        self.facility.choices = [blank_choice(_l("All")), *facility_choices(facilities, by="code")]


def facility_choices(facilities, by: str = "id") -> list[SelectChoice]:
    """Options naming each facility by code and name."""
    return [
        SelectChoice(
            getattr(facility, by),
            f"{facility.code} — {facility.name}",
        )
        for facility in facilities
    ]
