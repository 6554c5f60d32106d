"""The SQL of chat messages in overlay.db: `messages` (and its full-text index `messages_fts`),
`message_mentions` and `read_markers`. No other module touches these tables (rooms and their
members are chat.store_rooms'), but for insights' aggregate reads over them (chat.store_insights).

Nothing here decides who may see a message: callers pass rooms that chat.access let through,
or trim what comes back (search hits). Each function takes the connection to run on (a write's
transaction, or `db.social()` for a read) and returns message rows as tuples in
MESSAGE_FIELDS order, ids and counts. A message has two ids: its rowid (`id`, which counts every
room's messages) stays inside and orders them; people see `public_id` (random) and `seq` (its
place in its room: 1, 2, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from overlay_app import schema, search_sql
from overlay_app.db import SocialConn
from overlay_app.dialect import is_postgres
from overlay_app.times import now_stamp

MESSAGE_FIELDS = (
    "id", "room_id", "author_id", "body", "body_html", "created_at", "edited_at", "deleted_at",
    "client_key", "public_id", "seq",
)  # fmt: skip
# A message a moderator hid (admin/moderation.py) reads as deleted everywhere (its place in
# the room stays, without words); other features' queries over `messages` keep it out with
# SHOWN ("m." + SHOWN with an alias).
SHOWN = "hidden_at IS NULL"


def _columns(alias: str = "") -> str:
    """MESSAGE_FIELDS as selected: a hidden message's words blank, and it counts as deleted."""
    p = f"{alias}." if alias else ""
    shown = {
        "body": f"CASE WHEN {p}hidden_at IS NULL THEN {p}body ELSE '' END",
        "body_html": f"CASE WHEN {p}hidden_at IS NULL THEN {p}body_html ELSE '' END",
        "deleted_at": f"coalesce({p}deleted_at, {p}hidden_at)",
    }
    return ", ".join(shown.get(name, p + name) for name in MESSAGE_FIELDS)


MESSAGE_COLUMNS = _columns()
NO_MESSAGE_YET = 2**62  # an id after every message: "before" it is "the newest"

# The hot queries, as constants so that tests can check their plans (messages_by_room).
HISTORY_BEFORE_SQL = f"""
    SELECT {MESSAGE_COLUMNS} FROM messages
    WHERE room_id = :room AND id < :before ORDER BY id DESC LIMIT :limit"""
HISTORY_AFTER_SQL = f"""
    SELECT {MESSAGE_COLUMNS} FROM messages
    WHERE room_id = :room AND id > :after AND id < :before ORDER BY id LIMIT :limit"""
# Counted room by room (a range of messages_by_room after the reader's marker; materialised so
# that the count is not repeated for the filter): a join of the rooms with messages let
# PostgreSQL's planner, which cannot see how few rooms are passed, scan every message.
UNREAD_SQL = """
    WITH counted AS MATERIALIZED (
      SELECT r.value AS room_id, (
        SELECT count(*) FROM messages AS m
        WHERE m.room_id = r.value AND m.id > coalesce((
            SELECT rm.last_read_id FROM read_markers AS rm
            WHERE rm.room_id = r.value AND rm.person_id = :me), 0)
          AND m.author_id != :me AND m.deleted_at IS NULL AND m.hidden_at IS NULL
      ) AS unread
      FROM json_each(:rooms) AS r
    )
    SELECT room_id, unread FROM counted WHERE unread > 0"""
LAST_MESSAGE_SQL = """
    SELECT m.room_id, m.id, m.public_id FROM json_each(:rooms) AS r
    JOIN messages AS m ON m.id = (SELECT max(id) FROM messages WHERE room_id = r.value)"""
MARKERS_SQL = """
    SELECT rm.room_id, m.public_id, m.seq FROM read_markers AS rm
    JOIN messages AS m ON m.id = rm.last_read_id
    WHERE rm.person_id = :me AND rm.room_id IN (SELECT value FROM json_each(:rooms))"""
