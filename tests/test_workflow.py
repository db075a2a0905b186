"""The transition table, exhaustively: every state x action x role, allowed or refused."""

import itertools

import pytest

from rrc.extensions import db
from rrc.models import (
    ApprovalStep,
    ApprovalStepKind,
    RequestStatus,
    ResourceRequest,
    StepState,
)
from rrc.requests.workflow import (
    ALLOWED_ROLES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    allowed_actions,
    next_status,
)

S = RequestStatus
A = Action

# What each state allows at all, written out independently of the table under test.
EXPECTED_MOVES = {
    S.DRAFT: {A.SUBMIT: {S.IN_REVIEW, S.APPROVED}, A.CANCEL: {S.CANCELLED}},
    S.IN_REVIEW: {
        A.APPROVE: {S.IN_REVIEW, S.APPROVED},
        A.REJECT: {S.REJECTED},
        A.REQUEST_CHANGES: {S.CHANGES_REQUESTED},
        A.SKIP_STEP: {S.IN_REVIEW, S.APPROVED},
        A.REASSIGN_STEP: {S.IN_REVIEW},
        A.CANCEL: {S.CANCELLED},
    },
    S.CHANGES_REQUESTED: {A.RESUBMIT: {S.IN_REVIEW}, A.CANCEL: {S.CANCELLED}},
    S.APPROVED: {A.START: {S.IN_PROGRESS}, A.CANCEL: {S.CANCELLED}},
    S.IN_PROGRESS: {A.COMPLETE: {S.COMPLETED}},
    S.COMPLETED: {},
    S.REJECTED: {},
    S.CANCELLED: {},
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(S, A)))
def test_every_state_and_action(status, action):
    allowed = EXPECTED_MOVES[status].get(action)
    if allowed is None:
        assert (status, action) not in TRANSITIONS
        with pytest.raises(IllegalTransition):
            next_status(status, action, last_step=False)
        return
    reached = {next_status(status, action, last_step=last) for last in (False, True)}
    assert reached == allowed


DECIDE = {A.APPROVE, A.REJECT, A.REQUEST_CHANGES}
MANAGE_STEPS = {A.SKIP_STEP, A.REASSIGN_STEP}


def expected_actions(role: str, status: RequestStatus, step_kind: ApprovalStepKind) -> set:
    """Who may do what, written out by hand for each role."""
    if role == "requester":
        return {
            S.DRAFT: {A.SUBMIT, A.CANCEL},
            S.IN_REVIEW: {A.CANCEL},
            S.CHANGES_REQUESTED: {A.RESUBMIT, A.CANCEL},
            S.APPROVED: {A.CANCEL},
        }.get(status, set())
    run_work = {S.APPROVED: {A.START}, S.IN_PROGRESS: {A.COMPLETE}}
    if role == "admin":
        return (DECIDE | MANAGE_STEPS) if status == S.IN_REVIEW else run_work.get(status, set())
    if role == "coordinator":
        if status == S.IN_REVIEW:
            return MANAGE_STEPS | (DECIDE if step_kind == ApprovalStepKind.COORDINATOR else set())
        return run_work.get(status, set())
    if role == "facility_manager":
        if status == S.IN_REVIEW:
            return DECIDE if step_kind == ApprovalStepKind.FACILITY_MANAGER else set()
        return run_work.get(status, set())
    if role == "biosafety_officer":
        if status == S.IN_REVIEW and step_kind == ApprovalStepKind.BIOSAFETY:
            return DECIDE
        return set()
    # org_manager, other_partner, other_facility_manager, pending partner: nothing.
    return set()


ROLES = [
    "requester",
    "org_manager",
    "other_partner",
    "coordinator",
    "facility_manager",
    "other_facility_manager",
    "biosafety_officer",
    "admin",
    "unapproved_requester",
]


@pytest.fixture
def cast(factory):
    facility = factory.facility()
    organisation = factory.organisation()
    resource = factory.resource(
        facility=facility, approval_chain=["coordinator", "facility_manager", "biosafety"]
    )
    requester = factory.partner(organisation=organisation)
    from rrc.models import UserStatus

    users = {
        "requester": requester,
        "org_manager": factory.partner(organisation=organisation, is_org_manager=True),
        "other_partner": factory.partner(),
        "coordinator": factory.coordinator(),
        "facility_manager": factory.facility_manager(facility),
        "other_facility_manager": factory.facility_manager(factory.facility()),
        "biosafety_officer": factory.staff(is_biosafety_officer=True),
        "admin": factory.admin(),
        "unapproved_requester": requester,
    }
    return {
        "resource": resource,
        "requester": requester,
        "users": users,
        "suspend": lambda user: setattr(user, "status", UserStatus.SUSPENDED),
    }


@pytest.mark.parametrize("step_kind", list(ApprovalStepKind))
@pytest.mark.parametrize("status", list(S))
def test_every_role_in_every_state(cast, status, step_kind):
    resource_request = ResourceRequest(
        reference=f"RRC-2026-{list(S).index(status):02d}{list(ApprovalStepKind).index(step_kind)}",
        requester=cast["requester"],
        organisation=cast["requester"].organisation,
        resource=cast["resource"],
        status=status,
    )
    if status == S.IN_REVIEW:
        resource_request.steps = [ApprovalStep(position=1, kind=step_kind, state=StepState.PENDING)]
    db.session.add(resource_request)
    db.session.flush()
    for role in ROLES:
        user = cast["users"][role]
        if role == "unapproved_requester":
            cast["suspend"](user)
            expected = set()
        else:
            expected = expected_actions(role, status, step_kind)
        actual = set(allowed_actions(user, resource_request))
        assert actual == expected, (role, status, step_kind)
        # The table agrees: each allowed action is a legal move for one of the user's roles.
        for action in actual:
            assert (status, action) in TRANSITIONS and ALLOWED_ROLES[action]
    db.session.rollback()
