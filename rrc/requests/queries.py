"""Staff queues as SQL: which approval steps wait for whom, and the filtered list of requests.

"Who may decide" is decided by the database here (joins on the step's state, kind and assignee and
on the facility-manager association) so that a queue costs the same few queries for any number
of rows. The rule mirrors :func:`rrc.requests.workflow.may_decide_step`; a test compares the two.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from rrc.extensions import db
from rrc.models import (
    ApprovalStep,
    ApprovalStepKind,
    Capability,
    Facility,
    Organisation,
    RequestStatus,
    Resource,
    ResourceRequest,
    StepState,
    User,
    facility_manager,
)

# The order of a request's life, for sorting by status.
STATUS_ORDER = {status: position for position, status in enumerate(RequestStatus)}

SORT_KEYS = ("submitted", "updated", "reference", "status")


def like_pattern(text: str) -> str:
    """A case-insensitive ``LIKE`` pattern matching ``text`` anywhere (wildcards escaped)."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, text: str) -> ColumnElement[bool]:
    return func.lower(column).like(like_pattern(text), escape="\\")


# --- waiting for me ----------------------------------------------------------------------


def decidable_by(user: User) -> ColumnElement[bool]:
    """SQL condition: ``user`` may decide the approval step (as ``workflow.may_decide_step``).

    The statement it is used in must select from ``ApprovalStep`` joined to ``ResourceRequest``.
    """
    if not (user.is_staff and user.is_approved):
        return false()
    if user.has_capability(Capability.ADMIN):
        return true()
    by_capability: list[ColumnElement[bool]] = []
    if user.has_capability(Capability.COORDINATOR):
        by_capability.append(ApprovalStep.kind == ApprovalStepKind.COORDINATOR)
    if user.has_capability(Capability.BIOSAFETY_OFFICER):
        by_capability.append(ApprovalStep.kind == ApprovalStepKind.BIOSAFETY)
    if user.has_capability(Capability.FACILITY_MANAGER):
        managed_resources = (
            select(Resource.id)
            .join(facility_manager, facility_manager.c.facility_id == Resource.facility_id)
            .where(facility_manager.c.user_id == user.id)
        )
        by_capability.append(
            and_(
                ApprovalStep.kind == ApprovalStepKind.FACILITY_MANAGER,
                ResourceRequest.resource_id.in_(managed_resources),
            )
        )
    assigned_to_user = ApprovalStep.assignee_id == user.id
    if not by_capability:
        return assigned_to_user
    return or_(assigned_to_user, and_(ApprovalStep.assignee_id.is_(None), or_(*by_capability)))


def current_steps() -> Select:
    """Steps waiting for a decision now: the pending step of each request in review."""
    return (
        select(ApprovalStep)
        .join(ApprovalStep.resource_request)
        .where(
            ApprovalStep.state == StepState.PENDING,
            ResourceRequest.status == RequestStatus.IN_REVIEW,
        )
    )


def _with_request_details(statement: Select) -> Select:
    """Eager-load what a queue row shows, in the same query (no query per row)."""
    return statement.options(
        contains_eager(ApprovalStep.resource_request).options(
            joinedload(ResourceRequest.resource).joinedload(Resource.facility),
            joinedload(ResourceRequest.organisation),
            joinedload(ResourceRequest.requester),
        ),
        joinedload(ApprovalStep.assignee),
    )


def waiting_for(user: User) -> Select:
    """The current steps ``user`` may decide, longest waiting first, with their requests."""
    statement = current_steps().where(decidable_by(user))
    return _with_request_details(statement).order_by(
        ApprovalStep.pending_since.asc(), ApprovalStep.id.asc()
    )


def count_waiting_for(user: User) -> int:
    """How many requests wait for ``user``'s decision."""
    statement = (
        select(func.count(ApprovalStep.id))
        .join(ApprovalStep.resource_request)
        .where(
            ApprovalStep.state == StepState.PENDING,
            ResourceRequest.status == RequestStatus.IN_REVIEW,
            decidable_by(user),
        )
    )
    return db.session.scalar(statement) or 0


def overdue_steps(cutoff: datetime) -> list[ApprovalStep]:
    """Current steps pending since ``cutoff`` or earlier, with what a reminder needs to decide
    who is concerned (the facility's managers, the assignee)."""
    statement = _with_request_details(
        current_steps().where(ApprovalStep.pending_since <= cutoff)
    ).order_by(ApprovalStep.pending_since.asc(), ApprovalStep.id.asc())
    statement = statement.options(
        contains_eager(ApprovalStep.resource_request)
        .joinedload(ResourceRequest.resource)
        .joinedload(Resource.facility)
        .selectinload(Facility.managers)
    )
    return list(db.session.scalars(statement).unique())


