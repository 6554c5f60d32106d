"""KPI figures as a person reads them on the page, in their language: a share as a percentage,
a wait as a duration, a ratio with one decimal, counts grouped. (The CSV and the API keep the
plain numbers.)"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import format_decimal, format_percent, format_timedelta, gettext

SHARE, HOURS, RATIO = "answeredShare", "medianHoursToFirstReply", "perActivePerson"


def shown(name: str, value: object) -> object:
    """`value` of the figure `name` for the page; words ("too few people", "-") unchanged."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    if name == SHARE:
        return format_percent(value)
    if name == HOURS:
        return format_timedelta(timedelta(hours=value), granularity="minute", threshold=1.5)
    if name == RATIO:
        return format_decimal(value, format="#,##0.0")
    return format_decimal(value)


def change(name: str, value: object) -> object:
    """A change between periods, signed: percentage points for a share, hours for a wait."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"  # a true minus sign
    size = abs(value)
    if name == SHARE:
        return gettext("%(sign)s%(points)s pp", sign=sign, points=format_decimal(size * 100, "0"))
    if name == HOURS:
        return gettext("%(sign)s%(hours)s h", sign=sign, hours=format_decimal(size, "#,##0.0"))
    return sign + format_decimal(size, format="#,##0.0" if name == RATIO else "#,##0")
