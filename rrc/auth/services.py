"""Account rules: sign-up, verification, passwords, sessions. Services flush; views commit."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from rrc import audit
from rrc.auth.tokens import TokenError, TokenPurpose, make_token, read_token
from rrc.extensions import db
from rrc.mail.outbox import absolute_url, queue_mail
from rrc.models import (
    Capability,
    ConsentItem,
    ConsentRecord,
    Organisation,
    OrganisationStatus,
    OrganisationType,
    User,
    UserKind,
    UserStatus,
)
from rrc.models.accounts import KOREAN_COMPANY_TYPES
from rrc.models.types import utcnow
from rrc.security import hash_password, password_needs_rehash, password_problems, verify_password


class AccountError(Exception):
    """A business rule refused the action; ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DuplicateEmail(AccountError):
    """An account with this e-mail (in any letter case) exists."""


class PasswordRejected(AccountError):
    """The password breaks the policy."""


class WrongPassword(AccountError):
    """The current password given does not match."""


class OrganisationUnavailable(AccountError):
    """The chosen organisation is not one a partner may join."""


def normalise_email(email: str) -> str:
    """E-mail addresses are unique regardless of letter case."""
    return email.strip().lower()


@dataclass
class NewOrganisation:
    """What a partner proposes when their organisation is not yet known."""

    name: str
    local_name: str | None
    org_type: OrganisationType
    country: str
    business_registration_no: str | None
    billing_email: str
    address: str


@dataclass
class SignUp:
    """Everything the sign-up form collects."""

    email: str
    password: str
    name: str
    phone: str | None
    position: str | None
    organisation_id: int | None
    new_organisation: NewOrganisation | None
    consent_required: bool
    consent_optional: bool
    consent_cross_border: bool
    locale: str
    timezone: str


def email_taken(email: str) -> bool:
    """True if an account already uses this address, in any letter case."""
    return (
        db.session.scalar(select(User.id).where(func.lower(User.email) == normalise_email(email)))
        is not None
    )


def check_password(password: str, context_words: list[str], field: str = "password") -> None:
    """Raise :class:`PasswordRejected` when the policy refuses ``password``."""
    problems = password_problems(password, context_words)
    if problems:
        raise PasswordRejected(problems[0], field=field)


def _context_words(email: str, name: str, organisation_name: str | None) -> list[str]:
    local_part = email.split("@", 1)[0]
    words = [local_part, *name.split()]
    if organisation_name:
        words.extend(organisation_name.split())
    return words


def needs_cross_border_consent(country: str | None) -> bool:
    """Partners of organisations outside Korea consent separately to the transfer of their data."""
    return bool(country) and country != "KR"