SEARCH_SQL = f"""
    SELECT {_columns("m")}, snippet(messages_fts, 0, :open, :close, '…', 16)
    FROM messages_fts JOIN messages AS m ON m.id = messages_fts.rowid
    WHERE messages_fts MATCH :match AND m.deleted_at IS NULL AND m.{SHOWN} AND m.id < :before
      AND (:room IS NULL OR m.room_id = :room)
    ORDER BY m.id DESC LIMIT :batch"""
# The same on PostgreSQL (overlay_app/search_sql.py): the last column is the whole text marked.
PG_SEARCH_SQL = f"""
    SELECT {_columns("m")}, {search_sql.marked_all("m.body", ":match", ":options")}
    FROM messages AS m
    WHERE {search_sql.matches("m.body", ":match")} AND m.deleted_at IS NULL AND m.{SHOWN}
      AND m.id < :before AND (CAST(:room AS text) IS NULL OR m.room_id = :room)
    ORDER BY m.id DESC LIMIT :batch"""

# A condition on the room aliased `r` (chat.store_rooms.INTERACTED_SQL): :person wrote in it,
# or was mentioned there. Deleted messages count: they were still interactions.
WROTE_OR_WAS_MENTIONED_IN_R = """EXISTS (SELECT 1 FROM messages AS m
                  LEFT JOIN message_mentions AS mm
                    ON mm.message_id = m.id AND mm.person_id = :person
                  WHERE m.room_id = r.id AND (m.author_id = :person OR mm.person_id IS NOT NULL))"""

# The message a notification aliased `n` names, as `m` (notifications.NEWEST_SQL shows its
# public_id): the join is this module's, as the table is; a row without a message keeps NULLs.
MESSAGE_OF_N = "LEFT JOIN messages AS m ON m.id = n.message_id"


def rooms_json(room_ids: Iterable[str]) -> str:
    """Room ids as the JSON array `json_each(:rooms)` reads."""
    return json.dumps(sorted(set(room_ids)))


# -- reading messages ----------------------------------------------------------------------------


def message_by_id(conn: SocialConn, message_id: int) -> tuple | None:
    return conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", [message_id]
    ).fetchone()


def message_by_public_id(conn: SocialConn, public_id: str) -> tuple | None:
    """A message's row by the id people see."""
    return conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE public_id = ?", [public_id]
    ).fetchone()


def message_for_moderation(conn: SocialConn, public_id: str) -> tuple | None:
    """The message as stored, hidden words included (MESSAGE_FIELDS, then hidden_at): for
    moderators only."""
    return conn.execute(
        f"SELECT {', '.join(MESSAGE_FIELDS)}, hidden_at FROM messages WHERE public_id = ?",
        [public_id],
    ).fetchone()


def set_hidden(conn: SocialConn, message_id: int, at: str | None) -> None:
    """Hides the message from every surface (at = when), or shows it again (None)."""
    conn.execute("UPDATE messages SET hidden_at = ? WHERE id = ?", [at, message_id])


def place_in(conn: SocialConn, room_id: str, public_id: str) -> int | None:
    """The rowid of one of the room's messages, given its public id (to page from it)."""
    row = conn.execute(
        "SELECT id FROM messages WHERE room_id = ? AND public_id = ?", [room_id, public_id]
    ).fetchone()
    return row[0] if row else None


def public_place(conn: SocialConn, message_id: int) -> tuple[str, int]:
    """(public id, seq) of a message, given its rowid."""
    return conn.execute("SELECT public_id, seq FROM messages WHERE id = ?", [message_id]).fetchone()


def messages_before(conn: SocialConn, room_id: str, before: int | None, limit: int) -> list[tuple]:
    """Up to `limit` of the room's messages before `before` (None: the newest), newest first."""
    params = {"room": room_id, "before": NO_MESSAGE_YET if before is None else before}
    return conn.execute(HISTORY_BEFORE_SQL, {**params, "limit": limit}).fetchall()


