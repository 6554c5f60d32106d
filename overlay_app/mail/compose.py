"""The words of a mail, text and HTML. No mail names a document or quotes what was said about
it: a document is "a document" with a link to its Plaza page (where access is checked again),
a chat room "a chat conversation"; only the people who acted are named.
The words are gettext's, in whatever locale is in force: the sender forces the recipient's."""

from __future__ import annotations

import html
import uuid
from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext, ngettext

from overlay_app.follow import levels
from overlay_app.mail.store import Item


@dataclass(frozen=True)
class Words:
    subject: str
    text: str
    html: str


def link(public_url: str, item: Item) -> str:
    if item.room_id:
        return f"{public_url}/chat/{item.room_id}"
    return f"{public_url}/documents/{item.drive_id}/{item.item_id}"


def place_words(item: Item) -> str:
    if item.room_id:
        return gettext("a chat conversation")
    return gettext("a document you follow or took part in")


def message_id(sender: str) -> str:
    """A Message-ID made once per outbox row and stored with it, so a retry resends the same."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "plaza.invalid"
    return f"<{uuid.uuid4()}@{domain}>"


def mention(items: list[Item], names: dict[str, str], public_url: str, unsubscribe: str) -> Words:
    """One conversation's mentions, due together."""
    first = items[0]
    actors, count = _people(items, names), _count_people(items)
    subject = ngettext("%(actors)s mentioned you in Plaza", "%(actors)s mentioned you in Plaza",
                       count, actors=actors)  # fmt: skip
    lead = ngettext("%(actors)s mentioned you in %(place)s.",
                    "%(actors)s mentioned you in %(place)s.",
                    count, actors=actors, place=place_words(first))  # fmt: skip
    return _words(subject, lead, [(gettext("Open it in Plaza"), link(public_url, first))],
                  public_url, unsubscribe, gettext("someone mentioned you in Plaza"),
                  gettext("mention mails"))  # fmt: skip


def digest(
    conversations: list[list[Item]], names: dict[str, str], public_url: str, unsubscribe: str
) -> Words:
    """One entry per conversation: what happened there, who, and a link."""
    subject = ngettext(
        "Plaza digest: activity in %(num)d conversation",
        "Plaza digest: activity in %(num)d conversations",
        len(conversations),
    )
    lines = []
    for items in conversations:
        kinds = Counter(item.event for item in items)
        what = "; ".join(_counted(event, n) for event, n in sorted(kinds.items()))
        entry = gettext("In %(place)s: %(what)s (by %(people)s)", place=place_words(items[0]),
                        what=what, people=_people(items, names))  # fmt: skip
        lines.append((entry, link(public_url, items[0])))
    lead = gettext("Here is what happened in Plaza since your last digest.")
    return _words(subject, lead, lines, public_url, unsubscribe,
                  gettext("you chose to get a Plaza digest"), gettext("digests"))  # fmt: skip


def _counted(event: str, n: int) -> str:
    """'someone mentioned you' once, '3 mentions of you' more often (gettext: literal words)."""
    if event == levels.MENTION:
        return ngettext("someone mentioned you", "%(num)d mentions of you", n)
    if event == levels.REPLY:
        return ngettext("someone replied to you", "%(num)d replies to you", n)
    if event == levels.THREAD:
        return ngettext("someone added to a conversation you took part in",
                        "%(num)d new comments in a conversation you took part in", n)  # fmt: skip
    if event == levels.LIKE:
        return ngettext("someone liked your comment", "%(num)d likes of your comments", n)
    if event == levels.WATCHED:
        return ngettext("someone wrote in something you watch",
                        "%(num)d new comments in something you watch", n)  # fmt: skip
    return ngettext("someone new activity", "%(num)d new activity", n)


def _count_people(items: list[Item]) -> int:
    return len(set(item.actor_id for item in items))


def _people(items: list[Item], names: dict[str, str]) -> str:
    seen = list(dict.fromkeys(item.actor_id for item in items))
    named = ", ".join(names[actor] if actor in names else gettext("Someone") for actor in seen[:3])
    more = len(seen) - min(len(seen), 3)
    return gettext("%(names)s and %(more)s more", names=named, more=more) if more else named


def _words(
    subject: str, lead: str, lines: list[tuple[str, str]], public_url: str, unsubscribe: str,
    because: str, kind: str,
) -> Words:  # fmt: skip
    settings = f"{public_url}/settings/notifications"
    why = gettext("You get this mail because %(because)s.", because=because)
    stop = gettext("Stop %(kind)s", kind=kind)
    text = [lead, ""]
    text += [f"- {words}\n  {url}" for words, url in lines]
    text += ["", "--", why, f"{stop}: {unsubscribe}"]
    text += [gettext("All your notification settings: %(link)s", link=settings)]
    e, open_it = html.escape, html.escape(gettext("Open in Plaza"))
    items = "".join(f'<li>{e(words)} <a href="{e(url)}">{open_it}</a></li>' for words, url in lines)
    body = (
        f"<!doctype html><html><body><p>{e(lead)}</p><ul>{items}</ul><hr>"
        f'<p>{e(why)} <a href="{e(unsubscribe)}">{e(stop)}</a>'
        f' · <a href="{e(settings)}">{e(gettext("Notification settings"))}</a></p></body></html>'
    )
    return Words(subject, "\n".join(text) + "\n", body)
