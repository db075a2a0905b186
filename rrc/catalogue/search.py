"""Finding resources: text search, facets, sorting; a constant number of queries per page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import selectinload

from rrc.catalogue.pricing import Money, tier_for
from rrc.extensions import db
from rrc.models import BookingMode, Closure, Facility, PriceTier, Resource, ResourceKind, User
from rrc.models.types import utcnow

SORTS = {
    "code": (Resource.code,),
    "name": (func.lower(Resource.name), Resource.code),
    "facility": (Facility.code, Resource.code),
    "biosafety": (Resource.biosafety_level.desc(), Resource.code),
}
PER_PAGE = 20


@dataclass
class CatalogueQuery:
    """What a visitor asked the catalogue for (validated values only)."""

    text: str = ""
    facility: str = ""
    kind: ResourceKind | None = None
    biosafety_level: int | None = None
    booking_mode: BookingMode | None = None
    sort: str = "code"
    # The reader's language: sorting by name follows the names they see.
    locale: str = "en"

    @property
    def is_filtered(self) -> bool:
        """True when any facet or search text narrows the list."""
        return bool(
            self.text.strip()
            or self.facility
            or self.kind is not None
            or self.biosafety_level is not None
            or self.booking_mode is not None
        )


def _text_condition(text: str):
    """Case-insensitive substring match over code, names, summaries and descriptions (both
    languages). Each word must match somewhere, so "hcs imager" finds the Operetta."""
    conditions = []
    for word in text.lower().split()[:8]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (
            Resource.code,
            Resource.name,
            Resource.name_ko,
            Resource.summary,
            Resource.summary_ko,
            Resource.description,
            Resource.description_ko,
            Facility.name,
            Facility.name_ko,
        )
        conditions.append(
            or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
        )
    return conditions


def _conditions(
    query: CatalogueQuery, *, include_retired: bool = False, without: str | None = None
) -> list[ColumnElement[bool]]:
    """WHERE conditions of ``query`` on Resource joined to Facility, minus facet ``without``."""
    conditions: list[ColumnElement[bool]] = []
    if not include_retired:
        conditions += [Resource.active.is_(True), Facility.active.is_(True)]
    if query.text.strip():
        conditions += _text_condition(query.text)
    if query.facility and without != "facility":
        conditions.append(Facility.code == query.facility)
    if query.kind is not None and without != "kind":
        conditions.append(Resource.kind == query.kind)
    if query.biosafety_level is not None and without != "biosafety_level":
        conditions.append(Resource.biosafety_level == query.biosafety_level)
    if query.booking_mode is not None and without != "booking_mode":
        conditions.append(Resource.booking_mode == query.booking_mode)
    return conditions


def _order(query: CatalogueQuery) -> tuple:
    """ORDER BY of ``query``: Korean readers sorting by name sort by the Korean names they see."""
    if query.sort == "name" and query.locale == "ko":
        korean_or_english = func.coalesce(func.nullif(Resource.name_ko, ""), Resource.name)
        return (func.lower(korean_or_english), Resource.code)
    return SORTS.get(query.sort, SORTS["code"])


def resource_statement(query: CatalogueQuery, *, include_retired: bool = False) -> Select:
    """The SELECT of resources matching ``query``, sorted, with what list pages show loaded."""
    statement = (
        select(Resource)
        .join(Resource.facility)
        .options(selectinload(Resource.rates), selectinload(Resource.facility))
    )
    statement = statement.where(*_conditions(query, include_retired=include_retired))
    return statement.order_by(*_order(query))


FACET_COLUMNS = {
    "facility": Facility.code,
    "kind": Resource.kind,
    "biosafety_level": Resource.biosafety_level,
    "booking_mode": Resource.booking_mode,
}


def facet_counts(query: CatalogueQuery) -> dict[str, dict]:
    """Per facet, value → number of matching active resources, counted with every other filter
    applied (one GROUP BY query per facet, however many resources there are)."""
    counts: dict[str, dict] = {}
    for name, column in FACET_COLUMNS.items():
        statement = (
            select(column, func.count(Resource.id))
            .select_from(Resource)
            .join(Resource.facility)
            .where(*_conditions(query, without=name))
            .group_by(column)
        )
        counts[name] = {value: count for value, count in db.session.execute(statement)}  # noqa: C416
    return counts


def search(query: CatalogueQuery, page: int = 1, per_page: int = PER_PAGE):
    """One page of matching active resources (a Flask-SQLAlchemy pagination)."""
    return db.paginate(
        resource_statement(query), page=page, per_page=per_page, error_out=False, max_per_page=100
    )


def active_facilities() -> list[Facility]:
    """Facilities shown in the catalogue's facet list."""
    return list(
        db.session.scalars(
            select(Facility).where(Facility.active.is_(True)).order_by(Facility.code)
        )
    )


