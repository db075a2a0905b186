"""The request life cycle as data: which action moves which state where, and who may act.

Side-effect free: :mod:`rrc.requests.services` performs transitions, writes the timeline and queues
mail in one transaction. See DESIGN.md §3.
"""

import enum

from rrc.models import (
    ApprovalStepKind,
    Capability,
    RequestStatus,
    ResourceRequest,
    StepState,
    User,
)

S = RequestStatus


class Action(enum.StrEnum):
    """Everything that can happen to a request."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    RESUBMIT = "resubmit"
    CANCEL = "cancel"
    START = "start"
    COMPLETE = "complete"
    SKIP_STEP = "skip_step"
    REASSIGN_STEP = "reassign_step"


class Role(enum.StrEnum):
    """How a user relates to one request."""

    REQUESTER = "requester"
    ORG_MANAGER = "org_manager"
    DECIDER = "decider"  # may decide the current approval step
    FACILITY_MANAGER = "facility_manager"  # manages the resource's facility
    COORDINATOR = "coordinator"
    ADMIN = "admin"


# (state, action) -> the states the action may lead to. Where two are listed, the last approval
# step decides: approving (or skipping) the final step, or submitting a request whose resource
# needs no approval, gives APPROVED; otherwise review continues.
TRANSITIONS: dict[tuple[RequestStatus, Action], tuple[RequestStatus, ...]] = {
    (S.DRAFT, Action.SUBMIT): (S.IN_REVIEW, S.APPROVED),
    (S.IN_REVIEW, Action.APPROVE): (S.IN_REVIEW, S.APPROVED),
    (S.IN_REVIEW, Action.REJECT): (S.REJECTED,),
    (S.IN_REVIEW, Action.REQUEST_CHANGES): (S.CHANGES_REQUESTED,),
    (S.IN_REVIEW, Action.SKIP_STEP): (S.IN_REVIEW, S.APPROVED),
    (S.IN_REVIEW, Action.REASSIGN_STEP): (S.IN_REVIEW,),
    (S.CHANGES_REQUESTED, Action.RESUBMIT): (S.IN_REVIEW,),
    (S.DRAFT, Action.CANCEL): (S.CANCELLED,),
    (S.IN_REVIEW, Action.CANCEL): (S.CANCELLED,),
    (S.CHANGES_REQUESTED, Action.CANCEL): (S.CANCELLED,),
    (S.APPROVED, Action.CANCEL): (S.CANCELLED,),
    (S.APPROVED, Action.START): (S.IN_PROGRESS,),
    (S.IN_PROGRESS, Action.COMPLETE): (S.COMPLETED,),
}

# Who may perform each action (one of these roles suffices).
ALLOWED_ROLES: dict[Action, frozenset[Role]] = {
    Action.SUBMIT: frozenset({Role.REQUESTER}),
    Action.RESUBMIT: frozenset({Role.REQUESTER}),
    Action.CANCEL: frozenset({Role.REQUESTER}),
    Action.APPROVE: frozenset({Role.DECIDER}),
    Action.REJECT: frozenset({Role.DECIDER}),
    Action.REQUEST_CHANGES: frozenset({Role.DECIDER}),
    Action.START: frozenset({Role.FACILITY_MANAGER, Role.COORDINATOR, Role.ADMIN}),
    Action.COMPLETE: frozenset({Role.FACILITY_MANAGER, Role.COORDINATOR, Role.ADMIN}),
    Action.SKIP_STEP: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.REASSIGN_STEP: frozenset({Role.COORDINATOR, Role.ADMIN}),
}


class IllegalTransition(Exception):
    """The action is not possible in the request's state, or not for this user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def next_status(status: RequestStatus, action: Action, *, last_step: bool) -> RequestStatus:
    """The state ``action`` leads to from ``status`` (``last_step``: no approval step remains)."""
    targets = TRANSITIONS.get((status, action))
    if targets is None:
        raise IllegalTransition(f"{action} is not possible when the request is {status}")
    if len(targets) == 1:
        return targets[0]
    return targets[1] if last_step else targets[0]


