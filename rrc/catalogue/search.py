"""Finding resources: text search, facets, sorting; a constant number of queries per page."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from rrc.extensions import db
from rrc.models import BookingMode, Closure, Facility, Resource, ResourceKind
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


def resource_statement(query: CatalogueQuery, *, include_retired: bool = False) -> Select:
    """The SELECT of resources matching ``query``, sorted, with what list pages show loaded."""
    statement = (
        select(Resource)
        .join(Resource.facility)
        .options(selectinload(Resource.rates), selectinload(Resource.facility))
    )
    if not include_retired:
        statement = statement.where(Resource.active.is_(True), Facility.active.is_(True))
    if query.text.strip():
        statement = statement.where(*_text_condition(query.text))
    if query.facility:
        statement = statement.where(Facility.code == query.facility)
    if query.kind is not None:
        statement = statement.where(Resource.kind == query.kind)
    if query.biosafety_level is not None:
        statement = statement.where(Resource.biosafety_level == query.biosafety_level)
    if query.booking_mode is not None:
        statement = statement.where(Resource.booking_mode == query.booking_mode)
    return statement.order_by(*SORTS.get(query.sort, SORTS["code"]))


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
