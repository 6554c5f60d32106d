"""The SQL of the `notifications` table in overlay.db; no other module touches it.

A row tells one person (person_id) that an actor did something (kind) about a comment on a
document, or about a chat message in a room (room_id, message_id; drive_id and item_id are ''
for channels and direct rooms). Nothing here trims: notifications.reads does, at read time.
Functions take the connection to run on (a write's transaction, or `db.social()` for a read).

A notification's id, as people see it, is random (public_id): the rowid counts everyone's
notifications, so it only orders them inside; a chat mention names its message the same way.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from overlay_app.chat import store_messages
from overlay_app.db import SocialConn

MENTION, REPLY, LIKE = "mention", "reply", "like"  # the kinds
# Moderation (admin/moderation.py): a report for a moderator, an act told to the author. Their
# rows carry drive_id = item_id = '' and no room: they name no document, so no trimming.
REPORTED, MODERATED = "report", "moderation"
MENTION, REPLY, LIKE = "mention", "reply", "like"  # the kinds (follow.levels adds more)

# The hot queries, as constants so that tests can check their plans (notifications_by_person).
NEWEST_SQL = f"""
    SELECT n.id, n.kind, n.actor_id, n.drive_id, n.item_id, n.comment_id, n.created_at,
           n.read_at, n.room_id, n.message_id, n.public_id, m.public_id
    FROM notifications AS n {store_messages.MESSAGE_OF_N}
    WHERE n.person_id = :person AND n.id < :before AND (:unread_only = 0 OR n.read_at IS NULL)
    ORDER BY n.id DESC LIMIT :batch"""

UNREAD_BY_DOCUMENT_SQL = """
    SELECT drive_id, item_id, room_id, count(*) FROM notifications
    WHERE person_id = :person AND read_at IS NULL
    GROUP BY drive_id, item_id, room_id"""

# This store's part of access.INTERACTED_AMONG_SQL: among the keys in the CTE `wanted`, the
# documents :person was notified about.
INTERACTED_SQL = """
    SELECT drive_id, item_id FROM notifications
    WHERE person_id = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)"""


@dataclass(frozen=True)
class Row:
    """What a notification says, as stored (before trimming and naming)."""

    recipient_id: str
    kind: str
    actor_id: str
    drive_id: str
    item_id: str
    comment_id: str | None
    at: str
    room_id: str | None = None
    message_id: int | None = None


def insert(conn: sqlite3.Connection, row: Row, public_id: str) -> int:
    """Records the notification under its (public) id; its rowid."""
    cursor = conn.execute(
        "INSERT INTO notifications (person_id, kind, actor_id, drive_id, item_id, comment_id,"
        " created_at, room_id, message_id, public_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        [
            row.recipient_id,
            row.kind,
            row.actor_id,
            row.drive_id,
            row.item_id,
            row.comment_id,
            row.at,
            row.room_id,
            row.message_id,
            public_id,
        ],
    )
    return int(cursor.fetchone()[0])


def delete_about_comment(
    conn: sqlite3.Connection,
    comment_id: str,
    kind: str | None = None,
    actor_id: str | None = None,
    recipients: list[str] | None = None,
) -> None:
    """Removes the comment's notifications: all, or those of that kind, actor, recipients."""
    sql = "DELETE FROM notifications WHERE comment_id = ?"
    params: list[Any] = [comment_id]
    if kind is not None:
        sql, params = sql + " AND kind = ?", [*params, kind]
    if actor_id is not None:
        sql, params = sql + " AND actor_id = ?", [*params, actor_id]
    if recipients is not None:
        sql += " AND person_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(recipients))
    conn.execute(sql, params)


def delete_about_message(
    conn: sqlite3.Connection, message_id: int, recipients: list[str] | None = None
) -> None:
    """Removes the chat message's notifications: all, or those of these recipients."""
    sql, params = "DELETE FROM notifications WHERE message_id = ?", [message_id]
    if recipients is not None:
        sql += " AND person_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(recipients))
    conn.execute(sql, params)


def newest(
    conn: SocialConn, person_id: str, before: int, unread_only: bool, batch: int
) -> list[tuple]:
    """The person's notifications with ids below `before`, newest first, at most `batch`:
    (rowid, kind, actor_id, drive_id, item_id, comment_id, created_at, read_at, room_id,
    message rowid, public_id, the message's public_id). Untrimmed."""
    params = {"person": person_id, "before": before, "unread_only": int(unread_only)}
    return conn.execute(NEWEST_SQL, {**params, "batch": batch}).fetchall()


def unread_by_place(conn: SocialConn, person_id: str) -> list[tuple[str, str, str | None, int]]:
    """(drive_id, item_id, room_id, count) of the person's unread notifications. Untrimmed."""
    return conn.execute(UNREAD_BY_DOCUMENT_SQL, {"person": person_id}).fetchall()


def mark_read(conn: sqlite3.Connection, person_id: str, ids: list[str] | None, at: str) -> None:
    """Marks the person's own unread notifications read: those (public) ids, or all
    (ids=None)."""
    sql = "UPDATE notifications SET read_at = ? WHERE person_id = ? AND read_at IS NULL"
    params: list[Any] = [at, person_id]
    if ids is not None:
        sql += " AND public_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(ids))
    conn.execute(sql, params)


def export_person(conn: SocialConn, person_id: str) -> list[tuple]:
    """(public_id, kind, actor_id, drive_id, item_id, created_at, read_at) sent to the person."""
    return conn.execute(
        "SELECT public_id, kind, actor_id, drive_id, item_id, created_at, read_at"
        " FROM notifications WHERE person_id = ? ORDER BY id",
        [person_id],
    ).fetchall()


def erase_person(conn: sqlite3.Connection, person_id: str, erased: str) -> None:
    """Their notifications go; those they caused name `erased` as the actor."""
    conn.execute("DELETE FROM notifications WHERE person_id = ?", [person_id])
    conn.execute("UPDATE notifications SET actor_id = ? WHERE actor_id = ?", [erased, person_id])


def reads_since(conn: SocialConn, since: str) -> list[tuple[str, str, str, str]]:
    """(person_id, drive_id, item_id, read_at) of document notifications read at or after
    `since`: the only per-person reading signal Plaza keeps (insights counts it, never lists it)."""
    return conn.execute(
        "SELECT person_id, drive_id, item_id, read_at FROM notifications"
        " WHERE read_at >= ? AND drive_id != ''",
        [since],
    ).fetchall()


def read_among(conn: SocialConn, rowids: list[int]) -> set[int]:
    """The rowids among these of notifications that were read (or withdrawn: gone counts as
    nothing left to tell), for the mail sender's "not mailed if read meanwhile"."""
    if not rowids:
        return set()
    rows = conn.execute(
        "SELECT CAST(value AS BIGINT) FROM json_each(?) WHERE CAST(value AS BIGINT) NOT IN"
        " (SELECT id FROM notifications WHERE read_at IS NULL AND id IN"
        "  (SELECT CAST(value AS BIGINT) FROM json_each(?)))",
        [json.dumps(rowids), json.dumps(rowids)],
    )
    return {rowid for (rowid,) in rows}


# This store's part of insights' daily totals (insights/store_totals.py): the document
# notifications read on the day [:a, :b), as reads_since counts them.
DAY_READS_SQL = """
    SELECT drive_id, item_id, person_id, 0, 0, 0, 0, 1 FROM notifications
     WHERE read_at >= :a AND read_at < :b AND drive_id != ''"""
