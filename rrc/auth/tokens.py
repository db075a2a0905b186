"""Signed, expiring, single-use tokens for e-mail verification and password reset."""

import enum
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from rrc.extensions import db
from rrc.models import User


class TokenPurpose(enum.StrEnum):
    """Each purpose has its own salt: a verification token cannot reset a password."""

    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 - a salt name, not a secret


class TokenError(Exception):
    """A token that cannot be used; ``reason`` is one of expired, invalid, used."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"rrc-{purpose}")


def _fingerprint(user: User, purpose: TokenPurpose) -> str:
    """State that changes once the token has done its job, making it single-use."""
    if purpose == TokenPurpose.VERIFY_EMAIL:
        state = f"{user.email}|{user.email_verified_at}"
    else:
        # A new password (by reset or change) changes the hash and invalidates older links.
        state = f"{user.email}|{user.password_hash}"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, state.encode(), hashlib.sha256).hexdigest()[:24]


def make_token(user: User, purpose: TokenPurpose) -> str:
    """A URL-safe token for ``user`` and ``purpose``."""
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user, purpose)})


def read_token(token: str, purpose: TokenPurpose) -> User:
    """The user a valid token belongs to; raises :class:`TokenError` otherwise."""
    max_age = current_app.config["TOKEN_MAX_AGE_HOURS"] * 3600
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise TokenError("invalid")
    user = db.session.get(User, payload["u"])
    if user is None:
        raise TokenError("invalid")
    if not hmac.compare_digest(str(payload.get("f", "")), _fingerprint(user, purpose)):
        raise TokenError("used")
    return user