# --- every request -----------------------------------------------------------------------


def count_by_status(statuses: list[RequestStatus]) -> dict[RequestStatus, int]:
    """Number of requests in each of ``statuses`` (zero when none), in one query."""
    rows = db.session.execute(
        select(ResourceRequest.status, func.count(ResourceRequest.id))
        .where(ResourceRequest.status.in_(statuses))
        .group_by(ResourceRequest.status)
    ).all()
    found = {RequestStatus(status): count for status, count in rows}
    return {status: found.get(status, 0) for status in statuses}


@dataclass
class RequestFilters:
    """What the all-requests list is narrowed and sorted by (empty values: no filter)."""

    status: RequestStatus | None = None
    facility_id: int | None = None
    resource: str = ""  # an id, or part of a code or name
    organisation: str = ""  # an id, or part of a name
    requester: str = ""
    text: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    sort: str = "submitted"
    descending: bool = True
    zone: str = "UTC"  # dates are calendar days in this time zone


def _start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _ordering(sort: str, descending: bool) -> list:
    if sort == "status":
        column = case(
            {status.value: position for status, position in STATUS_ORDER.items()},
            value=ResourceRequest.status,
        )
    elif sort == "updated":
        column = ResourceRequest.updated_at
    elif sort == "reference":
        column = ResourceRequest.reference
    else:
        column = ResourceRequest.submitted_at
    direction = column.desc() if descending else column.asc()
    if sort == "submitted":
        direction = direction.nulls_last()  # drafts, never submitted, come last either way
    tie_breaker = ResourceRequest.id.desc() if descending else ResourceRequest.id.asc()
    return [direction, tie_breaker]


def filtered_requests(filters: RequestFilters) -> Select:
    """Every request matching ``filters`` (drafts only when asked for by status), sorted, with
    what a list row shows eager-loaded."""
    statement = select(ResourceRequest).options(
        joinedload(ResourceRequest.resource).joinedload(Resource.facility),
        joinedload(ResourceRequest.organisation),
        joinedload(ResourceRequest.requester),
        selectinload(ResourceRequest.steps),
    )
    if filters.status is None:
        statement = statement.where(ResourceRequest.status != RequestStatus.DRAFT)
    else:
        statement = statement.where(ResourceRequest.status == filters.status)
    if filters.facility_id is not None:
        statement = statement.where(
            ResourceRequest.resource_id.in_(
                select(Resource.id).where(Resource.facility_id == filters.facility_id)
            )
        )
    if filters.resource.strip():
        statement = statement.where(
            ResourceRequest.resource_id.in_(
                _by_id_or_text(
                    Resource.id,
                    filters.resource,
                    (Resource.code, Resource.name, Resource.name_ko),
                )
            )
        )
    if filters.organisation.strip():
        statement = statement.where(
            ResourceRequest.organisation_id.in_(
                _by_id_or_text(
                    Organisation.id,
                    filters.organisation,
                    (Organisation.name, Organisation.local_name),
                )
            )
        )
    if filters.requester.strip():
        statement = statement.where(
            ResourceRequest.requester_id.in_(
                select(User.id).where(
                    or_(
                        _contains(User.name, filters.requester),
                        _contains(User.email, filters.requester),
                    )
                )
            )
        )
    if filters.text.strip():
        statement = statement.where(
            or_(
                _contains(ResourceRequest.reference, filters.text),
                _contains(ResourceRequest.title, filters.text),
                _contains(ResourceRequest.purpose, filters.text),
            )
        )
    if filters.submitted_from is not None:
        statement = statement.where(
            ResourceRequest.submitted_at >= _start_of_day(filters.submitted_from, filters.zone)
        )
    if filters.submitted_to is not None:
        end = _start_of_day(filters.submitted_to + timedelta(days=1), filters.zone)
        statement = statement.where(ResourceRequest.submitted_at < end)
    return statement.order_by(*_ordering(filters.sort, filters.descending))


def _by_id_or_text(key, text: str, columns: tuple) -> Select:
    """Ids of the rows whose id is ``text`` when it is a number, else of those with ``text`` in
    one of ``columns``."""
    if text.strip().isdigit():
        return select(key).where(key == int(text.strip()))
    return select(key).where(or_(*(_contains(column, text) for column in columns)))


def no_requests() -> Select:
    """A request list that is empty (shown while the filters hold errors)."""
    return select(ResourceRequest).where(false())


def filter_facilities() -> list[Facility]:
    """The facilities of the filter form (resources and organisations are typed)."""
    return list(db.session.scalars(select(Facility).order_by(Facility.name, Facility.id)))