def public_resource(code: str) -> Resource | None:
    """An active resource by code, with its facility, managers and rates."""
    return db.session.scalar(
        select(Resource)
        .join(Resource.facility)
        .options(
            selectinload(Resource.rates),
            selectinload(Resource.facility).selectinload(Facility.managers),
        )
        .where(Resource.code == code, Resource.active.is_(True), Facility.active.is_(True))
    )


def upcoming_closures(
    resource: Resource, now: datetime | None = None, days: int = 90
) -> list[Closure]:
    """Closures of the resource or its whole facility that end after now, within ``days``."""
    now = now or utcnow()
    horizon = now + timedelta(days=days)
    return list(
        db.session.scalars(
            select(Closure)
            .where(
                or_(
                    Closure.resource_id == resource.id, Closure.facility_id == resource.facility_id
                ),
                Closure.ends_at > now,
                Closure.starts_at < horizon,
            )
            .order_by(Closure.starts_at)
        )
    )


# --- Prices as each reader sees them --------------------------------------------------------

PUBLIC_TIERS = (PriceTier.ACADEMIC, PriceTier.SME, PriceTier.INDUSTRY)
ALL_TIERS = (PriceTier.INTERNAL, *PUBLIC_TIERS)


def viewer_tier(user: User) -> PriceTier | None:
    """The tier ``user`` pays: partners with an organisation only (None for visitors and staff).

    The internal rate needs a verified internal organisation: a pending sign-up claiming to be
    IPK does not see it."""
    if not user.is_authenticated or not user.is_partner or user.organisation is None:
        return None
    tier = tier_for(user.organisation)
    if tier == PriceTier.INTERNAL and not user.organisation.is_verified:
        return None
    return tier


def visible_tiers(user: User) -> tuple[PriceTier, ...]:
    """The tiers a rate table shows ``user``: the internal rate only to staff and internal users."""
    if user.is_authenticated and (user.is_staff or viewer_tier(user) == PriceTier.INTERNAL):
        return ALL_TIERS
    return PUBLIC_TIERS


@dataclass(frozen=True)
class PriceText:
    """One tier's price of a resource, written for the reader."""

    tier: PriceTier
    offered: bool  # False: no rate set for this tier
    on_quote: bool = False
    free: bool = False
    unit_price: str = ""
    setup_fee: str = ""


def price_text(resource: Resource, tier: PriceTier, locale: str) -> PriceText:
    """The price of one unit of ``resource`` for ``tier`` (rates must be loaded)."""
    rate = resource.rate_for(tier)
    if rate is None:
        return PriceText(tier=tier, offered=False)
    setup_fee = Money(rate.setup_fee, resource.currency).format(locale) if rate.setup_fee else ""
    if rate.on_quote:
        return PriceText(tier=tier, offered=True, on_quote=True, setup_fee=setup_fee)
    unit_price = rate.unit_price or 0
    return PriceText(
        tier=tier,
        offered=True,
        free=unit_price == 0 and not rate.setup_fee,
        unit_price=Money(unit_price, resource.currency).format(locale),
        setup_fee=setup_fee,
    )


def lowest_public_price(resource: Resource, locale: str) -> PriceText | None:
    """The cheapest priced public tier ("from ₩60,000"); None when every tier is on quote."""
    priced = [
        rate
        for rate in resource.rates
        if rate.tier in PUBLIC_TIERS and not rate.on_quote and rate.unit_price is not None
    ]
    if not priced:
        return None
    cheapest = min(priced, key=lambda rate: (rate.unit_price, PUBLIC_TIERS.index(rate.tier)))
    return price_text(resource, cheapest.tier, locale)


def public_photo_filename(code: str) -> str | None:
    """The stored photo name of an active resource (None when it has none or is not public)."""
    return db.session.scalar(
        select(Resource.photo_filename)
        .join(Resource.facility)
        .where(Resource.code == code, Resource.active.is_(True), Facility.active.is_(True))
    )