def register_partner(data: SignUp) -> User:
    """Create an unverified partner (and a proposed organisation) and mail the verification link."""
    from flask_babel import gettext as _

    email = normalise_email(data.email)
    if email_taken(email):
        raise DuplicateEmail(_("An account with this e-mail address already exists."), "email")
    if not data.consent_required:
        raise AccountError(
            _("The required items are needed to open an account."), "consent_required"
        )
    if (data.phone or data.position) and not data.consent_optional:
        raise AccountError(
            _("Tick the optional consent to give a phone number or position, or leave them blank."),
            "consent_optional",
        )

    if data.new_organisation is not None:
        proposal = data.new_organisation
        if proposal.org_type == OrganisationType.INTERNAL:
            raise AccountError(_("Choose the type of your organisation."), "org_type")
        if (
            proposal.country == "KR"
            and proposal.org_type in KOREAN_COMPANY_TYPES
            and not proposal.business_registration_no
        ):
            raise AccountError(
                _("Korean companies must give their business registration number."),
                "business_registration_no",
            )
        duplicate = db.session.scalar(
            select(Organisation.id).where(
                func.lower(Organisation.name) == proposal.name.strip().lower(),
                Organisation.country == proposal.country,
                Organisation.status.in_([OrganisationStatus.VERIFIED, OrganisationStatus.PENDING]),
            )
        )
        if duplicate is not None:
            raise OrganisationUnavailable(
                _("This organisation is already registered: choose it from the list."),
                "org_name",
            )
        organisation = Organisation(
            name=proposal.name.strip(),
            local_name=(proposal.local_name or "").strip() or None,
            org_type=proposal.org_type,
            country=proposal.country,
            business_registration_no=proposal.business_registration_no or None,
            billing_email=normalise_email(proposal.billing_email),
            address=proposal.address.strip(),
            status=OrganisationStatus.PENDING,
        )
        db.session.add(organisation)
    else:
        organisation = db.session.get(Organisation, data.organisation_id or 0)
        if organisation is None or organisation.status != OrganisationStatus.VERIFIED:
            raise OrganisationUnavailable(
                _("Choose a verified organisation, or propose a new one."), "organisation_id"
            )

    if needs_cross_border_consent(organisation.country) and not data.consent_cross_border:
        raise AccountError(
            _("Partners outside Korea must consent to the transfer of their data to Korea."),
            "consent_cross_border",
        )
    check_password(data.password, _context_words(email, data.name, organisation.name))

    user = User(
        email=email,
        password_hash=hash_password(data.password),
        name=data.name.strip(),
        phone=(data.phone or "").strip() or None,
        position=(data.position or "").strip() or None,
        kind=UserKind.PARTNER,
        organisation=organisation,
        status=UserStatus.UNVERIFIED,
        locale=data.locale,
        timezone=data.timezone,
    )
    version = current_app.config["CONSENT_VERSION"]
    now = utcnow()
    for item, granted in (
        (ConsentItem.REQUIRED, True),
        (ConsentItem.OPTIONAL, data.consent_optional),
        (ConsentItem.CROSS_BORDER, data.consent_cross_border),
    ):
        if item == ConsentItem.CROSS_BORDER and not needs_cross_border_consent(
            organisation.country
        ):
            continue
        user.consents.append(
            ConsentRecord(item=item, text_version=version, granted=granted, recorded_at=now)
        )
    db.session.add(user)
    db.session.flush()
    audit.record(user, "account.signup", target=user, detail=f"organisation={organisation.id}")
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    """Queue (again) the verification mail with a fresh link."""
    token = make_token(user, TokenPurpose.VERIFY_EMAIL)
    queue_mail(
        "verify_email",
        recipient=user,
        idempotency_key=f"verify:{user.id}:{token[-24:]}",
        link=absolute_url("auth.verify_email", token=token),
        hours=current_app.config["TOKEN_MAX_AGE_HOURS"],
    )


def read_token_user(token: str, kind: str) -> User:
    """The user a verification (``verify``) or reset (``reset``) link belongs to, if still valid."""
    purpose = TokenPurpose.VERIFY_EMAIL if kind == "verify" else TokenPurpose.RESET_PASSWORD
    return read_token(token, purpose)


def resend_verification(email: str) -> None:
    """Mail a fresh verification link to an unverified account; silent otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is not None and user.status == UserStatus.UNVERIFIED:
        send_verification(user)
        audit.record(user, "account.verification_resent", target=user)


def verify_email(token: str) -> User:
    """Mark the address verified and put the account in the vetting queue (single use)."""
    user = read_token(token, TokenPurpose.VERIFY_EMAIL)
    if user.status != UserStatus.UNVERIFIED:
        raise TokenError("used")
    user.email_verified_at = utcnow()
    user.status = UserStatus.PENDING_APPROVAL
    audit.record(user, "account.email_verified", target=user)
    for coordinator in coordinators():
        queue_mail(
            "vetting_needed",
            recipient=coordinator,
            idempotency_key=f"vetting-needed:{user.id}:{coordinator.id}",
            partner=user,
            link=absolute_url("vetting.user_detail", user_id=user.id),
        )
    db.session.flush()
    return user


def coordinators() -> list[User]:
    """Active staff who hold the coordinator capability (admins included)."""
    staff = db.session.scalars(
        select(User)
        .where(User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE)
        .order_by(User.id)
    ).all()
    return [member for member in staff if member.has_capability(Capability.COORDINATOR)]


def authenticate(email: str, password: str) -> User | None:
    """The user whose credentials these are, or ``None`` (same work either way)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_login(user: User) -> None:
    """Stamp the login and write it to the audit log."""
    user.last_login_at = utcnow()
    audit.record(user, "auth.login", target=user)


