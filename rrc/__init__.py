"""The Research Resource Center portal of Institut Pasteur Korea."""

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_folder(name: str) -> str:
    """``templates``/``static`` inside an installed wheel, else at the top of the source tree."""
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return str(packaged)
    return str(PACKAGE_DIR.parent / name)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal application; ``test_config`` replaces the instance file and environment."""
    instance_path = os.environ.get("RRC_INSTANCE_PATH") if test_config is None else None
    if test_config and test_config.get("INSTANCE_PATH"):
        instance_path = test_config["INSTANCE_PATH"]
    app = Flask(
        __name__,
        instance_path=instance_path or None,
        instance_relative_config=True,
        template_folder=_asset_folder("templates"),
        static_folder=_asset_folder("static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from rrc.config import load_config

    load_config(app, test_config)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_LIFETIME_HOURS"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_DAYS"])

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0)

    _init_extensions(app)
    _register_blueprints(app)

    from rrc.errors import register_error_handlers

    register_error_handlers(app)

    from rrc.cli import register_commands

    register_commands(app)

    from rrc.security import init_security

    init_security(app)
    _init_templates(app)
    return app


def _init_extensions(app: Flask) -> None:
    from rrc import models  # noqa: F401 - register the models with the metadata
    from rrc.auth.session import init_login
    from rrc.database import init_database
    from rrc.extensions import babel, bootstrap, csrf, db, limiter, migrate
    from rrc.i18n import select_locale, select_timezone

    init_database(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    init_login(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    bootstrap.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from rrc.account.views import blueprint as account_blueprint
    from rrc.admin.views import blueprint as admin_blueprint
    from rrc.auth.views import blueprint as auth_blueprint
    from rrc.bookings.feeds import blueprint as feeds_blueprint
    from rrc.bookings.staff_views import blueprint as booking_staff_blueprint
    from rrc.bookings.views import blueprint as bookings_blueprint
    from rrc.catalogue.views import blueprint as catalogue_blueprint
    from rrc.catalogue_admin.views import blueprint as catalogue_admin_blueprint
    from rrc.main.views import blueprint as main_blueprint
    from rrc.requests.queue_views import blueprint as queue_blueprint
    from rrc.requests.views import blueprint as requests_blueprint
    from rrc.vetting.views import blueprint as vetting_blueprint

    app.register_blueprint(main_blueprint)
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(account_blueprint)
    app.register_blueprint(vetting_blueprint)
    app.register_blueprint(admin_blueprint)
    app.register_blueprint(catalogue_blueprint)
    app.register_blueprint(catalogue_admin_blueprint)
    app.register_blueprint(requests_blueprint)
    app.register_blueprint(queue_blueprint)
    app.register_blueprint(booking_staff_blueprint)
    app.register_blueprint(bookings_blueprint)
    app.register_blueprint(feeds_blueprint)


def _init_templates(app: Flask) -> None:
    from flask_babel import get_locale, get_timezone

    from rrc.forms import country_name
    from rrc.i18n import LANGUAGE_NAMES, datetime_filter
    from rrc.labels import label
    from rrc.models import Capability

    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["country"] = country_name
    # Text rendered by a plain-text template arrives as unescaped Markup: make it a str again
    # so that autoescaping applies when it is printed in HTML.
    app.jinja_env.filters["plain_text"] = str
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["current_timezone"] = lambda: str(get_timezone())
    app.jinja_env.globals["Capability"] = Capability
