"""The words the scripts (plaza.js, chat.js, chat_stream.js, embedded.js) put on the page.

They are listed here so that extraction finds them (`N_` and `NN_` mark without
translating); base.html renders `js_messages()`, the Dutch for each, into a JSON block that
plaza.js's `t()` and `tn()` read. English pages carry an empty catalog (the scripts' own
words stand). A plural pair is the English singular and plural; the scripts choose with
Intl.PluralRules.
"""

from __future__ import annotations

from flask_babel import gettext, ngettext


def NN_(one: str, other: str) -> tuple[str, str]:  # a plural pair, marked only
    return one, other


def N_(text: str) -> str:  # the gettext convention for "mark only"
    return text


JS_STRINGS: tuple[str, ...] = (
    # plaza.js
    N_("just now"),
    N_("That did not work ({status}). Try again."),
    N_("Like"),
    N_("Unlike"),
    # chat.js, chat_stream.js
    N_("Document"),
    N_("Channel"),
    N_("Direct"),
    N_("Not sent ({status})."),
    N_("not sent: {reason}"),
    N_("message deleted"),
    N_("No connection: the edit was not saved."),
    N_("Delete this message?"),
    N_("No connection: the message was not deleted."),
    N_("You no longer have access to this conversation."),
    N_("A document's chat"),
    N_("Conversation"),
    N_("waiting for the connection…"),
    # embedded.js
    N_("Signing you in…"),
    N_("Plaza could not sign you in here: {reason}"),
    N_("Signed out of Plaza. Reload the tab to sign in again."),
    N_("Consent was not given: {reason}"),
    N_("Not found."),
    N_("Activity"),
    N_("comment deleted"),
    N_("Reply"),
    N_("Not sent."),
    N_("Like · {count}"),
    N_("Add a tag"),
    N_("Add"),
    N_("Open in Plaza"),
    N_("Comment"),
    N_("Message"),
    N_("Send"),
    N_("Choose a library or a channel"),
    N_("Pin Plaza to this channel"),
    N_("Library or channel"),
    N_("Plaza could not start here: {reason}"),
)
JS_PLURALS: tuple[tuple[str, str], ...] = (
    NN_("{n} like", "{n} likes"),
    NN_("{n} comment", "{n} comments"),
)


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
