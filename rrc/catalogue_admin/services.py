"""Catalogue management rules: facilities and their managers, resources and rates, photos, closures.

Every function takes the acting user, checks that they may act, validates the business rules,
writes an audit entry, and flushes; the caller commits (or rolls back on a raised error).
"""

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc import audit
from rrc.bookings import staff as booking_staff
from rrc.catalogue import photos
from rrc.catalogue.permissions import (
    can_edit_facility,
    can_edit_resource,
    can_manage_facilities,
)
from rrc.extensions import db
from rrc.i18n import is_valid_timezone
from rrc.models import (
    ApprovalStepKind,
    BookingMode,
    Capability,
    Closure,
    DocumentType,
    Facility,
    PriceTier,
    Rate,
    Resource,
    ResourceKind,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.types import utcnow

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
WEEKDAYS = range(1, 8)  # ISO weekdays, 1 = Monday
BIOSAFETY_LEVELS = range(0, 5)
MAX_PRICE = 10**12
MAX_MINUTES = 7 * 24 * 60 * 4  # four weeks: longer than any sensible booking rule
MAX_DAYS = 3650
MAX_HOURS = 24 * 365


class CatalogueError(Exception):
    """A catalogue change the rules refuse; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(CatalogueError):
    """The acting user may not change this part of the catalogue."""


class InvalidData(CatalogueError):
    """Some values break the rules; ``errors`` maps each field name to its reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_("Please correct the fields marked below."))
        self.errors = errors


def normalise_code(code: str | None) -> str:
    """Codes are upper case without surrounding space (``ins-hcs-02`` → ``INS-HCS-02``)."""
    return (code or "").strip().upper()


def _check_code(code: str) -> str | None:
    if not code:
        return _("Give a code.")
    if not CODE_PATTERN.match(code):
        return _(
            "Use up to 32 capital letters, digits and hyphens, starting with a letter or digit "
            "(e.g. INS-HCS-02)."
        )
    return None


def _text_or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _check_length(errors: dict[str, str], name: str, value: str | None, limit: int) -> None:
    if value and len(value) > limit:
        errors.setdefault(name, _("Use at most %(count)d characters.", count=limit))


# --- opening hours -----------------------------------------------------------------------------


