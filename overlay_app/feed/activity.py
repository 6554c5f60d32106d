"""What a comment, a like or a tag on a document, or a chat message sets going beyond its own
notifications, inside the transaction of the write (discussion, tags, chat and moderation
actions call these):

- the conversation's latest activity, which the feed reads (feed.store), and the inboxes it
  goes to (feed.inbox); a deletion, a hiding, an unlike or a tag removed makes the newest
  live activity left the latest (`refresh_document`), or takes the conversation out;
- notifications of the levels (follow.levels): "thread" to everyone who wrote in the thread
  (participating, the default), "watched" to whoever watches the document, one of its
  folders or tags, or the channel. Nobody is told twice about one write (`told`: those the
  mention and reply notifications already reached), nor about their own. A watcher is told
  only of a document that lists may push at them (discovery is not access): watching a
  folder brings nothing the person reaches only through an organisation-wide link.

A new comment, the hottest write, reads all of that before its transaction
(`comment_context`), so that inside it, holding the store's writer lock, it only writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from overlay_app import access, db
from overlay_app.access import Document
from overlay_app.chat import store_messages, store_rooms
from overlay_app.chat.store_rooms import Room
from overlay_app.discussion import store as discussion_store
from overlay_app.feed import inbox, store
from overlay_app.feed.store import Activity
from overlay_app.follow import levels
from overlay_app.follow.targets import CHANNEL
from overlay_app.identity import Person
from overlay_app.mail.queueing import conversation_of
from overlay_app.notifications import actions as notifications
from overlay_app.tags import store as tags_store

COMMENT, MESSAGE, LIKE, TAG = "comment", "message", "like", "tag"  # feed_activity.last_kind


@dataclass(frozen=True)
class CommentContext:
    """What a new comment sets going that does not depend on its write (`comment_context`):
    the inboxes it goes to, and the levels' notifications as (person, kind), in order."""

    audience: frozenset[str]
    notified: tuple[tuple[str, str], ...]


def comment_context(
    actor_id: str, document: Document, parent_id: str | None, told: Iterable[str | None]
) -> CommentContext:
    """Read before the comment's transaction, outside the social store's writer lock, which
    every writer waits on: the document's place and site (the checked `document`'s), those
    around the actor and the followers, the levels, the thread's authors for a reply (those
    of `parent_id`'s thread: the comment's own author is the actor, never told). `told`: those
    the mention and reply notifications reach. A follow, level, tag or reply written at the
    same time may land on either side of the comment, as if it came just before or after."""
    social, key = db.social(), document.key
    place = levels.document_place(*key, social)
    audience = inbox.document_audience(social, actor_id, key[0], place, document.site_id)
    participants = discussion_store.thread_authors(social, parent_id) if parent_id else set()
    skip = {actor_id, *told}
    notified = []
    for person_id, level in sorted(levels.watchers(social, place, participants).items()):
        if person_id in skip:
            continue
        if person_id in participants:
            notified.append((person_id, levels.THREAD))
        elif level == levels.WATCHING and _discoverable(person_id, key):
            notified.append((person_id, levels.WATCHED))
    return CommentContext(frozenset(audience), tuple(notified))


def comment_added(
    conn: sqlite3.Connection,
    actor_id: str,
    key: tuple[str, str],
    comment_id: str,
    at: str,
    context: CommentContext,
) -> None:
    """A new comment by `actor_id` on the document `key`: only writes (`context` was read
    before the transaction)."""
    drive_id, item_id = key
    conversation = conversation_of(drive_id, item_id, None)
    activity = Activity(conversation, drive_id, item_id, None, at, actor_id, comment_id, None)
    store.touch(conn, activity, context.audience)
    for person_id, kind in context.notified:
        notifications.notify(
            conn, recipient_id=person_id, kind=kind, actor_id=actor_id, drive_id=drive_id,
            item_id=item_id, comment_id=comment_id, at=at,
        )  # fmt: skip


