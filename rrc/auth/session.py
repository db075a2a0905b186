"""Flask-Login wiring: sessions are bound to the user's rotating login token."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from rrc.extensions import db, login_manager
from rrc.models import User


def load_user(session_identity: str) -> User | None:
    """Resolve ``id:login_token``; a rotated token makes old sessions anonymous."""
    user_id, _, token = session_identity.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.login_token != token:
        return None
    return user


def init_login(app: Flask) -> None:
    """Bind Flask-Login to the app."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
