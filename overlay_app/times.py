"""Times as people read them, one format everywhere: a relative phrase ("5 min ago") with the
exact time ("22 Nov 2025, 16:58 UTC") on hover (title) and on focus (plaza.css shows the title
of a focused permalink's time). In the request's language: Dutch reads "5 minuten geleden" and
"22 nov 2025, 16:58 UTC" (Babel's month names). plaza.js keeps the phrases current and words
live ones the same way (relativeTime/exactTime there follow these rules, with Intl).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from babel.dates import format_datetime
from flask import Flask
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

MINUTE, HOUR, DAY = 60, 3600, 86400
EXACT, DAY_ONLY = "d MMM y, HH:mm", "d MMM y"  # CLDR patterns: "22 Nov 2025, 16:58"


def now_stamp() -> str:
    """Now as the stores keep times: ISO 8601 in UTC, to the millisecond, with Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def language() -> str:
    """The request's language ("en" outside one)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def exact_time(stamp: str | None) -> str:
    """'22 Nov 2025, 16:58 UTC' from a stored ISO time; '' when unknown."""
    return _exact_time(stamp, language())


@lru_cache(maxsize=8192)  # the same few hundred stamps, page view after page view
def _exact_time(stamp: str | None, lang: str) -> str:
    moment = parse(stamp) if stamp else None
    if moment is None:
        return stamp or ""
    return format_datetime(moment, EXACT, tzinfo=UTC, locale=lang) + " UTC"


def relative_time(stamp: str, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '4 days ago', else the day."""
    moment = parse(stamp)
    if moment is None:
        return stamp
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < MINUTE:
        return _("just now")
    if seconds < HOUR:
        return ngettext("%(num)d min ago", "%(num)d min ago", int(seconds // MINUTE))
    if seconds < DAY:
        return ngettext("%(num)d h ago", "%(num)d h ago", int(seconds // HOUR))
    if seconds < 2 * DAY:
        return _("yesterday")
    if seconds < 7 * DAY:
        return ngettext("%(num)d day ago", "%(num)d days ago", int(seconds // DAY))
    return format_datetime(moment, DAY_ONLY, tzinfo=UTC, locale=language())


def time_tag(stamp: str | None, now: datetime | None = None) -> Markup:
    """The <time> element for a stored ISO time (empty when unknown)."""
    if not stamp:
        return Markup("<time data-relative></time>")  # filled in by script, as in chat
    return Markup('<time datetime="{}" title="{}" data-relative>{}</time>').format(
        stamp, exact_time(stamp), relative_time(stamp, now)
    )


def init_app(app: Flask) -> None:
    app.add_template_filter(time_tag, "when")
    app.add_template_filter(exact_time, "exact_time")
