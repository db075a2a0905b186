"""The public catalogue: browse, search, resource pages."""

import re
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from rrc.catalogue import search
from rrc.catalogue.forms import FACET_FIELDS, CatalogueFilterForm, biosafety_label
from rrc.catalogue.photos import photo_file
from rrc.catalogue.search import PriceText
from rrc.i18n import datetime_in_zone
from rrc.labels import label
from rrc.models import DocumentType, Facility, PriceTier, Resource, UserStatus
from rrc.requests.requirements import blocks, needs_ibc

blueprint = Blueprint("catalogue", __name__, url_prefix="/catalogue")

# The RRC coordinators' mailbox, used when no reply-to address is configured.
COORDINATORS_EMAIL = "rrc@ip-korea.org"
PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
PHOTO_MAX_AGE = 24 * 3600
MAX_PAGE = 10_000
# Facet URL parameter → the key of search.facet_counts.
FACET_COUNT_KEYS = {
    "facility": "facility",
    "kind": "kind",
    "bsl": "biosafety_level",
    "mode": "booking_mode",
}


def coordinators_email() -> str:
    """The RRC coordinators' address: the configured reply-to mailbox, else rrc@ip-korea.org."""
    configured = parseaddr(current_app.config.get("MAIL_REPLY_TO") or "")[1]
    return configured if "@" in configured else COORDINATORS_EMAIL


def _locale() -> str:
    return str(get_locale() or "en")


def _facility_name(facility: Facility, locale: str) -> str:
    return (locale == "ko" and facility.name_ko) or facility.name


def _photo_url(resource: Resource) -> str | None:
    """The photo's URL; the stored name in ``v`` gives a replaced photo a new URL."""
    if not resource.photo_filename:
        return None
    return url_for("catalogue.photo", code=resource.code, v=resource.photo_filename[:12])


@dataclass(frozen=True)
class ResourceCard:
    """What a row of the list shows, already localized."""

    resource: Resource
    name: str
    summary: str
    facility_name: str
    unit: str
    price: PriceText | None
    price_is_from: bool
    photo_url: str | None


def _card(resource: Resource, tier: PriceTier | None, locale: str) -> ResourceCard:
    if tier is not None:
        price, price_is_from = search.price_text(resource, tier, locale), False
    else:
        price, price_is_from = search.lowest_public_price(resource, locale), True
    return ResourceCard(
        resource=resource,
        name=resource.localized("name", locale),
        summary=resource.localized("summary", locale),
        facility_name=_facility_name(resource.facility, locale),
        unit=resource.localized("unit_label", locale),
        price=price,
        price_is_from=price_is_from,
        photo_url=_photo_url(resource),
    )


@dataclass(frozen=True)
class ActiveFilter:
    """A filter in force, with the link that removes it."""

    name: str
    value: str
    remove_url: str


def _list_args(form: CatalogueFilterForm, **changes: str) -> dict[str, str]:
    """The valid parameters of the list, changed by ``changes`` ("" removes one); no page."""
    args = {name: form.valid_value(name) for name in ("q", *FACET_FIELDS, "sort")}
    args.update(changes)
    if args.get("sort") == "code":
        del args["sort"]
    return {name: value for name, value in args.items() if value}


def _active_filters(form: CatalogueFilterForm) -> list[ActiveFilter]:
    filters = []
    if form.valid_value("q"):
        filters.append(
            ActiveFilter(
                str(form.q.label.text),
                form.valid_value("q"),
                url_for("catalogue.index", **_list_args(form, q="")),
            )
        )
    for name in FACET_FIELDS:
        value = form.valid_value(name)
        if value:
            shown = {choice.value: choice.label for choice in form[name].choices}
            filters.append(
                ActiveFilter(
                    str(form[name].label.text),
                    str(shown.get(value, value)),
                    url_for("catalogue.index", **_list_args(form, **{name: ""})),
                )
            )
    return filters


