"""The person's language: `check_locale` validates, `set_language` writes it in one
transaction with the rate-limit count."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from overlay_app import db, security
from overlay_app.discussion.reads import now
from overlay_app.errors import BadInput
from overlay_app.i18n import LOCALES, browser_locale, saved_locale, store
from overlay_app.identity import Person

BROWSER = "browser"  # the form's value for "no choice: my browser's language"


def check_locale(value: Any) -> str | None:
    """ "en" or "nl", or None for the browser's language (null, "" or "browser")."""
    if value is None or value in ("", BROWSER):
        return None
    if value not in LOCALES:
        raise BadInput(_('"locale" is one of "en", "nl" or null (the browser\'s language).'))
    return value


def set_language(person: Person, value: Any) -> dict[str, Any]:
    locale = check_locale(value)
    with db.transaction() as conn:
        security.check_rate(person, "settings")
        store.set_locale(conn, person.id, locale, now())
    return describe(locale)


def language(person: Person) -> dict[str, Any]:
    return describe(saved_locale(person.id))


def describe(chosen: str | None) -> dict[str, Any]:
    """{"locale": the saved choice or null, "effective": the language pages are in}."""
    return {"locale": chosen, "effective": chosen if chosen in LOCALES else browser_locale()}