def messages_after(
    conn: SocialConn, room_id: str, after: int, before: int | None, limit: int
) -> list[tuple]:
    """Up to `limit` of the room's messages after `after` (and before `before`), oldest first."""
    params = {"room": room_id, "after": after, "limit": limit}
    params["before"] = NO_MESSAGE_YET if before is None else before
    return conn.execute(HISTORY_AFTER_SQL, params).fetchall()


def matching_messages(
    conn: SocialConn, match: str, room_id: str | None, before: int, batch: int, marks: tuple
) -> list[tuple]:
    """Up to `batch` live messages before `before` matching the FTS query `match` (in one room,
    or in any), newest first: the message row and a snippet with its matches between `marks`.
    Untrimmed: callers keep the hits in rooms the person may see."""
    params = {"match": match, "room": room_id, "before": before, "batch": batch}
    if is_postgres(conn):
        params.update(match=search_sql.tsquery_text(match))
        params["options"] = search_sql.headline_options(*marks)
        rows = conn.execute(PG_SEARCH_SQL, params).fetchall()
        return [(*row[:-1], search_sql.snippet(row[-1], *marks)) for row in rows]
    params.update(open=marks[0], close=marks[1])
    return conn.execute(SEARCH_SQL, params).fetchall()


def message_by_client_key(conn: SocialConn, author_id: str, key: str) -> tuple | None:
    """(id, room_id, body, edited_at, deleted_at) of the author's message with this key."""
    return conn.execute(
        "SELECT id, room_id, CASE WHEN hidden_at IS NULL THEN body ELSE '' END, edited_at,"
        " coalesce(deleted_at, hidden_at) FROM messages WHERE author_id = ? AND client_key = ?",
        [author_id, key],
    ).fetchone()


def live_bodies(conn: SocialConn, message_ids: Iterable[int]) -> dict[int, str]:
    """The text of those of the messages that are not deleted."""
    rows = conn.execute(
        f"SELECT id, body FROM messages WHERE deleted_at IS NULL AND {SHOWN}"
        " AND id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
        [json.dumps(sorted(message_ids))],
    )
    return dict(rows.fetchall())


# -- a room's activity -----------------------------------------------------------------------------


def latest_live_message(conn: SocialConn, room_id: str) -> tuple[int, str, str] | None:
    """(rowid, author_id, created_at) of the room's newest message neither deleted nor
    hidden, or None."""
    return conn.execute(
        f"SELECT id, author_id, created_at FROM messages WHERE room_id = ?"
        f" AND deleted_at IS NULL AND {SHOWN} ORDER BY id DESC LIMIT 1",
        [room_id],
    ).fetchone()


