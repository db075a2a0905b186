"""Vetting: coordinators approve or reject new partners and the organisations they propose."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rrc import audit
from rrc.extensions import db
from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import Capability, Organisation, OrganisationStatus, User, UserKind, UserStatus
from rrc.models.types import utcnow


class VettingError(Exception):
    """The decision cannot be taken (already decided, missing reason, no right)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def can_vet(user: User) -> bool:
    """Coordinators (and admins) vet partners and organisations."""
    return user.has_capability(Capability.COORDINATOR)


def _require_vetter(actor: User) -> None:
    if not can_vet(actor):
        raise VettingError(_("Only coordinators can vet partners."))


def pending_users() -> list[User]:
    """Verified partners waiting for a decision, oldest first, with their organisations."""
    return list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.organisation), selectinload(User.consents))
            .where(User.kind == UserKind.PARTNER, User.status == UserStatus.PENDING_APPROVAL)
            .order_by(User.email_verified_at, User.id)
        )
    )


def pending_organisations() -> list[Organisation]:
    """Proposed organisations waiting for a decision, oldest first, with their members."""
    return list(
        db.session.scalars(
            select(Organisation)
            .options(selectinload(Organisation.members))
            .where(Organisation.status == OrganisationStatus.PENDING)
            .order_by(Organisation.created_at, Organisation.id)
        )
    )


def _already_decided(decided_by: User | None, decided_at, status_label: str) -> VettingError:
    who = decided_by.name if decided_by else _("someone")
    when = decided_at.strftime("%Y-%m-%d %H:%M UTC") if decided_at else ""
    return VettingError(
        _("This was already decided (%(status)s) by %(who)s at %(when)s.")
        % {"status": status_label, "who": who, "when": when}
    )


def approve_organisation(actor: User, organisation: Organisation) -> None:
    """Verify a proposed organisation; its members can then be approved."""
    from rrc.labels import label

    _require_vetter(actor)
    if organisation.status != OrganisationStatus.PENDING:
        raise _already_decided(
            organisation.decided_by, organisation.decided_at, label(organisation.status)
        )
    organisation.status = OrganisationStatus.VERIFIED
    organisation.decided_by = actor
    organisation.decided_at = utcnow()
    organisation.rejection_reason = None
    audit.record(actor, "vetting.organisation_approved", target=organisation)


def reject_organisation(actor: User, organisation: Organisation, reason: str) -> None:
    """Reject a proposed organisation; its waiting members are rejected with the same reason."""
    from rrc.labels import label

    _require_vetter(actor)
    if not reason.strip():
        raise VettingError(_("Give a reason for the rejection."), "reason")
    if organisation.status != OrganisationStatus.PENDING:
        raise _already_decided(
            organisation.decided_by, organisation.decided_at, label(organisation.status)
        )
    organisation.status = OrganisationStatus.REJECTED
    organisation.decided_by = actor
    organisation.decided_at = utcnow()
    organisation.rejection_reason = reason.strip()
    audit.record(actor, "vetting.organisation_rejected", target=organisation, detail=reason)
    for member in organisation.members:
        if member.status in (UserStatus.PENDING_APPROVAL, UserStatus.UNVERIFIED):
            _reject(actor, member, reason, organisation_rejected=True)


def approve_user(actor: User, partner: User) -> None:
    """Approve a partner; a still-pending organisation is verified in the same decision."""
    from rrc.labels import label

    _require_vetter(actor)
    if partner.kind != UserKind.PARTNER or partner.status != UserStatus.PENDING_APPROVAL:
        raise _already_decided(partner.decided_by, partner.decided_at, label(partner.status))
    organisation = partner.organisation
    if organisation is not None and organisation.status == OrganisationStatus.PENDING:
        approve_organisation(actor, organisation)
    elif organisation is None or organisation.status != OrganisationStatus.VERIFIED:
        raise VettingError(
            _("The organisation of this person is %(status)s: it must be verified first.")
            % {"status": label(organisation.status) if organisation else "-"}
        )
    partner.status = UserStatus.ACTIVE
    partner.decided_by = actor
    partner.decided_at = utcnow()
    partner.rejection_reason = None
    audit.record(actor, "vetting.user_approved", target=partner)
    queue_mail(
        "account_approved",
        recipient=partner,
        idempotency_key=f"account-approved:{partner.id}:{partner.decided_at.isoformat()}",
        link=absolute_url("main.home"),
    )


def reject_user(actor: User, partner: User, reason: str) -> None:
    """Reject a partner with a reason, which the partner receives by mail."""
    from rrc.labels import label

    _require_vetter(actor)
    if not reason.strip():
        raise VettingError(_("Give a reason for the rejection."), "reason")
    if partner.kind != UserKind.PARTNER or partner.status != UserStatus.PENDING_APPROVAL:
        raise _already_decided(partner.decided_by, partner.decided_at, label(partner.status))
    _reject(actor, partner, reason, organisation_rejected=False)


def _reject(actor: User, partner: User, reason: str, *, organisation_rejected: bool) -> None:
    partner.status = UserStatus.REJECTED
    partner.decided_by = actor
    partner.decided_at = utcnow()
    partner.rejection_reason = reason.strip()
    partner.rotate_login_token()
    audit.record(actor, "vetting.user_rejected", target=partner, detail=reason)
    queue_mail(
        "account_rejected",
        recipient=partner,
        idempotency_key=f"account-rejected:{partner.id}:{partner.decided_at.isoformat()}",
        reason=partner.rejection_reason,
        organisation_rejected=organisation_rejected,
    )
