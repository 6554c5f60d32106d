"""Insights' aggregate reads over chat messages and read markers (untrimmed: the caller
passes rooms the viewer may see, or trims by document): what chat did since a moment, and this
store's part of insights' daily totals. The tables are chat.store_messages'; these queries are
kept apart because only overlay_app/insights reads them."""

from __future__ import annotations

from collections.abc import Iterable

from overlay_app.chat.store_messages import rooms_json
from overlay_app.db import SocialConn


def messages_since(conn: SocialConn, room_ids: Iterable[str], since: str) -> list[tuple]:
    """(room_id, author_id, created_at) of the live messages in those rooms written at or
    after `since`."""
    return conn.execute(
        "SELECT room_id, author_id, created_at FROM messages"
        " WHERE room_id IN (SELECT value FROM json_each(:rooms)) AND created_at >= :since"
        " AND deleted_at IS NULL ORDER BY id",
        {"rooms": rooms_json(room_ids), "since": since},
    ).fetchall()


def read_marker_moves_since(conn: SocialConn, room_ids: Iterable[str], since: str) -> list[tuple]:
    """(room_id, person_id, updated_at) of read markers moved at or after `since` in those
    rooms: only the latest move per person and room is kept, which is all insights count."""
    return conn.execute(
        "SELECT room_id, person_id, updated_at FROM read_markers"
        " WHERE room_id IN (SELECT value FROM json_each(:rooms)) AND updated_at >= :since",
        {"rooms": rooms_json(room_ids), "since": since},
    ).fetchall()


def document_room_messages_since(conn: SocialConn, since: str) -> list[tuple[str, str, str, str]]:
    """(drive_id, item_id, author_id, created_at) of the live messages written at or after
    `since` in document rooms: insights count them for their document (and trim them by it)."""
    return conn.execute(
        "SELECT r.drive_id, r.item_id, m.author_id, m.created_at"
        " FROM messages AS m JOIN rooms AS r ON r.id = m.room_id"
        " WHERE m.created_at >= ? AND m.deleted_at IS NULL AND m.hidden_at IS NULL"
        " AND r.kind = 'document'"
        " ORDER BY m.id",
        [since],
    ).fetchall()


def document_room_marker_moves_since(
    conn: SocialConn, since: str
) -> list[tuple[str, str, str, str]]:
    """(drive_id, item_id, person_id, updated_at) of read markers moved at or after `since` in
    document rooms (the latest move per person and room)."""
    return conn.execute(
        "SELECT r.drive_id, r.item_id, k.person_id, k.updated_at"
        " FROM read_markers AS k JOIN rooms AS r ON r.id = k.room_id"
        " WHERE k.updated_at >= ? AND r.kind = 'document'",
        [since],
    ).fetchall()


def document_room_keys_since(conn: SocialConn, since: str) -> list[tuple[str, str]]:
    """(drive_id, item_id) of the documents whose room has a live, shown message written at
    or after `since` (discussed there, for insights' network)."""
    rows = conn.execute(
        "SELECT DISTINCT r.drive_id, r.item_id FROM messages AS m JOIN rooms AS r"
        " ON r.id = m.room_id WHERE m.created_at >= ? AND m.deleted_at IS NULL"
        " AND m.hidden_at IS NULL AND r.kind = 'document'",
        [since],
    )
    return [(drive_id, item_id) for drive_id, item_id in rows]


# This store's part of insights' daily totals (insights/store_totals.py): the live, shown
# messages written and the read markers moved in document rooms on the day [:a, :b).
DAY_DOCUMENT_ROOMS_SQL = """
    SELECT r.drive_id, r.item_id, m.author_id, 0, 0, 0, 1, 0
      FROM messages AS m JOIN rooms AS r ON r.id = m.room_id
     WHERE m.created_at >= :a AND m.created_at < :b AND m.deleted_at IS NULL
       AND m.hidden_at IS NULL AND r.kind = 'document'
    UNION ALL
    SELECT r.drive_id, r.item_id, k.person_id, 0, 0, 0, 0, 1
      FROM read_markers AS k JOIN rooms AS r ON r.id = k.room_id
     WHERE k.updated_at >= :a AND k.updated_at < :b AND r.kind = 'document'"""