def opening_hours_from_pairs(pairs: dict[int, tuple[time | None, time | None]]) -> dict:
    """Turn ``{weekday: (opens, closes)}`` into the stored shape ``{"1": ["09:00", "18:00"]}``."""
    return {
        str(day): [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
        for day, (opens, closes) in sorted(pairs.items())
        if opens is not None and closes is not None
    }


def check_opening_hours(hours: dict | None) -> str | None:
    """The reason stored-shape opening hours are malformed, or None when they are fine."""
    if hours is None:
        return None
    if not isinstance(hours, dict):
        return _("Opening hours are malformed.")
    for day, span in hours.items():
        if day not in {str(weekday) for weekday in WEEKDAYS}:
            return _("Opening hours name an unknown weekday.")
        try:
            opens, closes = (time.fromisoformat(value) for value in span)
        except (TypeError, ValueError):
            return _("Opening hours are malformed.")
        if closes <= opens:
            return _("Closing time must be after opening time.")
    return None


# --- facilities --------------------------------------------------------------------------------


@dataclass
class FacilityData:
    """The editable values of a facility."""

    code: str = ""
    name: str = ""
    name_ko: str | None = None
    description: str = ""
    description_ko: str | None = None
    location: str = ""
    biosafety_level: int = 1
    timezone: str = "Asia/Seoul"
    opening_hours: dict = field(default_factory=dict)
    contact_email: str = ""
    contact_phone: str | None = None
    managers: list[User] = field(default_factory=list)

    @classmethod
    def from_facility(cls, facility: Facility) -> "FacilityData":
        """The current values of ``facility``."""
        values = {item.name: getattr(facility, item.name) for item in fields(cls)}
        values["opening_hours"] = dict(facility.opening_hours or {})
        values["managers"] = list(facility.managers)
        return cls(**values)


def eligible_managers(facility: Facility | None = None) -> list[User]:
    """Active staff with the facility-manager capability, plus the facility's current managers."""
    candidates = list(
        db.session.scalars(
            select(User)
            .where(
                User.kind == UserKind.STAFF,
                User.status == UserStatus.ACTIVE,
                User.is_facility_manager.is_(True),
            )
            .order_by(User.name, User.id)
        )
    )
    known = {user.id for user in candidates}
    if facility is not None:
        candidates += [user for user in facility.managers if user.id not in known]
    return candidates


def _facility_errors(data: FacilityData, facility: Facility | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if facility is None:
        problem = _check_code(data.code)
        if problem:
            errors["code"] = problem
        elif db.session.scalar(select(Facility.id).where(Facility.code == data.code)):
            errors["code"] = _("Another facility already has the code %(code)s.", code=data.code)
    if not data.name.strip():
        errors["name"] = _("Give a name.")
    _check_length(errors, "name", data.name, 200)
    _check_length(errors, "name_ko", data.name_ko, 200)
    _check_length(errors, "location", data.location, 200)
    _check_length(errors, "contact_email", data.contact_email, 254)
    _check_length(errors, "contact_phone", data.contact_phone, 40)
    if data.biosafety_level not in BIOSAFETY_LEVELS:
        errors["biosafety_level"] = _("Choose a biosafety level from 0 to 4.")
    if not is_valid_timezone(data.timezone):
        errors["timezone"] = _("Choose a time zone from the list (IANA names such as Asia/Seoul).")
    problem = check_opening_hours(data.opening_hours)
    if problem:
        errors["opening_hours"] = problem
    current = {user.id for user in facility.managers} if facility is not None else set()
    for user in data.managers:
        if user.id not in current and not user.has_capability(Capability.FACILITY_MANAGER):
            errors["managers"] = _(
                "%(name)s does not hold the facility-manager capability.", name=user.name
            )
    return errors


def _facility_snapshot(facility: Facility) -> dict[str, object]:
    snapshot = {
        item.name: getattr(facility, item.name)
        for item in fields(FacilityData)
        if item.name not in ("managers", "opening_hours")
    }
    snapshot["opening_hours"] = dict(facility.opening_hours or {})
    snapshot["managers"] = sorted(user.email for user in facility.managers)
    return snapshot


def _apply_facility(facility: Facility, data: FacilityData) -> None:
    facility.name = data.name.strip()
    facility.name_ko = _text_or_none(data.name_ko)
    facility.description = (data.description or "").strip()
    facility.description_ko = _text_or_none(data.description_ko)
    facility.location = (data.location or "").strip()
    facility.biosafety_level = data.biosafety_level
    facility.timezone = data.timezone
    facility.opening_hours = dict(data.opening_hours)
    facility.contact_email = (data.contact_email or "").strip()
    facility.contact_phone = _text_or_none(data.contact_phone)
    facility.managers = list(data.managers)


def _require_facility_manager_rights(actor: User) -> None:
    if not can_manage_facilities(actor):
        raise NotAllowed(_("Only coordinators and administrators manage facilities."))


def create_facility(actor: User, data: FacilityData) -> Facility:
    """Create a facility with its managers."""
    _require_facility_manager_rights(actor)
    data.code = normalise_code(data.code)
    errors = _facility_errors(data, None)
    if errors:
        raise InvalidData(errors)
    facility = Facility(code=data.code)
    _apply_facility(facility, data)
    db.session.add(facility)
    db.session.flush()
    audit.record(
        actor,
        "catalogue.facility_created",
        target=facility,
        detail=f"{facility.code} {facility.name}; managers="
        + ",".join(sorted(user.email for user in facility.managers)),
    )
    return facility


def update_facility(actor: User, facility: Facility, data: FacilityData) -> list[str]:
    """Change a facility's details and managers (its code never changes); return what changed."""
    _require_facility_manager_rights(actor)
    errors = _facility_errors(data, facility)
    if errors:
        raise InvalidData(errors)
    before = _facility_snapshot(facility)
    _apply_facility(facility, data)
    changes = describe_changes(before, _facility_snapshot(facility))
    if changes:
        db.session.flush()
        audit.record(
            actor,
            "catalogue.facility_updated",
            target=facility,
            detail=f"{facility.code}: " + "; ".join(changes),
        )
    return changes


def retire_facility(actor: User, facility: Facility) -> None:
    """Hide a facility and all its resources from the public catalogue (history is kept)."""
    _require_facility_manager_rights(actor)
    if not facility.active:
        raise CatalogueError(_("This facility is already retired."))
    facility.active = False
    audit.record(actor, "catalogue.facility_retired", target=facility, detail=facility.code)


def reactivate_facility(actor: User, facility: Facility) -> None:
    """Show a retired facility (and its active resources) in the catalogue again."""
    _require_facility_manager_rights(actor)
    if facility.active:
        raise CatalogueError(_("This facility is already active."))
    facility.active = True
    audit.record(actor, "catalogue.facility_reactivated", target=facility, detail=facility.code)


# --- resources ---------------------------------------------------------------------------------


@dataclass
class RateData:
    """One tier's price: a unit price with an optional set-up fee, or "on quote"."""

    unit_price: int | None = None
    setup_fee: int | None = None
    on_quote: bool = False


# Scalar attributes copied one to one between ResourceData and Resource.
RESOURCE_SCALARS = (
    "name",
    "name_ko",
    "kind",
    "summary",
    "summary_ko",
    "description",
    "description_ko",
    "biosafety_level",
    "high_risk_pathogen",
    "human_specimen",
    "animal_work",
    "gmo",
    "booking_mode",
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
)
OPTIONAL_TEXTS = (
    "name_ko",
    "summary_ko",
    "description_ko",
    "unit_label_ko",
    "availability_note",
    "training_requirement",
)
TEXT_LIMITS = {
    "name": 200,
    "name_ko": 200,
    "summary": 500,
    "summary_ko": 500,
    "unit_label": 80,
    "unit_label_ko": 80,
    "availability_note": 300,
    "training_requirement": 300,
}
LONG_TEXTS = ("description", "description_ko", "summary", "summary_ko")


@dataclass
class ResourceData:
    """The editable values of a resource, with its rates per tier."""

    code: str = ""
    facility: Facility | None = None
    name: str = ""
    name_ko: str | None = None
    kind: ResourceKind | None = None
    summary: str = ""
    summary_ko: str | None = None
    description: str = ""
    description_ko: str | None = None
    biosafety_level: int = 1
    high_risk_pathogen: bool = False
    human_specimen: bool = False
    animal_work: bool = False
    gmo: bool = False
    booking_mode: BookingMode | None = None
    unit_label: str = ""
    unit_label_ko: str | None = None
    unit_minutes: int | None = None
    slot_granularity_minutes: int | None = 30
    min_duration_minutes: int | None = 30
    max_duration_minutes: int | None = 480
    min_notice_hours: int | None = 24
    max_advance_days: int | None = 90
    buffer_minutes: int | None = 0
    opening_hours: dict | None = None
    cancellation_notice_hours: int | None = 48
    lead_time_days: int | None = None
    availability_note: str | None = None
    training_requirement: str | None = None
    required_documents: list[str] = field(default_factory=list)
    approval_chain: list[str] = field(
        default_factory=lambda: [ApprovalStepKind.COORDINATOR, ApprovalStepKind.FACILITY_MANAGER]
    )
    rates: dict[PriceTier, RateData] = field(default_factory=dict)
    active: bool = True

    @classmethod
    def from_resource(cls, resource: Resource) -> "ResourceData":
        """The current values of ``resource``."""
        data = cls(code=resource.code, facility=resource.facility, active=resource.active)
        for name in RESOURCE_SCALARS:
            setattr(data, name, getattr(resource, name))
        data.opening_hours = dict(resource.opening_hours) if resource.opening_hours else None
        data.required_documents = list(resource.required_documents or [])
        data.approval_chain = list(resource.approval_chain or [])
        data.rates = {
            rate.tier: RateData(rate.unit_price, rate.setup_fee, rate.on_quote)
            for rate in resource.rates
        }
        return data


def _ordered(values: list[str], enum_class) -> list[str]:
    """Enum values in the enum's own order (the approval chain's fixed order)."""
    wanted = {str(value) for value in values}
    return [member.value for member in enum_class if member.value in wanted]


def _check_whole(
    errors: dict[str, str], name: str, value: int | None, *, minimum: int, maximum: int
) -> None:
    if value is None:
        errors.setdefault(name, _("Give a whole number."))
    elif value < minimum:
        errors.setdefault(
            name,
            _("Must not be negative.") if minimum == 0 else _("Must be at least %(n)d.", n=minimum),
        )
    elif value > maximum:
        errors.setdefault(name, _("Must be at most %(n)d.", n=maximum))


def check_resource(data: ResourceData, resource: Resource | None = None) -> dict[str, str]:
    """Every rule the values break, by field name (empty when they are fine).

    Rate errors are keyed ``price_<tier>`` and ``setup_<tier>``. Code uniqueness needs the database
    and is checked by :func:`create_resource`.
    """
    errors: dict[str, str] = {}
    if resource is None:
        problem = _check_code(data.code)
        if problem:
            errors["code"] = problem
    elif data.code != resource.code:
        errors["code"] = _("A resource's code cannot change.")
    if data.facility is None:
        errors["facility"] = _("Choose a facility.")
    if not (data.name or "").strip():
        errors["name"] = _("Give a name.")
    if not (data.unit_label or "").strip():
        errors["unit_label"] = _("Say what one unit is (hour, 4 h block, vial, plate…).")
    for name, limit in TEXT_LIMITS.items():
        _check_length(errors, name, getattr(data, name), limit)
    if data.kind is None:
        errors["kind"] = _("Choose a kind.")
    if data.booking_mode is None:
        errors["booking_mode"] = _("Choose a booking mode.")
    if data.biosafety_level not in BIOSAFETY_LEVELS:
        errors["biosafety_level"] = _("Choose a biosafety level from 0 to 4.")

    if data.booking_mode == BookingMode.SLOT:
        if data.unit_minutes is None:
            errors["unit_minutes"] = _("Slot resources need the length of one priced unit.")
        _check_whole(errors, "unit_minutes", data.unit_minutes, minimum=1, maximum=MAX_MINUTES)
        rules = {
            "slot_granularity_minutes": (1, MAX_MINUTES),
            "min_duration_minutes": (1, MAX_MINUTES),
            "max_duration_minutes": (1, MAX_MINUTES),
            "min_notice_hours": (0, MAX_HOURS),
            "max_advance_days": (1, MAX_DAYS),
            "buffer_minutes": (0, MAX_MINUTES),
        }
    else:
        if data.unit_minutes is not None:
            _check_whole(errors, "unit_minutes", data.unit_minutes, minimum=1, maximum=MAX_MINUTES)
        # Quantity resources keep the stored rules (unused) but they must still be sane numbers.
        rules = {
            "slot_granularity_minutes": (1, MAX_MINUTES),
            "min_duration_minutes": (1, MAX_MINUTES),
            "max_duration_minutes": (1, MAX_MINUTES),
            "min_notice_hours": (0, MAX_HOURS),
            "max_advance_days": (0, MAX_DAYS),
            "buffer_minutes": (0, MAX_MINUTES),
        }
    for name, (minimum, maximum) in rules.items():
        _check_whole(errors, name, getattr(data, name), minimum=minimum, maximum=maximum)
    _check_whole(
        errors,
        "cancellation_notice_hours",
        data.cancellation_notice_hours,
        minimum=0,
        maximum=MAX_HOURS,
    )
    if data.lead_time_days is not None:
        _check_whole(errors, "lead_time_days", data.lead_time_days, minimum=0, maximum=MAX_DAYS)
    if data.booking_mode == BookingMode.SLOT and not any(
        name in errors
        for name in ("slot_granularity_minutes", "min_duration_minutes", "max_duration_minutes")
    ):
        step = data.slot_granularity_minutes
        if data.min_duration_minutes % step:
            errors["min_duration_minutes"] = _(
                "The minimum length must be a multiple of the granularity (%(step)d minutes).",
                step=step,
            )
        if data.max_duration_minutes % step:
            errors["max_duration_minutes"] = _(
                "The maximum length must be a multiple of the granularity (%(step)d minutes).",
                step=step,
            )
        if data.min_duration_minutes > data.max_duration_minutes:
            errors.setdefault(
                "max_duration_minutes",
                _("The maximum length must not be shorter than the minimum length."),
            )
    problem = check_opening_hours(data.opening_hours)
    if problem:
        errors["opening_hours"] = problem

    documents = {member.value for member in DocumentType}
    if any(str(value) not in documents for value in data.required_documents):
        errors["required_documents"] = _("Unknown document type.")
    elif len(set(data.required_documents)) != len(data.required_documents):
        errors["required_documents"] = _("A document is listed twice.")
    steps = {member.value for member in ApprovalStepKind}
    if any(str(value) not in steps for value in data.approval_chain):
        errors["approval_chain"] = _("Unknown approval step.")
    elif len(set(data.approval_chain)) != len(data.approval_chain):
        errors["approval_chain"] = _("An approval step is listed twice.")

    for tier in PriceTier:
        rate = data.rates.get(tier) or RateData()
        price_field, setup_field = f"price_{tier.value}", f"setup_{tier.value}"
        if rate.on_quote:
            if rate.unit_price is not None:
                errors[price_field] = _("Leave the price empty when the rate is on quote.")
            if rate.setup_fee is not None:
                errors[setup_field] = _("Leave the set-up fee empty when the rate is on quote.")
            continue
        if rate.unit_price is None:
            errors[price_field] = _("Give a price (0 for free), or tick “on quote”.")
        else:
            _check_whole(errors, price_field, rate.unit_price, minimum=0, maximum=MAX_PRICE)
        if rate.setup_fee is not None:
            _check_whole(errors, setup_field, rate.setup_fee, minimum=0, maximum=MAX_PRICE)
    return errors


def _code_taken(code: str) -> bool:
    return db.session.scalar(select(Resource.id).where(Resource.code == code)) is not None


def _set(target: object, name: str, value: object) -> None:
    """Assign only real changes: an unchanged row is not written (nor its ``updated_at``)."""
    if getattr(target, name) != value:
        setattr(target, name, value)


def _apply_resource(resource: Resource, data: ResourceData) -> None:
    for name in RESOURCE_SCALARS:
        value = getattr(data, name)
        if name in OPTIONAL_TEXTS:
            value = _text_or_none(value)
        elif isinstance(value, str):
            value = value.strip()
        _set(resource, name, value)
    if resource.facility is not data.facility:
        resource.facility = data.facility
    _set(resource, "opening_hours", dict(data.opening_hours) if data.opening_hours else None)
    # Documents keep the order given (it is the order partners read them in); the approval chain
    # always runs in its fixed order.
    _set(resource, "required_documents", [str(value) for value in data.required_documents])
    _set(resource, "approval_chain", _ordered(data.approval_chain, ApprovalStepKind))
    existing = {rate.tier: rate for rate in resource.rates}
    for tier in PriceTier:
        wanted = data.rates.get(tier) or RateData()
        rate = existing.get(tier)
        if rate is None:
            rate = Rate(tier=tier)
            resource.rates.append(rate)
        _set(rate, "on_quote", wanted.on_quote)
        _set(rate, "unit_price", None if wanted.on_quote else wanted.unit_price)
        _set(rate, "setup_fee", None if wanted.on_quote else wanted.setup_fee)
    if data.active != resource.active:
        resource.active = data.active
        resource.retired_at = None if data.active else utcnow()


def rate_text(rate: Rate | RateData | None) -> str:
    """A rate in words for the audit log: ``60000``, ``150000 + set-up 3000000``, ``on quote``."""
    if rate is None:
        return "none"
    if rate.on_quote:
        return "on quote"
    text = str(rate.unit_price)
    if rate.setup_fee is not None:
        text += f" + set-up {rate.setup_fee}"
    return text


def resource_snapshot(resource: Resource) -> dict[str, object]:
    """What an audit entry compares: every editable value, rates in words."""
    snapshot: dict[str, object] = {"facility": resource.facility.code if resource.facility else ""}
    for name in RESOURCE_SCALARS:
        value = getattr(resource, name)
        snapshot[name] = (value or None) if name in OPTIONAL_TEXTS else value
    snapshot["opening_hours"] = dict(resource.opening_hours or {})
    snapshot["required_documents"] = list(resource.required_documents or [])
    snapshot["approval_chain"] = list(resource.approval_chain or [])
    rates = {rate.tier: rate for rate in resource.rates}
    for tier in PriceTier:
        snapshot[f"rate_{tier.value}"] = rate_text(rates.get(tier))
    snapshot["active"] = resource.active
    return snapshot


def describe_changes(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """``name: 'old' → 'new'`` for each changed value (long texts are only named)."""
    changes = []
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if name in LONG_TEXTS:
            changes.append(f"{name} changed")
        else:
            changes.append(f"{name}: {_short(old)} → {_short(new)}")
    return changes


def _short(value: object) -> str:
    if isinstance(value, list):
        value = ";".join(str(item) for item in value) or "—"
    elif value is None or value == "":
        value = "—"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _require_resource_rights(actor: User, facility: Facility | None) -> None:
    if facility is not None and not can_edit_facility(actor, facility):
        raise NotAllowed(
            _("You do not manage the catalogue of %(facility)s.", facility=facility.code),
            "facility",
        )


def resource_problems(data: ResourceData, resource: Resource | None = None) -> dict[str, str]:
    """:func:`check_resource` plus, for a new resource, whether its code is taken."""
    errors = check_resource(data, resource)
    if resource is None and "code" not in errors and _code_taken(normalise_code(data.code)):
        errors["code"] = _(
            "Another resource already has the code %(code)s.", code=normalise_code(data.code)
        )
    return errors


def create_resource(actor: User, data: ResourceData) -> Resource:
    """Create a resource with its rates in a facility the actor edits."""
    data.code = normalise_code(data.code)
    _require_resource_rights(actor, data.facility)
    errors = resource_problems(data)
    if errors:
        raise InvalidData(errors)
    resource = Resource(code=data.code)
    _apply_resource(resource, data)
    db.session.add(resource)
    db.session.flush()
    audit.record(
        actor,
        "catalogue.resource_created",
        target=resource,
        detail=f"{resource.code} {resource.name} in {resource.facility.code}; rates: "
        + ", ".join(f"{rate.tier.value} {rate_text(rate)}" for rate in resource.rates),
    )
    return resource


def update_resource(actor: User, resource: Resource, data: ResourceData) -> list[str]:
    """Change a resource and its rates (moving it needs rights on both facilities); return what
    changed."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_("You do not manage the catalogue of this resource's facility."))
    _require_resource_rights(actor, data.facility)
    errors = check_resource(data, resource)
    if errors:
        raise InvalidData(errors)
    before = resource_snapshot(resource)
    _apply_resource(resource, data)
    changes = describe_changes(before, resource_snapshot(resource))
    if changes:
        db.session.flush()
        audit.record(
            actor,
            "catalogue.resource_updated",
            target=resource,
            detail=f"{resource.code}: " + "; ".join(changes),
        )
    return changes


def retire_resource(actor: User, resource: Resource) -> None:
    """Hide a resource from the public catalogue; its requests and history stay."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_("You do not manage the catalogue of this resource's facility."))
    if not resource.active:
        raise CatalogueError(_("This resource is already retired."))
    resource.active = False
    resource.retired_at = utcnow()
    audit.record(actor, "catalogue.resource_retired", target=resource, detail=resource.code)


def reactivate_resource(actor: User, resource: Resource) -> None:
    """Show a retired resource in the catalogue again."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_("You do not manage the catalogue of this resource's facility."))
    if resource.active:
        raise CatalogueError(_("This resource is already active."))
    resource.active = True
    resource.retired_at = None
    audit.record(actor, "catalogue.resource_reactivated", target=resource, detail=resource.code)


# --- photos ------------------------------------------------------------------------------------


def replace_photo(actor: User, resource: Resource, data: bytes) -> str | None:
    """Store a new photo for ``resource`` (decoded and re-encoded); return the old file's name,
    to delete once the change is committed."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_("You do not manage the catalogue of this resource's facility."))
    try:
        filename = photos.store_photo(data)
    except photos.PhotoError as error:
        raise CatalogueError(str(error), "photo") from None
    old = resource.photo_filename
    resource.photo_filename = filename
    audit.record(
        actor,
        "catalogue.photo_replaced" if old else "catalogue.photo_added",
        target=resource,
        detail=f"{resource.code}: {filename}",
    )
    return old


def remove_photo(actor: User, resource: Resource) -> str | None:
    """Take a resource's photo away; return the file's name, to delete once committed."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_("You do not manage the catalogue of this resource's facility."))
    old = resource.photo_filename
    if old is None:
        raise CatalogueError(_("This resource has no photo."))
    resource.photo_filename = None
    audit.record(actor, "catalogue.photo_removed", target=resource, detail=resource.code)
    return old


# --- closures ----------------------------------------------------------------------------------


def local_to_utc(value: datetime, zone_name: str, field_name: str) -> datetime:
    """A wall-clock time in ``zone_name`` as aware UTC; refuses times a clock change skips."""
    zone = ZoneInfo(zone_name)
    local = value.replace(tzinfo=zone)
    converted = local.astimezone(UTC)
    if converted.astimezone(zone).replace(tzinfo=None) != value.replace(tzinfo=None):
        raise CatalogueError(
            _("This time does not exist in %(zone)s (the clocks change).", zone=zone_name),
            field_name,
        )
    return converted


def closure_facility(closure: Closure) -> Facility:
    """The facility a closure belongs to (directly, or through its resource)."""
    return closure.facility if closure.facility is not None else closure.resource.facility


# What staff chose to do with active bookings inside a new closure.
KEEP_BOOKINGS = "keep"
CANCEL_BOOKINGS = "cancel"


class ClosureOverBookings(CatalogueError):
    """The closure covers active bookings: staff must choose to cancel or keep them first."""

    def __init__(self, affected: list, shown: str):
        super().__init__(
            ngettext(
                "This period covers %(num)d active booking. Choose what happens to it.",
                "This period covers %(num)d active bookings. Choose what happens to them.",
                len(affected),
            )
        )
        self.bookings = affected
        self.shown = shown


def create_closure(
    actor: User,
    facility: Facility,
    *,
    resource: Resource | None,
    starts_local: datetime,
    ends_local: datetime,
    reason: str,
    on_bookings: str | None = None,
    shown_bookings: str = "",
) -> Closure:
    """Close a whole facility or one of its resources for a period given in the facility's zone.

    Active bookings in the period are never handled silently: unless ``on_bookings`` says to
    cancel (and notify) or keep them, and ``shown_bookings`` names exactly the bookings the user
    saw, :class:`ClosureOverBookings` is raised before anything is written.
    """
    if not can_edit_facility(actor, facility):
        raise NotAllowed(_("You do not manage %(facility)s.", facility=facility.code))
    if resource is not None and resource.facility_id != facility.id:
        raise CatalogueError(_("Choose a resource of this facility."), "scope")
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError(_("Give a reason."), "reason")
    if len(reason) > 300:
        raise CatalogueError(_("Use at most %(count)d characters.", count=300), "reason")
    starts_at = local_to_utc(starts_local, facility.timezone, "starts_at")
    ends_at = local_to_utc(ends_local, facility.timezone, "ends_at")
    if ends_at <= starts_at:
        raise CatalogueError(_("The end must be after the start."), "ends_at")
    if ends_at <= utcnow():
        raise CatalogueError(_("This period is already over."), "ends_at")
    # Booking writes lock their resource row first; so do we, so the list below stays true.
    booking_staff.lock_scope(facility, resource)
    affected = booking_staff.bookings_in_period(facility, resource, starts_at, ends_at)
    affected_ids = booking_staff.affected_ids_text(affected)
    if affected and (
        on_bookings not in (KEEP_BOOKINGS, CANCEL_BOOKINGS) or shown_bookings != affected_ids
    ):
        raise ClosureOverBookings(affected, affected_ids)
    closure = Closure(
        facility=None if resource is not None else facility,
        resource=resource,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by_id=actor.id,
    )
    db.session.add(closure)
    db.session.flush()
    scope = resource.code if resource is not None else facility.code
    detail = f"{scope} {starts_at.isoformat()} to {ends_at.isoformat()}: {reason}"
    if affected:
        verb = "cancelled" if on_bookings == CANCEL_BOOKINGS else "kept"
        detail += f" ({verb} bookings {affected_ids})"
    audit.record(actor, "catalogue.closure_created", target=closure, detail=detail)
    if affected and on_bookings == CANCEL_BOOKINGS:
        booking_staff.cancel_for_closure(actor, affected, closure)
    return closure


def delete_closure(actor: User, closure: Closure) -> None:
    """Remove a closure that has not ended yet (past closures stay as history)."""
    facility = closure_facility(closure)
    if not can_edit_facility(actor, facility):
        raise NotAllowed(_("You do not manage %(facility)s.", facility=facility.code))
    if closure.ends_at <= utcnow():
        raise CatalogueError(_("Past closures are kept as history and cannot be deleted."))
    scope = closure.resource.code if closure.resource is not None else facility.code
    audit.record(
        actor,
        "catalogue.closure_deleted",
        target=closure,
        detail=f"{scope} {closure.starts_at.isoformat()} to {closure.ends_at.isoformat()}: "
        f"{closure.reason}",
    )
    db.session.delete(closure)
    db.session.flush()


def facility_closures(facility: Facility, since: datetime) -> list[Closure]:
    """Closures of a facility and of its resources that end after ``since``, by start."""
    resource_ids = select(Resource.id).where(Resource.facility_id == facility.id)
    return list(
        db.session.scalars(
            select(Closure)
            .options(selectinload(Closure.resource), selectinload(Closure.created_by))
            .where(
                (Closure.facility_id == facility.id) | Closure.resource_id.in_(resource_ids),
                Closure.ends_at > since,
            )
            .order_by(Closure.starts_at, Closure.id)
        )
    )
