"""Failed-login throttling per account and per address, in the rate limiter's shared storage."""

from flask import current_app
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from rrc.extensions import limiter


def _strategy() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(limiter.storage)


def _keys(email: str, address: str | None) -> list[tuple[str, str]]:
    return [("login-account", email.strip().lower()), ("login-address", address or "unknown")]


def login_allowed(email: str, address: str | None) -> bool:
    """False once either the account or the address has used up its failed attempts."""
    item = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    strategy = _strategy()
    return all(strategy.test(item, scope, key) for scope, key in _keys(email, address))


def record_failed_login(email: str, address: str | None) -> None:
    """Count one failed attempt against the account and the address (successes never count)."""
    item = parse(current_app.config["LOGIN_FAILURE_LIMIT"])
    strategy = _strategy()
    for scope, key in _keys(email, address):
        strategy.hit(item, scope, key)
