"""Administration: staff accounts, capabilities, suspending and reactivating."""

import secrets

from flask_babel import gettext as _

from rrc import audit
from rrc.auth.services import AccountError, email_taken, normalise_email
from rrc.auth.tokens import TokenPurpose, make_token
from rrc.extensions import db
from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import Capability, Organisation, OrganisationStatus, User, UserKind, UserStatus
from rrc.security import hash_password

CAPABILITY_COLUMNS = {
    Capability.COORDINATOR: "is_coordinator",
    Capability.FACILITY_MANAGER: "is_facility_manager",
    Capability.BIOSAFETY_OFFICER: "is_biosafety_officer",
    Capability.ADMIN: "is_admin",
}


class AdminError(AccountError):
    """An administrative change the rules refuse."""


def _require_admin(actor: User) -> None:
    if not actor.has_capability(Capability.ADMIN):
        raise AdminError(_("Only administrators can do this."))


def create_staff(
    actor: User, *, email: str, name: str, capabilities: set[Capability], locale: str = "en"
) -> User:
    """Create an active staff account and mail its holder a link to choose a password."""
    _require_admin(actor)
    if email_taken(email):
        raise AdminError(_("An account with this e-mail address already exists."), "email")
    staff = User(
        email=normalise_email(email),
        name=name.strip(),
        kind=UserKind.STAFF,
        status=UserStatus.ACTIVE,
        locale=locale,
        # Nobody knows this password: the new colleague sets their own through the mailed link.
        password_hash=hash_password(secrets.token_urlsafe(32)),
    )
    for capability, column in CAPABILITY_COLUMNS.items():
        setattr(staff, column, capability in capabilities)
    db.session.add(staff)
    db.session.flush()
    audit.record(
        actor,
        "admin.staff_created",
        target=staff,
        detail="capabilities=" + ",".join(sorted(capabilities)),
    )
    token = make_token(staff, TokenPurpose.RESET_PASSWORD)
    queue_mail(
        "staff_welcome",
        recipient=staff,
        idempotency_key=f"staff-welcome:{staff.id}",
        link=absolute_url("auth.reset_password", token=token),
        inviter=actor,
    )
    return staff


def set_capabilities(actor: User, staff: User, capabilities: set[Capability]) -> None:
    """Grant and withdraw staff capabilities."""
    _require_admin(actor)
    if not staff.is_staff:
        raise AdminError(_("Capabilities are for staff accounts only."))
    if staff.id == actor.id and Capability.ADMIN not in capabilities:
        raise AdminError(_("You cannot withdraw your own administrator rights."))
    before = sorted(str(capability) for capability in staff.capabilities)
    for capability, column in CAPABILITY_COLUMNS.items():
        setattr(staff, column, capability in capabilities)
    audit.record(
        actor,
        "admin.capabilities_changed",
        target=staff,
        detail=f"{','.join(before)} -> {','.join(sorted(capabilities))}",
    )


def set_org_manager(actor: User, partner: User, is_manager: bool) -> None:
    """Flag a partner as manager of their organisation (coordinators and admins)."""
    if not actor.has_capability(Capability.COORDINATOR):
        raise AdminError(_("Only coordinators can change this."))
    if not partner.is_partner:
        raise AdminError(_("Only partners manage an organisation."))
    partner.is_org_manager = is_manager
    audit.record(actor, "admin.org_manager_changed", target=partner, detail=f"{is_manager}")


def suspend_user(actor: User, user: User, reason: str) -> None:
    """Suspend an account: it can no longer log in and its sessions end."""
    _require_admin(actor)
    if user.id == actor.id:
        raise AdminError(_("You cannot suspend your own account."))
    if not reason.strip():
        raise AdminError(_("Give a reason."), "reason")
    if user.status == UserStatus.SUSPENDED:
        raise AdminError(_("This account is already suspended."))
    user.status = UserStatus.SUSPENDED
    user.rejection_reason = reason.strip()
    user.rotate_login_token()
    audit.record(actor, "admin.user_suspended", target=user, detail=reason)


def reactivate_user(actor: User, user: User) -> None:
    """Lift a suspension."""
    _require_admin(actor)
    if user.status != UserStatus.SUSPENDED:
        raise AdminError(_("Only suspended accounts can be reactivated."))
    user.status = UserStatus.ACTIVE
    user.rejection_reason = None
    audit.record(actor, "admin.user_reactivated", target=user)


def suspend_organisation(actor: User, organisation: Organisation, reason: str) -> None:
    """Suspend an organisation; its members cannot act until it is reactivated."""
    _require_admin(actor)
    if not reason.strip():
        raise AdminError(_("Give a reason."), "reason")
    if organisation.status != OrganisationStatus.VERIFIED:
        raise AdminError(_("Only verified organisations can be suspended."))
    organisation.status = OrganisationStatus.SUSPENDED
    organisation.rejection_reason = reason.strip()
    audit.record(actor, "admin.organisation_suspended", target=organisation, detail=reason)


def reactivate_organisation(actor: User, organisation: Organisation) -> None:
    """Lift an organisation's suspension."""
    _require_admin(actor)
    if organisation.status != OrganisationStatus.SUSPENDED:
        raise AdminError(_("Only suspended organisations can be reactivated."))
    organisation.status = OrganisationStatus.VERIFIED
    organisation.rejection_reason = None
    audit.record(actor, "admin.organisation_reactivated", target=organisation)
