"""The dates the portal accepts from users (URL parameters, filters, form fields).

Python's dates run from year 1 to 9999, so a week that starts on 9999-12-27, or midnight of
0001-01-01 in Seoul converted to UTC, leaves that range and raises ``OverflowError``. Nothing the
portal books, files or logs lies centuries away: a date outside ``FIRST_DAY``..``LAST_DAY`` is
refused like a malformed one, and every calculation on accepted dates stays far from the limits.
"""

from datetime import date

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def in_range(day: date) -> bool:
    """True when ``day`` is a date the portal works with."""
    return FIRST_DAY <= day <= LAST_DAY


def parse_day(value: str) -> date:
    """The ``YYYY-MM-DD`` in ``value``; ``ValueError`` when malformed or out of range."""
    day = date.fromisoformat(value.strip())
    if not in_range(day):
        raise ValueError(f"{day.isoformat()} is outside {FIRST_DAY}..{LAST_DAY}")
    return day
