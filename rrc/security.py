"""Password hashing and policy, safe redirects, security headers."""

import functools
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, request, url_for
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128

# Argon2id (the library's default type) with its RFC 9106 "low memory" parameters.
password_hasher = PasswordHasher()

# Words tied to the portal itself are refused inside passwords, as are the person's own details.
PORTAL_WORDS = ("pasteur", "ipk", "institut", "korea", "rrc", "research", "resource", "center")


@functools.cache
def _dummy_hash() -> str:
    """A throwaway hash verified when an account does not exist, so timing does not reveal
    accounts (made on first use: hashing at import slowed every process start by 0.3 s)."""
    return password_hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; spends the same effort when there is no hash."""
    try:
        return password_hasher.verify(password_hash or _dummy_hash(), password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than the current ones."""
    return password_hasher.check_needs_rehash(password_hash)


def password_problems(password: str, context_words: list[str]) -> list[str]:
    """Reasons ``password`` is refused (empty when it is acceptable)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return [str(_l("Use at least %(count)d characters.", count=PASSWORD_MIN_LENGTH))]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [str(_l("Use at most %(count)d characters.", count=PASSWORD_MAX_LENGTH))]
    lowered = password.lower()
    words = [word.lower() for word in context_words if word and len(word) >= 3]
    for word in words:
        if word in lowered:
            return [str(_l("Do not use your name, e-mail or organisation in the password."))]
    inputs = words + list(PORTAL_WORDS)
    # zxcvbn ships lists of common passwords and words; score 3 means "safely unguessable".
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < 3:
        return [
            str(
                _l(
                    "This password is too common or too easy to guess. "
                    "Try a longer phrase of unrelated words."
                )
            )
        ]
    return []


def is_safe_next(target: str | None) -> bool:
    """True only for a path on this site (no scheme, no host, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(character) < 32 for character in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.home") -> str:
    """``target`` if it is a local path, else the URL of ``default_endpoint``."""
    return target if is_safe_next(target) else url_for(default_endpoint)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    """Headers every response carries (DESIGN.md §6)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure or _base_url_is_https():
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint and not request.endpoint.endswith("static"):
        # Pages can hold personal data: never keep them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def _base_url_is_https() -> bool:
    from flask import current_app

    return current_app.config["BASE_URL"].startswith("https://")


def init_security(app: Flask) -> None:
    """Install the security headers on every response."""
    app.after_request(add_security_headers)
