"""The words of a mail, text and HTML. No mail names a document or quotes what was said about
it: a document is "a document" with a link to its Plaza page (where access is checked again),
a chat room "a chat conversation"; only the people who acted are named."""

from __future__ import annotations

import html
import uuid
from collections import Counter
from dataclasses import dataclass

from overlay_app.follow import levels
from overlay_app.mail.store import Item

SENTENCES = {
    levels.MENTION: ("mentioned you", "mentions of you"),
    levels.REPLY: ("replied to you", "replies to you"),
    levels.THREAD: (
        "added to a conversation you took part in",
        "new comments in a conversation you took part in",
    ),
    levels.LIKE: ("liked your comment", "likes of your comments"),
    levels.WATCHED: ("wrote in something you watch", "new comments in something you watch"),
}  # fmt: skip


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
    return "a chat conversation" if item.room_id else "a document you follow or took part in"


def message_id(sender: str) -> str:
    """A Message-ID made once per outbox row and stored with it, so a retry resends the same."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "plaza.invalid"
    return f"<{uuid.uuid4()}@{domain}>"


def mention(items: list[Item], names: dict[str, str], public_url: str, unsubscribe: str) -> Words:
    """One conversation's mentions, due together."""
    first = items[0]
    actors = _people(items, names)
    subject = f"{actors} mentioned you in Plaza"
    lead = f"{actors} mentioned you in {place_words(first)}."
    return _words(subject, lead, [("Open it in Plaza", link(public_url, first))], public_url,
                  unsubscribe, "someone mentioned you in Plaza", "mention mails")  # fmt: skip


def digest(
    conversations: list[list[Item]], names: dict[str, str], public_url: str, unsubscribe: str
) -> Words:
    """One entry per conversation: what happened there, who, and a link."""
    count = len(conversations)
    subject = f"Plaza digest: activity in {count} conversation{'s' if count > 1 else ''}"
    lines = []
    for items in conversations:
        kinds = Counter(item.event for item in items)
        what = "; ".join(_counted(event, n) for event, n in sorted(kinds.items()))
        lines.append((f"In {place_words(items[0])}: {what} (by {_people(items, names)})",
                      link(public_url, items[0])))  # fmt: skip
    lead = "Here is what happened in Plaza since your last digest."
    return _words(subject, lead, lines, public_url, unsubscribe,
                  "you chose to get a Plaza digest", "digests")  # fmt: skip


def _counted(event: str, n: int) -> str:
    one, many = SENTENCES.get(event, ("new activity", "new activity"))
    return f"someone {one}" if n == 1 else f"{n} {many}"


def _people(items: list[Item], names: dict[str, str]) -> str:
    seen = list(dict.fromkeys(item.actor_id for item in items))
    named = [names.get(actor, "Someone") for actor in seen[:3]]
    more = len(seen) - len(named)
    return ", ".join(named) + (f" and {more} more" if more else "")


def _words(
    subject: str, lead: str, lines: list[tuple[str, str]], public_url: str, unsubscribe: str,
    because: str, kind: str,
) -> Words:  # fmt: skip
    settings = f"{public_url}/settings/notifications"
    text = [lead, ""]
    text += [f"- {words}\n  {url}" for words, url in lines]
    text += ["", "--", f"You get this mail because {because}.", f"Stop {kind}: {unsubscribe}"]
    text += [f"All your notification settings: {settings}"]
    e = html.escape
    items = "".join(
        f'<li>{e(words)} <a href="{e(url)}">Open in Plaza</a></li>' for words, url in lines
    )
    body = (
        f"<!doctype html><html><body><p>{e(lead)}</p><ul>{items}</ul><hr>"
        f'<p>You get this mail because {e(because)}. <a href="{e(unsubscribe)}">Stop {e(kind)}</a>'
        f' · <a href="{e(settings)}">Notification settings</a></p></body></html>'
    )
    return Words(subject, "\n".join(text) + "\n", body)
