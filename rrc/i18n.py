"""Language and time-zone selection, and date formatting in the viewer's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_request_context, request, session
from flask_babel import format_datetime, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def select_locale() -> str:
    """The user's saved language, else the session's choice, else the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    """The user's time zone, else the portal's default (Asia/Seoul)."""
    if (
        has_request_context()
        and current_user
        and current_user.is_authenticated
        and current_user.timezone
    ):
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def is_valid_timezone(name: str) -> bool:
    """True if ``name`` is an IANA time zone this machine knows."""
    return name in common_timezones()


_TIMEZONES: list[str] = []


def common_timezones() -> list[str]:
    """Sorted IANA zone names (Area/City), computed once."""
    if not _TIMEZONES:
        _TIMEZONES.extend(
            sorted(
                name
                for name in available_timezones()
                if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
            )
        )
    return _TIMEZONES


def datetime_filter(value: datetime | None, style: str = "medium") -> str:
    """Format an aware UTC datetime in the viewer's zone and language."""
    if value is None:
        return ""
    return format_datetime(value, style)


def datetime_in_zone(value: datetime, zone_name: str, style: str = "medium") -> str:
    """Format ``value`` in an explicit zone (e-mails use the recipient's zone).

    ``style="minutes"`` gives the medium date with the time to the minute (no seconds).
    """
    from babel.dates import format_date, format_time
    from babel.dates import format_datetime as babel_format_datetime

    zone, locale = ZoneInfo(zone_name), str(get_locale())
    if style == "minutes":
        local = value.astimezone(zone)
        date_part = format_date(local.date(), format="medium", locale=locale)
        return f"{date_part} {format_time(local, format='short', tzinfo=zone, locale=locale)}"
    return babel_format_datetime(value, format=style, tzinfo=zone, locale=locale)
