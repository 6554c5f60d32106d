"""The SQL of `feed_activity` (one row per conversation: its latest activity) and
`feed_actors` (who acted in it, with the conversation's latest time, so that "conversations
these people took part in, newest first" is one index range) in overlay.db. Untrimmed:
feed.reads trims. A conversation is "doc:{drive_id}/{item_id}" or "room:{room_id}"."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from overlay_app.db import SocialConn
from overlay_app.dialect import unpinned

TOP_AT = "9999"  # a time after every activity


@dataclass(frozen=True)
class Activity:
    conversation: str
    drive_id: str | None
    item_id: str | None
    room_id: str | None
    last_at: str
    last_actor_id: str
    last_comment_id: str | None
    last_message_id: int | None
    last_kind: str = "comment"  # comment | message (chat) | like | tag (an addition)


_COLUMNS = """a.conversation, a.drive_id, a.item_id, a.room_id, a.last_at, a.last_actor_id,
    a.last_comment_id, a.last_message_id, a.last_kind"""

# The arms of what one follows: each reads its own index newest first and stops at :batch
# (tests check their plans). A new follow's backfill (feed.inbox) reads one of them.
# A person's inbox, newest first, from a cursor: one range of feed_inbox_by_time.
INBOX = f"""
    SELECT {_COLUMNS} FROM (
        SELECT x.conversation FROM feed_inbox AS x
        WHERE x.person_id = :person AND (x.at, x.conversation) < (:at, :conversation)
        ORDER BY x.at DESC, x.conversation DESC LIMIT :batch) AS top
    JOIN feed_activity AS a ON a.conversation = top.conversation
    ORDER BY a.last_at DESC, a.conversation DESC"""

ARMS = {
    "conversations": f"""
        SELECT {_COLUMNS} FROM feed_activity AS a
        WHERE a.conversation IN (SELECT value FROM json_each(:values)) AND a.last_at <= :at
        ORDER BY a.last_at DESC, a.conversation DESC LIMIT :batch""",
    "drives": f"""
        SELECT {_COLUMNS} FROM feed_activity AS a INDEXED BY feed_activity_by_drive
        WHERE a.drive_id IN (SELECT value FROM json_each(:values)) AND a.last_at <= :at
        ORDER BY a.last_at DESC, a.conversation DESC LIMIT :batch""",
    # One person's conversations, newest first: asked once per person (`_actor_rows`), so
    # that each reads at most a batch through the index instead of all of everyone's sorted.
    "actor": f"""
        SELECT {_COLUMNS} FROM (
            SELECT x.conversation FROM feed_actors AS x
            WHERE x.actor_id = :value AND x.conversation_at <= :at
            ORDER BY x.conversation_at DESC, x.conversation DESC LIMIT :batch) AS top
        JOIN feed_activity AS a ON a.conversation = top.conversation""",
    "tags": f"""
        SELECT {_COLUMNS} FROM tags AS t
        JOIN feed_activity AS a ON a.conversation = 'doc:' || t.drive_id || '/' || t.item_id
        WHERE t.tag IN (SELECT value FROM json_each(:values)) AND a.last_at <= :at
        ORDER BY a.last_at DESC, a.conversation DESC LIMIT :batch""",
}


# The conversation's new time for everyone already holding it, and a row for each of :people
# (the actor, for feed_actors) who does not: one statement per table. The UNION drops
# duplicates, so no row is updated twice.
ACTORS_MOVED = """INSERT INTO feed_actors (conversation, actor_id, conversation_at)
    SELECT :conversation, value, :at FROM json_each(:people) WHERE true
    UNION SELECT conversation, actor_id, :at FROM feed_actors WHERE conversation = :conversation
    ON CONFLICT (conversation, actor_id) DO UPDATE SET conversation_at = excluded.conversation_at"""
INBOX_MOVED = """INSERT INTO feed_inbox (person_id, conversation, at)
    SELECT value, :conversation, :at FROM json_each(:people) WHERE true
    UNION SELECT person_id, conversation, :at FROM feed_inbox WHERE conversation = :conversation
    ON CONFLICT (conversation, person_id) DO UPDATE SET at = excluded.at"""


def touch(conn: sqlite3.Connection, activity: Activity, audience: Iterable[str]) -> None:
    """New activity in the conversation, by `last_actor_id`: its latest, its time in every
    inbox holding it, and into the inboxes of `audience` (feed.inbox chooses them)."""
    a = activity
    conn.execute(
        "INSERT INTO feed_activity (conversation, drive_id, item_id, room_id, last_at,"
        " last_actor_id, last_comment_id, last_message_id, last_kind)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (conversation) DO UPDATE SET last_at = excluded.last_at,"
        " last_actor_id = excluded.last_actor_id, last_comment_id = excluded.last_comment_id,"
        " last_message_id = excluded.last_message_id, last_kind = excluded.last_kind",
        [a.conversation, a.drive_id, a.item_id, a.room_id, a.last_at, a.last_actor_id,
         a.last_comment_id, a.last_message_id, a.last_kind],
    )  # fmt: skip
    moved = {"conversation": a.conversation, "at": a.last_at}
    conn.execute(ACTORS_MOVED, {**moved, "people": json.dumps([a.last_actor_id])})
    conn.execute(INBOX_MOVED, {**moved, "people": json.dumps(sorted(set(audience)))})


def _moved(conn: sqlite3.Connection, conversation: str, at: str) -> None:
    """The conversation's time, wherever it is kept beside feed_activity."""
    conn.execute(
        "UPDATE feed_actors SET conversation_at = ? WHERE conversation = ?", [at, conversation]
    )
    conn.execute("UPDATE feed_inbox SET at = ? WHERE conversation = ?", [at, conversation])


