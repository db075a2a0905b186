"""Flask-Login wiring: sessions are bound to the user's rotating login token, and they end.

A login lasts at most ``SESSION_LIFETIME_HOURS`` however active it is, and ends after
``SESSION_IDLE_MINUTES`` without a request (OWASP ASVS 3.3.2). A remember-me cookie, when the user
asked for one, starts a fresh login from the cookie once the session has ended this way.
"""

import time

from flask import Flask, current_app, flash, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import user_loaded_from_cookie
from flask_login.config import COOKIE_NAME

from rrc.extensions import db, login_manager
from rrc.models import User

# Session keys written by Flask-Login and by us for a logged-in user.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "auth_at", "seen_at")


def now() -> float:
    """The current time in seconds; a function so that tests can move the clock."""
    return time.time()


def load_user(session_identity: str) -> User | None:
    """Resolve ``id:login_token``; a rotated token makes old sessions anonymous."""
    user_id, _, token = session_identity.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.login_token != token:
        return None
    return user


def start_login_clock() -> None:
    """Mark the session as logged in now (called at login and when a remember cookie logs in)."""
    moment = int(now())
    session["auth_at"] = moment
    session["seen_at"] = moment


def _on_cookie_login(_app, user=None) -> None:
    start_login_clock()


def expire_stale_session() -> None:
    """Before each request: end a login that is too old or has been idle too long."""
    if "_user_id" not in session:
        return
    moment = now()
    auth_at = session.get("auth_at")
    seen_at = session.get("seen_at", auth_at)
    lifetime = current_app.config["SESSION_LIFETIME_HOURS"] * 3600
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if auth_at is None or moment - auth_at > lifetime or moment - seen_at > idle:
        for key in LOGIN_KEYS:
            session.pop(key, None)
        if current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in request.cookies:
            flash(_("Your session has expired. Please log in again."), "info")
        return
    if moment - seen_at >= 60:
        # Minute resolution is enough for the idle limit and spares a new cookie per request.
        session["seen_at"] = int(moment)


def init_login(app: Flask) -> None:
    """Bind Flask-Login to the app."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(expire_stale_session)
    user_loaded_from_cookie.connect(_on_cookie_login, app)
