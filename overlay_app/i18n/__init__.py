"""Languages: every page, mail and error message in English or Dutch.

The language of a request (`select_locale`) is the one the person chose in their settings
(`store.locale_of`), else the best match of the browser's Accept-Language among `LOCALES`,
else English; bearer-token and embedded callers are chosen for the same way. Strings are
marked with gettext (`_`, `ngettext`, `{% trans %}` in templates; `babel.cfg` at the
repository's root says where to extract them from) and translated by the catalogs in
`overlay_app/translations/` (catalog.py compiles them at start). Dates and numbers follow
the locale through Babel (times.py). Strings made by JavaScript come from `js_messages()`,
rendered into base.html.
"""

from __future__ import annotations

import sqlite3

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale

from overlay_app.i18n import catalog, js_strings, labels, store

LOCALES = ("en", "nl")
DEFAULT = "en"
# Each language named in itself, as a language switch shows them.
LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands"}


def select_locale() -> str:
    """The person's saved choice, else their browser's best match, else English."""
    if not has_request_context():
        return DEFAULT
    person = g.get("person")
    if person is not None:
        chosen = saved_locale(person.id)
        if chosen in LOCALES:
            return chosen
    return browser_locale()


def browser_locale() -> str:
    """The best match of the request's Accept-Language among LOCALES ("nl-BE" is "nl")."""
    return request.accept_languages.best_match(LOCALES, default=DEFAULT)


def saved_locale(person_id: str) -> str | None:
    from overlay_app import db  # the store's connection of this request

    try:
        return store.locale_of(db.social(), person_id)
    except sqlite3.Error:  # the store unreadable: the page (an error page, say) still renders
        return None


def current_locale() -> str:
    """ "en" or "nl": the language this response is in (`<html lang>`, Intl in scripts)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def saved_language() -> str | None:
    """The signed-in person's saved choice (None: none, or nobody signed in)."""
    person = g.get("person")
    return saved_locale(person.id) if person is not None else None


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(catalog.compiled())
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    Babel(app, locale_selector=select_locale)
    app.add_template_global(current_locale)
    app.add_template_global(js_strings.js_messages)
    app.add_template_global(LANGUAGE_NAMES, "language_names")
    app.add_template_global(saved_language)
    app.add_template_global(labels.kind_label, "target_kind_label")
    app.add_template_global(labels.level_label)
    app.add_template_global(labels.evidence_label)
