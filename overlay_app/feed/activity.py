"""What a comment or a channel message sets going beyond its own notifications, inside the
transaction of the write (discussion and chat actions call these):

- the conversation's latest activity, which the feed reads (feed.store);
- notifications of the levels (follow.levels): "thread" to everyone who wrote in the thread
  (participating, the default), "watched" to whoever watches the document, one of its
  folders or tags, or the channel. Nobody is told twice about one write (`told`: those the
  mention and reply notifications already reached), nor about their own. A watcher is told
  only of a document that lists may push at them (discovery is not access): watching a
  folder brings nothing the person reaches only through an organisation-wide link.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from overlay_app import access
from overlay_app.discussion import store as discussion_store
from overlay_app.feed import store
from overlay_app.feed.store import Activity
from overlay_app.follow import levels
from overlay_app.follow.targets import CHANNEL
from overlay_app.identity import Person
from overlay_app.mail.queueing import conversation_of
from overlay_app.notifications import actions as notifications


def comment_added(
    conn: sqlite3.Connection,
    actor_id: str,
    key: tuple[str, str],
    comment: tuple[str, str | None],
    at: str,
    told: Iterable[str | None],
) -> None:
    """A new comment (id, parent id) by `actor_id` on the document `key`."""
    (drive_id, item_id), (comment_id, parent_id) = key, comment
    conversation = conversation_of(drive_id, item_id, None)
    store.touch(
        conn, Activity(conversation, drive_id, item_id, None, at, actor_id, comment_id, None)
    )
    participants = discussion_store.thread_authors(conn, comment_id) if parent_id else set()
    skip = {actor_id, *told}
    decided = levels.watchers(conn, levels.document_place(drive_id, item_id), participants)
    for person_id, level in sorted(decided.items()):
        if person_id in skip:
            continue
        if person_id in participants:
            kind = levels.THREAD
        elif level == levels.WATCHING and _discoverable(person_id, key):
            kind = levels.WATCHED
        else:
            continue
        notifications.notify(
            conn, recipient_id=person_id, kind=kind, actor_id=actor_id, drive_id=drive_id,
            item_id=item_id, comment_id=comment_id, at=at,
        )  # fmt: skip


def comment_deleted(conn: sqlite3.Connection, drive_id: str, item_id: str) -> None:
    """The conversation's latest activity is its newest live comment, or it leaves feeds."""
    conversation = conversation_of(drive_id, item_id, None)
    latest = discussion_store.latest_live_comment(conn, drive_id, item_id)
    if latest is None:
        store.forget(conn, conversation)
        return
    comment_id, author_id, created_at = latest
    activity = Activity(
        conversation, drive_id, item_id, None, created_at, author_id, comment_id, None
    )
    store.set_latest(conn, activity)


def channel_message(
    conn: sqlite3.Connection, actor_id: str, room_id: str, message_id: int, at: str,
    told: Iterable[str],
) -> None:  # fmt: skip
    """A new message in a chat channel (document and direct rooms are not feed entries)."""
    conversation = conversation_of("", "", room_id)
    store.touch(conn, Activity(conversation, None, None, room_id, at, actor_id, None, message_id))
    skip = {actor_id, *told}
    for person_id, level in sorted(levels.watchers(conn, [(CHANNEL, room_id)]).items()):
        if person_id in skip or level != levels.WATCHING:
            continue
        notifications.notify(
            conn, recipient_id=person_id, kind=levels.WATCHED, actor_id=actor_id, drive_id="",
            item_id="", comment_id=None, at=at, room_id=room_id, message_id=message_id,
        )  # fmt: skip


def _discoverable(person_id: str, key: tuple[str, str]) -> bool:
    recipient = Person(person_id, "", "", False, frozenset())
    return key in access.filter_discoverable(recipient, [key])