def record_failed_login(email: str) -> None:
    """Write a failed attempt to the audit log (the e-mail typed, not whether it exists)."""
    audit.record(None, "auth.login_failed", detail=f"email={normalise_email(email)[:254]}")


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing about whether it does."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.status in (UserStatus.SUSPENDED, UserStatus.REJECTED):
        return
    token = make_token(user, TokenPurpose.RESET_PASSWORD)
    queue_mail(
        "reset_password",
        recipient=user,
        idempotency_key=f"reset:{user.id}:{token[-24:]}",
        link=absolute_url("auth.reset_password", token=token),
        hours=current_app.config["TOKEN_MAX_AGE_HOURS"],
    )
    audit.record(user, "auth.reset_requested", target=user)


def set_new_password(user: User, password: str) -> None:
    """Store a new password and end every other session of this user."""
    check_password(password, _context_words(user.email, user.name, _org_name(user)))
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.rotate_login_token()


def reset_password(token: str, password: str) -> User:
    """Use a reset link once to set a new password. A partner still unverified becomes verified."""
    user = read_token(token, TokenPurpose.RESET_PASSWORD)
    set_new_password(user, password)
    if user.status == UserStatus.UNVERIFIED:
        # Receiving the reset mail proves the address just as the verification link does.
        user.email_verified_at = utcnow()
        user.status = UserStatus.PENDING_APPROVAL
    audit.record(user, "auth.password_reset", target=user)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; other sessions end."""
    from flask_babel import gettext as _

    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(_("The current password is not correct."), "current_password")
    if current_password == new_password:
        raise PasswordRejected(
            _("Choose a password different from the current one."), "new_password"
        )
    try:
        set_new_password(user, new_password)
    except PasswordRejected as error:
        error.field = "new_password"
        raise
    audit.record(user, "auth.password_changed", target=user)
    queue_mail(
        "password_changed",
        recipient=user,
        idempotency_key=f"password-changed:{user.id}:{user.login_token}",
        link=absolute_url("auth.forgot_password"),
    )


def logout_everywhere(user: User) -> None:
    """End every session and remember-me cookie of ``user``."""
    user.rotate_login_token()
    audit.record(user, "auth.logout_everywhere", target=user)


def update_profile(
    user: User,
    *,
    name: str,
    phone: str | None,
    position: str | None,
    consent_optional: bool,
    locale: str,
    timezone: str,
) -> None:
    """Change the editable personal details; optional items are kept only with consent."""
    from flask_babel import gettext as _

    if (phone or position) and not consent_optional:
        raise AccountError(
            _("Tick the optional consent to give a phone number or position, or leave them blank."),
            "consent_optional",
        )
    if consent_optional != has_optional_consent(user):
        user.consents.append(
            ConsentRecord(
                item=ConsentItem.OPTIONAL,
                text_version=current_app.config["CONSENT_VERSION"],
                granted=consent_optional,
                recorded_at=utcnow(),
            )
        )
    user.name = name.strip()
    user.phone = (phone or "").strip() or None
    user.position = (position or "").strip() or None
    user.locale = locale
    user.timezone = timezone
    audit.record(user, "account.profile_updated", target=user)


def has_optional_consent(user: User) -> bool:
    """The latest answer the user gave to the optional items."""
    answers = [record for record in user.consents if record.item == ConsentItem.OPTIONAL]
    return bool(answers) and answers[-1].granted


def _org_name(user: User) -> str | None:
    return user.organisation.name if user.organisation else None