def step_capability(kind: ApprovalStepKind) -> Capability:
    """The staff capability that decides a step of ``kind``."""
    return {
        ApprovalStepKind.COORDINATOR: Capability.COORDINATOR,
        ApprovalStepKind.FACILITY_MANAGER: Capability.FACILITY_MANAGER,
        ApprovalStepKind.BIOSAFETY: Capability.BIOSAFETY_OFFICER,
    }[kind]


def may_decide_step(user: User, resource_request: ResourceRequest, step) -> bool:
    """True if ``user`` may decide ``step`` (capability, facility, assignment; admins always)."""
    if not user.is_staff or not user.is_approved:
        return False
    if user.has_capability(Capability.ADMIN):
        return True
    if step.assignee_id is not None:
        return step.assignee_id == user.id
    return may_decide_kind(user, resource_request, step.kind)


def may_decide_kind(user: User, resource_request: ResourceRequest, kind: ApprovalStepKind) -> bool:
    """True if ``user`` could decide a step of ``kind`` here, whoever the step is assigned to."""
    if not user.is_staff or not user.is_approved:
        return False
    if user.has_capability(Capability.ADMIN):
        return True
    if not user.has_capability(step_capability(kind)):
        return False
    if kind == ApprovalStepKind.FACILITY_MANAGER:
        return resource_request.resource.facility.is_managed_by(user)
    return True


def roles_of(user: User, resource_request: ResourceRequest) -> frozenset[Role]:
    """Every role ``user`` holds towards ``resource_request``."""
    roles: set[Role] = set()
    if not user.is_authenticated or not user.is_approved:
        return frozenset()
    if user.is_partner:
        organisation = user.organisation
        if organisation is None or not organisation.is_verified:
            return frozenset()  # a suspended or unverified organisation's members cannot act
        if resource_request.requester_id == user.id:
            roles.add(Role.REQUESTER)
        if user.is_org_manager and user.organisation_id == resource_request.organisation_id:
            roles.add(Role.ORG_MANAGER)
        return frozenset(roles)
    if user.has_capability(Capability.ADMIN):
        roles.add(Role.ADMIN)
    if user.has_capability(Capability.COORDINATOR):
        roles.add(Role.COORDINATOR)
    if user.has_capability(
        Capability.FACILITY_MANAGER
    ) and resource_request.resource.facility.is_managed_by(user):
        roles.add(Role.FACILITY_MANAGER)
    step = resource_request.current_step
    if (
        resource_request.status == RequestStatus.IN_REVIEW
        and step is not None
        and step.state == StepState.PENDING
        and may_decide_step(user, resource_request, step)
    ):
        roles.add(Role.DECIDER)
    return frozenset(roles)


def allowed_actions(user: User, resource_request: ResourceRequest) -> list[Action]:
    """The actions ``user`` may take on the request right now (drives the buttons shown)."""
    roles = roles_of(user, resource_request)
    return [
        action
        for action in Action
        if (resource_request.status, action) in TRANSITIONS and roles & ALLOWED_ROLES[action]
    ]


def can_view(user: User, resource_request: ResourceRequest) -> bool:
    """Requester, their organisation's managers, and staff see a request."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return user.is_approved
    return resource_request.requester_id == user.id or (
        user.is_org_manager and user.organisation_id == resource_request.organisation_id
    )


def can_comment(user: User, resource_request: ResourceRequest) -> bool:
    """Whoever sees an open or finished request may comment (partners: not on drafts of others)."""
    return can_view(user, resource_request) and user.is_approved


def can_upload(user: User, resource_request: ResourceRequest) -> bool:
    """The requester (until the request is closed) and staff may add documents."""
    if not can_view(user, resource_request):
        return False
    if user.is_staff:
        return True
    return resource_request.requester_id == user.id and resource_request.status in (
        RequestStatus.DRAFT,
        RequestStatus.IN_REVIEW,
        RequestStatus.CHANGES_REQUESTED,
        RequestStatus.APPROVED,
        RequestStatus.IN_PROGRESS,
    )


def can_edit(user: User, resource_request: ResourceRequest) -> bool:
    """The requester edits a draft, or a request sent back for changes."""
    return (
        user.is_authenticated
        and resource_request.requester_id == user.id
        and resource_request.status in (RequestStatus.DRAFT, RequestStatus.CHANGES_REQUESTED)
    )
