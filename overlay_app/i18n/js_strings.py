"""The words the scripts (plaza.js, chat.js, chat_stream.js, embedded.js) put on the page.

They are listed here so that extraction finds them (`N_` marks without translating); base.html
and embedded.html render `js_messages()`, the Dutch for each, into a JSON block that each
script's `t()` reads. English pages carry an empty catalog (the scripts' own words stand).
A plural pair is the English singular and plural; the scripts choose with Intl.PluralRules.
"""

from __future__ import annotations

from flask_babel import gettext, ngettext


def N_(text: str) -> str:  # the gettext convention for "mark only"
    return text


JS_STRINGS: tuple[str, ...] = ()
JS_PLURALS: tuple[tuple[str, str], ...] = ()


def js_messages() -> dict[str, str | list[str]]:
    """English text -> its translation in this request's language (only those that differ);
    a plural's singular -> [one, other]."""
    messages: dict[str, str | list[str]] = {}
    for text in JS_STRINGS:
        translated = gettext(text)
        if translated != text:
            messages[text] = translated
    for singular, plural in JS_PLURALS:
        one, other = ngettext(singular, plural, 1), ngettext(singular, plural, 2)
        if (one, other) != (singular, plural):
            messages[singular] = [one, other]
    return messages
