"""Queueing what a person is to be told by mail, inside the transaction of the write that
caused it (notifications.actions.notify calls `queue`): a mention is due after a short delay
(`mail_mention_delay_seconds`, 2 minutes by default) and dropped if read meanwhile; everything
else waits for the person's digest, unless they turned the digest off."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from flask import current_app

from overlay_app.follow.levels import MENTION
from overlay_app.mail import store
from overlay_app.notifications.store import Row

DEFAULT_DELAY_SECONDS = 120


def conversation_of(drive_id: str, item_id: str, room_id: str | None) -> str:
    """One mail (or digest entry) per conversation: a document's discussion or a chat room."""
    return f"room:{room_id}" if room_id else f"doc:{drive_id}/{item_id}"


def queue(conn: sqlite3.Connection, row: Row, notification_id: int | None) -> None:
    immediate = row.kind == MENTION
    if not immediate and store.digest_choice(conn, row.recipient_id)[0] == store.OFF:
        return
    delay = current_app.extensions["plaza.settings"].mail_mention_delay_seconds
    due = shifted(row.at, delay if immediate else 0)
    item = store.Item(
        0, row.recipient_id, row.kind, immediate,
        conversation_of(row.drive_id, row.item_id, row.room_id),
        row.drive_id, row.item_id, row.room_id, notification_id, row.actor_id, row.at, due,
        row.comment_id, row.message_id,
    )  # fmt: skip
    store.enqueue(conn, item)


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def stamp(moment: datetime) -> str:
    """As the social store writes times (discussion.now): UTC, milliseconds, a Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def shifted(at: str, seconds: float) -> str:
    return stamp(parse_time(at) + timedelta(seconds=seconds))