def forget(conn: sqlite3.Connection, conversation: str) -> None:
    """No live activity is left in the conversation: it leaves every feed."""
    for table in ("feed_activity", "feed_actors", "feed_inbox"):
        conn.execute(f"DELETE FROM {table} WHERE conversation = ?", [conversation])


def set_latest(conn: sqlite3.Connection, activity: Activity) -> None:
    """The conversation's latest live activity is now this one (after a deletion or hiding)."""
    conn.execute(
        "UPDATE feed_activity SET last_at = ?, last_actor_id = ?, last_comment_id = ?,"
        " last_message_id = ?, last_kind = ? WHERE conversation = ?",
        [activity.last_at, activity.last_actor_id, activity.last_comment_id,
         activity.last_message_id, activity.last_kind, activity.conversation],
    )  # fmt: skip
    _moved(conn, activity.conversation, activity.last_at)


def latest(conn: SocialConn, conversation: str) -> Activity | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM feed_activity AS a WHERE a.conversation = ?", [conversation]
    ).fetchone()
    return None if row is None else Activity(*row)


# -- the inbox -----------------------------------------------------------------------------------


def deliver(conn: sqlite3.Connection, conversation: str, at: str, people: Iterable[str]) -> None:
    """The conversation is in these people's inboxes (at its latest time)."""
    conn.executemany(
        "INSERT INTO feed_inbox (person_id, conversation, at) VALUES (?, ?, ?)"
        " ON CONFLICT (conversation, person_id) DO UPDATE SET at = excluded.at",
        [(person_id, conversation, at) for person_id in sorted(set(people))],
    )


def inbox(conn: SocialConn, person_id: str, before: tuple[str, str], batch: int) -> list[Activity]:
    """The person's conversations before the cursor `before` (last_at, conversation), newest
    first, at most `batch`."""
    params = {"person": person_id, "at": before[0], "conversation": before[1], "batch": batch}
    return [Activity(*row) for row in conn.execute(INBOX, params)]


def recent(conn: SocialConn, arm: str, values: list[str], limit: int) -> list[Activity]:
    """The newest conversations of one arm (a new follow's backfill): for "actor", values
    holds the one person."""
    params: dict = {"at": TOP_AT, "batch": limit}
    params |= {"value": values[0]} if arm == "actor" else {"values": json.dumps(sorted(values))}
    sql = unpinned(conn, ARMS[arm], "feed_activity_by_drive")
    return [Activity(*row) for row in conn.execute(sql, params)]


def actors_in(
    conn: SocialConn, conversations: list[str], actors: list[str]
) -> set[tuple[str, str]]:
    """(conversation, actor) pairs among those: who of `actors` took part in which."""
    rows = conn.execute(
        "SELECT conversation, actor_id FROM feed_actors"
        " WHERE conversation IN (SELECT value FROM json_each(?))"
        " AND actor_id IN (SELECT value FROM json_each(?))",
        [json.dumps(conversations), json.dumps(sorted(set(actors)))],
    )
    return {(conversation, actor) for conversation, actor in rows}