def last_messages(conn: SocialConn, room_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
    """(rowid, public id) of each room's newest message, deleted or not, for the rooms that
    have one."""
    rows = conn.execute(LAST_MESSAGE_SQL, {"rooms": rooms_json(room_ids)})
    return {room: (rowid, public_id) for room, rowid, public_id in rows}


def unread_counts(conn: SocialConn, person_id: str, room_ids: Iterable[str]) -> dict[str, int]:
    """Messages after the person's read marker, not their own and not deleted, per room (rooms
    without any are left out)."""
    params = {"me": person_id, "rooms": rooms_json(room_ids)}
    return dict(conn.execute(UNREAD_SQL, params).fetchall())


def read_markers(
    conn: SocialConn, person_id: str, room_ids: Iterable[str]
) -> dict[str, tuple[str, int]]:
    """(public id, seq) of the message the person's read marker names, per room that has one."""
    params = {"me": person_id, "rooms": rooms_json(room_ids)}
    return {room: (id_, seq) for room, id_, seq in conn.execute(MARKERS_SQL, params)}


def read_marker(conn: SocialConn, room_id: str, person_id: str) -> int:
    """The id of the last message the person read in the room; 0 for none."""
    row = conn.execute(
        "SELECT last_read_id FROM read_markers WHERE room_id = ? AND person_id = ?",
        [room_id, person_id],
    ).fetchone()
    return row[0] if row else 0


# -- writes ------------------------------------------------------------------------------------


def insert_message(
    conn: SocialConn, room_id: str, author_id: str, body: str, body_html: str, at: str,
    client_key: str | None,
) -> int:  # fmt: skip
    """A new message, with a new random public id and the next seq of its room; its rowid."""
    message_id = conn.execute(
        "INSERT INTO messages"
        " (room_id, author_id, body, body_html, created_at, client_key, public_id, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?,"
        " coalesce((SELECT seq FROM messages WHERE room_id = ? ORDER BY id DESC LIMIT 1), 0) + 1)"
        " RETURNING id",
        [room_id, author_id, body, body_html, at, client_key, schema.new_public_id(), room_id],
    ).fetchone()[0]
    return int(message_id)


def edit_message(conn: SocialConn, message_id: int, body: str, body_html: str, at: str) -> None:
    conn.execute(
        "UPDATE messages SET body = ?, body_html = ?, edited_at = ? WHERE id = ?",
        [body, body_html, at, message_id],
    )


def blank_message(conn: SocialConn, message_id: int, at: str) -> None:
    """A deleted message keeps its place (its row, id and author) but loses its words."""
    conn.execute(
        "UPDATE messages SET body = '', body_html = '', deleted_at = ? WHERE id = ?",
        [at, message_id],
    )


def mentioned_in(conn: SocialConn, message_id: int) -> set[str]:
    rows = conn.execute("SELECT person_id FROM message_mentions WHERE message_id = ?", [message_id])
    return {row[0] for row in rows}


def add_mentions(conn: SocialConn, message_id: int, person_ids: Iterable[str]) -> None:
    conn.executemany(
        "INSERT INTO message_mentions (message_id, person_id) VALUES (?, ?)",
        [(message_id, person_id) for person_id in person_ids],
    )


def clear_mentions(conn: SocialConn, message_id: int) -> None:
    conn.execute("DELETE FROM message_mentions WHERE message_id = ?", [message_id])


def move_read_marker(
    conn: SocialConn, room_id: str, person_id: str, last_read_id: int, at: str
) -> None:
    """Sets the person's marker in the room (the caller keeps it from moving back)."""
    conn.execute(
        "INSERT INTO read_markers (room_id, person_id, last_read_id, updated_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (room_id, person_id)"
        " DO UPDATE SET last_read_id = excluded.last_read_id, updated_at = excluded.updated_at",
        [room_id, person_id, last_read_id, at],
    )


# -- data requests (admin/data_requests.py) --------------------------------------------------------


def export_person(conn: SocialConn, person_id: str) -> list[tuple]:
    """(public_id, room_id, body, created_at, edited_at, deleted_at, hidden_at) of the person's
    messages, oldest first."""
    return conn.execute(
        "SELECT public_id, room_id, body, created_at, edited_at, deleted_at, hidden_at"
        " FROM messages WHERE author_id = ? ORDER BY id",
        [person_id],
    ).fetchall()


def erase_person(conn: SocialConn, person_id: str, erased: str, remove: bool) -> list[tuple]:
    """The person's messages pass to `erased` (words removed too if `remove`); their mentions
    and read markers go. (room_id, public_id) of each message, for the event log."""
    mine = conn.execute(
        "SELECT room_id, public_id FROM messages WHERE author_id = ?", [person_id]
    ).fetchall()
    if remove:
        conn.execute("UPDATE messages SET body = '', body_html = '', deleted_at ="
                     " coalesce(deleted_at, ?) WHERE author_id = ?",
                     [now_stamp(), person_id])  # fmt: skip
    # client_key goes: it is unique per author, and keys of several erased people would collide
    conn.execute(
        "UPDATE messages SET author_id = ?, client_key = NULL WHERE author_id = ?",
        [erased, person_id],
    )
    conn.execute("DELETE FROM message_mentions WHERE person_id = ?", [person_id])
    conn.execute("DELETE FROM read_markers WHERE person_id = ?", [person_id])
    return mine
