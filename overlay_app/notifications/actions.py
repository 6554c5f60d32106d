"""Writing notifications: `notify` and `withdraw*` run inside the transaction of the write that
caused them (a comment, a like, a chat message), so a notification exists exactly when its
cause does; marking read is the one write of its own (`check_read_request`, `mark_read`).

Nobody is notified about their own doing. Withdrawing is how a deleted comment, a mention
edited away or a like taken back stops speaking: toggling never piles notifications up.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from overlay_app import db, schema
from overlay_app.errors import BadInput
from overlay_app.follow import levels
from overlay_app.identity import Person
from overlay_app.mail import queueing
from overlay_app.notifications import store

# Re-exported (the `as` form says so): callers name the kinds as notifications.MENTION.
from overlay_app.notifications.store import LIKE as LIKE
from overlay_app.notifications.store import MENTION as MENTION
from overlay_app.notifications.store import REPLY as REPLY

MAX_IDS = 500


def notify(
    conn: sqlite3.Connection,
    *,
    recipient_id: str | None,
    kind: str,
    actor_id: str,
    drive_id: str,
    item_id: str,
    comment_id: str | None,
    at: str,
    room_id: str | None = None,
    message_id: int | None = None,
) -> str | None:
    """Records one notification, unless the recipient is the actor, by the channels that the
    recipient's level on the place and their choices for this kind of event name (follow.levels):
    in Plaza (a row; its public id is returned), by email (queued for the mail sender)."""
    if recipient_id is None or recipient_id == actor_id:
        return None
    channels = levels.channels_for(
        conn, recipient_id, kind, levels.place_of(drive_id, item_id, room_id)
    )
    row = store.Row(
        recipient_id, kind, actor_id, drive_id, item_id, comment_id, at, room_id, message_id
    )
    public_id = rowid = None
    if levels.IN_APP.name in channels:
        public_id = schema.new_public_id()
        rowid = store.insert(conn, row, public_id)
    if levels.EMAIL.name in channels:
        queueing.queue(conn, row, rowid)
    return public_id


def withdraw(
    conn: sqlite3.Connection,
    comment_id: str,
    *,
    kind: str | None = None,
    actor_id: str | None = None,
    recipients: list[str] | None = None,
) -> None:
    """Removes notifications about a comment (deleted, edited away, or a like taken back)."""
    store.delete_about_comment(conn, comment_id, kind, actor_id, recipients)


def withdraw_message(
    conn: sqlite3.Connection, message_id: int, recipients: list[str] | None = None
) -> None:
    """Removes notifications about a chat message (deleted, or mentions edited away)."""
    store.delete_about_message(conn, message_id, recipients)


def check_read_request(payload: Any) -> list[str] | None:
    """{"ids": [..]} or {"all": true} -> the ids, or None for all."""
    if not isinstance(payload, dict):
        raise BadInput('Send {"ids": [...]} or {"all": true}.')
    if payload.get("all") is True:
        return None
    ids = payload.get("ids")
    if not isinstance(ids, list) or not all(schema.is_public_id(i) for i in ids):
        raise BadInput('Send {"ids": [...]} (notification ids, as listed) or {"all": true}.')
    if len(ids) > MAX_IDS:
        raise BadInput('At most %(most)s ids at once; or send {"all": true}.', most=MAX_IDS)
    return ids


def mark_read(person: Person, ids: list[str] | None, at: str) -> None:
    """Marks the person's own notifications read: the given ids, or all of them (ids=None)."""
    with db.transaction() as conn:
        store.mark_read(conn, person.id, ids, at)
