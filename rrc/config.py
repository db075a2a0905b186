"""Configuration: defaults, then ``instance/config.py``, then ``RRC_*`` environment variables."""

import os
import secrets
from pathlib import Path

from flask import Flask

# Environment variables operators may set, with the type each one is parsed as.
ENVIRONMENT_VARIABLES: dict[str, type] = {
    "DATABASE_URL": str,
    "SECRET_KEY": str,
    "BASE_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_FROM": str,
    "MAIL_REPLY_TO": str,
    "MAIL_TIMEOUT": int,
    "MAIL_MAX_ATTEMPTS": int,
    "RATELIMIT_STORAGE_URI": str,
    "SESSION_COOKIE_SECURE": bool,
    "SESSION_LIFETIME_HOURS": int,
    "SESSION_IDLE_MINUTES": int,
    "TOKEN_MAX_AGE_HOURS": int,
    "TRUSTED_PROXIES": int,
    "DEFAULT_TIMEZONE": str,
    "UPLOAD_MAX_MB": int,
    "REMIND_AFTER_DAYS": int,
}

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class Defaults:
    """Settings used when neither the instance file nor the environment says otherwise."""

    DATABASE_URL = None  # filled in from the instance folder (SQLite) when unset
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_SERVER = ""  # empty: mail is captured and shown in the admin mail log
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = "IPK Research Resource Center <rrc-noreply@ip-korea.org>"
    MAIL_REPLY_TO = "rrc@ip-korea.org"
    MAIL_TIMEOUT = 15
    MAIL_MAX_ATTEMPTS = 6
    # Growing delays between attempts, in seconds; the last one repeats.
    MAIL_RETRY_DELAYS = (60, 300, 900, 3600, 4 * 3600)
    MAIL_RELAY_IN_PROCESS = False
    MAIL_RELAY_INTERVAL = 5
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_FAILURE_LIMIT = "5 per 15 minutes"
    SIGNUP_LIMIT = "10 per hour"
    RESET_LIMIT = "5 per hour"
    SESSION_COOKIE_SECURE = None  # unset: Secure whenever BASE_URL is https
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_LIFETIME_HOURS = 12
    SESSION_IDLE_MINUTES = 60
    REMEMBER_DAYS = 14
    TOKEN_MAX_AGE_HOURS = 48
    TRUSTED_PROXIES = 0
    DEFAULT_TIMEZONE = "Asia/Seoul"
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "ko")
    CONSENT_VERSION = "2026-11"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    BOOTSTRAP_SERVE_LOCAL = True
    # Stylesheets, scripts and images may be reused for an hour without asking again.
    SEND_FILE_MAX_AGE_DEFAULT = 3600
    BOOTSTRAP_BOOTSWATCH_THEME = None
    SQLALCHEMY_ECHO = False
    UPLOAD_MAX_MB = 20
    REMIND_AFTER_DAYS = 2
    TERMS_VERSION = "2026-11"


def parse_value(name: str, raw: str, kind: type):
    """Turn an environment string into the setting's type, refusing nonsense loudly."""
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"RRC_{name} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"RRC_{name} must be a whole number, not {raw!r}") from None
    return raw


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` from defaults, the instance file, the environment and ``test_config``."""
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for name, kind in ENVIRONMENT_VARIABLES.items():
            raw = os.environ.get(f"RRC_{name}")
            if raw is not None:
                app.config[name] = parse_value(name, raw, kind)
    else:
        app.config.update(test_config)

    if not app.config.get("DATABASE_URL"):
        database_file = Path(app.instance_path) / "rrc.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{database_file}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    # A request body may hold one document of the maximum size plus the form around it.
    app.config["MAX_CONTENT_LENGTH"] = (app.config["UPLOAD_MAX_MB"] + 2) * 1024 * 1024
    if app.config["SESSION_COOKIE_SECURE"] is None:
        # Browsers drop Secure cookies on plain http other than localhost; production is https.
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, generating it on first run (never a constant in code)."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions; if another process won the race, use its key.
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key