def _label_counts(form: CatalogueFilterForm, counts: dict[str, dict]) -> None:
    """Write each facet option's number of matching resources beside its label."""
    for name, key in FACET_COUNT_KEYS.items():
        by_value = {str(value): count for value, count in counts[key].items()}
        field = form[name]
        field.choices = [
            choice
            if not choice.value
            else SelectChoice(choice.value, f"{choice.label} ({by_value.get(choice.value, 0)})")
            for choice in field.choices
        ]


@blueprint.get("/")
def index():
    """Active resources: text search, facets with counts, sorting, pages."""
    locale = _locale()
    form = CatalogueFilterForm(request.args)
    form.set_facilities(search.active_facilities(), locale)
    form.validate()
    query = form.to_query(locale)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    pagination = search.search(query, page=page)
    active_filters = _active_filters(form)
    _label_counts(form, search.facet_counts(query))
    tier = search.viewer_tier(current_user)
    return render_template(
        "catalogue/index.html",
        form=form,
        query=query,
        pagination=pagination,
        cards=[_card(resource, tier, locale) for resource in pagination.items],
        tier=tier,
        active_filters=active_filters,
        text_only_url=url_for("catalogue.index", q=query.text) if query.text else None,
        first_page_url=url_for("catalogue.index", **_list_args(form)),
        coordinators_email=coordinators_email(),
    )


def _public_resource_or_404(code: str) -> Resource:
    resource = search.public_resource(code)
    if resource is None:
        abort(404)
    return resource