def comment_deleted(conn: sqlite3.Connection, drive_id: str, item_id: str) -> None:
    """A comment deleted, hidden or restored: the conversation's newest live activity."""
    refresh_document(conn, drive_id, item_id)


def document_liked(conn: sqlite3.Connection, actor_id: str, key: tuple[str, str], at: str) -> None:
    conversation = conversation_of(*key, None)
    record(conn, Activity(conversation, *key, None, at, actor_id, None, None, LIKE))


def tag_added(conn: sqlite3.Connection, actor_id: str, key: tuple[str, str], at: str) -> None:
    conversation = conversation_of(*key, None)
    record(conn, Activity(conversation, *key, None, at, actor_id, None, None, TAG))


def document_message(
    conn: sqlite3.Connection, actor_id: str, key: tuple[str, str], message_id: int, at: str
) -> None:
    """A message in the document's chat room: activity on the document's conversation."""
    conversation = conversation_of(*key, None)
    record(conn, Activity(conversation, *key, None, at, actor_id, None, message_id, MESSAGE))


def message_gone(conn: sqlite3.Connection, room: Room) -> None:
    """A chat message deleted, hidden or restored: the newest live activity of its room (a
    channel) or of the document the room is about; direct rooms are in no feed."""
    if room.document_key is not None:
        refresh_document(conn, *room.document_key)
        return
    if room.kind != store_rooms.CHANNEL:
        return
    room_id = room.id
    conversation = conversation_of("", "", room_id)
    latest = store_messages.latest_live_message(conn, room_id)
    if latest is None:
        store.forget(conn, conversation)
        return
    message_id, author_id, created_at = latest
    _settle(conn, Activity(conversation, None, None, room_id, created_at, author_id, None,
                           message_id, MESSAGE))  # fmt: skip


def refresh_document(conn: sqlite3.Connection, drive_id: str, item_id: str) -> None:
    """The document's conversation ends at its newest live comment, like, tag or chat
    message; with none left it leaves every feed."""
    conversation = conversation_of(drive_id, item_id, None)
    found = []
    comment = discussion_store.latest_live_comment(conn, drive_id, item_id)
    if comment:
        found.append((comment[2], comment[1], comment[0], None, COMMENT))
    like = discussion_store.latest_document_like(conn, drive_id, item_id)
    if like:
        found.append((like[1], like[0], None, None, LIKE))
    tags = tags_store.entries_of(conn, drive_id, item_id)
    if tags:
        _, added_by, added_at = max(tags, key=lambda e: (e[2], e[0]))
        found.append((added_at, added_by, None, None, TAG))
    room_id = store_rooms.document_room_id(conn, drive_id, item_id)
    message = store_messages.latest_live_message(conn, room_id) if room_id else None
    if message:
        found.append((message[2], message[1], None, message[0], MESSAGE))
    if not found:
        store.forget(conn, conversation)
        return
    at, actor_id, comment_id, message_id, kind = max(found, key=lambda f: f[0])
    _settle(conn, Activity(conversation, drive_id, item_id, None, at, actor_id, comment_id,
                           message_id, kind))  # fmt: skip


def record(conn: sqlite3.Connection, activity: Activity) -> None:
    """New activity: the conversation's latest, and into the inboxes it concerns."""
    store.touch(conn, activity, inbox.audience(conn, activity))


def _settle(conn: sqlite3.Connection, activity: Activity) -> None:
    """The latest live activity after a removal (or a restore, which may bring the
    conversation back into feeds)."""
    if store.latest(conn, activity.conversation) is None:
        record(conn, activity)
    else:
        store.set_latest(conn, activity)


def channel_message(
    conn: sqlite3.Connection, actor_id: str, room_id: str, message_id: int, at: str,
    told: Iterable[str],
) -> None:  # fmt: skip
    """A new message in a chat channel (document and direct rooms are not feed entries)."""
    conversation = conversation_of("", "", room_id)
    record(
        conn, Activity(conversation, None, None, room_id, at, actor_id, None, message_id, MESSAGE)
    )
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