def paragraphs(text: str) -> list[list[str]]:
    """Split plain text into paragraphs (blank lines) of lines, to render without ``|safe``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [block.strip("\n").split("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def duration_text(minutes: int) -> str:
    """A duration in hours and minutes ("1 hour", "90 minutes" → "1 h 30 min")."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
    if hours:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _zone(facility: Facility) -> str:
    try:
        ZoneInfo(facility.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return current_app.config["DEFAULT_TIMEZONE"]
    return facility.timezone


@dataclass(frozen=True)
class OpeningDay:
    """One weekday of the opening hours ("" hours: closed)."""

    day: str
    hours: str


def _opening_days(resource: Resource) -> tuple[list[OpeningDay], bool]:
    """The week's opening hours, and whether they are the resource's own (not the facility's)."""
    own = bool(resource.opening_hours)
    hours = (resource.opening_hours if own else resource.facility.opening_hours) or {}
    day_names = get_locale().days["format"]["wide"]
    week = []
    for iso_day in range(1, 8):
        value = hours.get(str(iso_day))
        if isinstance(value, list | tuple):
            text = "\u2013".join(str(part) for part in value)
        else:
            text = str(value or "")
        week.append(OpeningDay(day_names[iso_day - 1], text))
    return week, own


@dataclass(frozen=True)
class ClosureText:
    """An upcoming closure written in the facility's time zone."""

    starts: str
    ends: str
    reason: str
    whole_facility: bool


def _documents(resource: Resource) -> list[DocumentType | str]:
    """The required documents; an unknown stored value is shown as it is rather than failing."""
    documents: list[DocumentType | str] = []
    for value in resource.required_documents or []:
        try:
            documents.append(DocumentType(value))
        except ValueError:
            documents.append(str(value))
    return documents


def _chain(resource: Resource) -> list[str]:
    """The approval chain's step kinds as plain strings (unknown ones kept, never a 500)."""
    return [str(value) for value in resource.approval_chain or []]


def _requirements(resource: Resource) -> dict:
    """Context of the "what your request must carry" and "who decides" partials."""
    return {
        "blocks": blocks(resource),
        "needs_ibc": needs_ibc(resource),
        "documents": _documents(resource),
        "chain": _chain(resource),
    }


def _contact(resource: Resource) -> dict:
    facility = resource.facility
    return {
        "facility_email": facility.contact_email,
        "facility_phone": facility.contact_phone,
        "coordinators_email": coordinators_email(),
    }


@blueprint.get("/<code>")
def resource(code: str):
    """One resource: what it is, where, the rules, what a request needs, who decides, prices."""
    item = _public_resource_or_404(code)
    locale = _locale()
    zone = _zone(item.facility)
    tier = search.viewer_tier(current_user)
    opening_days, own_hours = _opening_days(item)
    closures = [
        ClosureText(
            starts=datetime_in_zone(closure.starts_at, zone),
            ends=datetime_in_zone(closure.ends_at, zone),
            reason=closure.reason,
            whole_facility=closure.resource_id is None,
        )
        for closure in search.upcoming_closures(item)
    ]
    tiers = search.visible_tiers(current_user)
    return render_template(
        "catalogue/resource.html",
        resource=item,
        name=item.localized("name", locale),
        summary=item.localized("summary", locale),
        description=paragraphs(item.localized("description", locale)),
        unit=item.localized("unit_label", locale),
        facility_name=_facility_name(item.facility, locale),
        photo_url=_photo_url(item),
        biosafety=biosafety_label(item.biosafety_level),
        tier=tier,
        your_price=search.price_text(item, tier, locale) if tier is not None else None,
        prices=[search.price_text(item, each, locale) for each in tiers],
        organisation_verified=tier is not None and current_user.organisation.is_verified,
        durations={
            "granularity": duration_text(item.slot_granularity_minutes),
            "min": duration_text(item.min_duration_minutes),
            "max": duration_text(item.max_duration_minutes),
            "buffer": duration_text(item.buffer_minutes) if item.buffer_minutes else "",
            "unit": duration_text(item.unit_minutes) if item.unit_minutes else "",
        },
        opening_days=opening_days,
        own_hours=own_hours,
        zone=zone,
        closures=closures,
        contact=_contact(item),
        **_requirements(item),
    )


@blueprint.get("/<code>/photo")
def photo(code: str):
    """The resource's photo (re-encoded at upload, so only ever a JPEG or PNG image)."""
    filename = search.public_photo_filename(code)
    mimetype = PHOTO_TYPES.get(Path(filename or "").suffix.lower())
    if not filename or mimetype is None:
        abort(404)
    try:
        path = photo_file(filename)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mimetype, max_age=PHOTO_MAX_AGE, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _audience(user) -> str:
    """Who is looking: a visitor, staff, a partner still being vetted, or one who may request."""
    if not user.is_authenticated:
        return "visitor"
    if user.is_staff:
        return "staff"
    if user.status != UserStatus.ACTIVE or (
        user.organisation is None or not user.organisation.is_verified
    ):
        return "pending"
    return "partner"


def request_url(item) -> str:
    """Where "Request this" leads: the request form for partners who may request, else how to."""
    if _audience(current_user) == "partner":
        return url_for("requests.new", resource_code=item.code)
    return url_for("catalogue.apply", code=item.code)


@blueprint.get("/<code>/apply")
def apply(code: str):
    """How to request this resource: what to prepare, who decides, and the way to the form."""
    item = _public_resource_or_404(code)
    locale = _locale()
    contact = _contact(item)
    name = item.localized("name", locale)
    user = current_user
    audience = _audience(user)
    return render_template(
        "catalogue/apply.html",
        resource=item,
        name=name,
        unit=item.localized("unit_label", locale),
        facility_name=_facility_name(item.facility, locale),
        audience=audience,
        contact=contact,
        request_form_url=url_for("requests.new", resource_code=item.code),
        login_url=url_for("auth.login", next=url_for("catalogue.apply", code=item.code)),
        tier_label=label(search.viewer_tier(user)) if audience == "partner" else "",
        **_requirements(item),
    )


@blueprint.app_context_processor
def _catalogue_helpers() -> dict:
    return {"request_url": request_url}
