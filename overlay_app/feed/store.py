"""The SQL of `feed_activity` (one row per conversation: its latest activity) and
`feed_actors` (who acted in it, with the conversation's latest time, so that "conversations
these people took part in, newest first" is one index range) in overlay.db. Untrimmed:
feed.reads trims. A conversation is "doc:{drive_id}/{item_id}" or "room:{room_id}"."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from overlay_app.db import SocialConn


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


_COLUMNS = """a.conversation, a.drive_id, a.item_id, a.room_id, a.last_at, a.last_actor_id,
    a.last_comment_id, a.last_message_id"""

# The hot query of the feed (a test checks its plan). Each arm is bounded by what the person
# follows; the two that could be long (a followed library or site, people) are read newest
# first through their own index and cut at :batch, which the outer order cannot exceed.
CANDIDATES_SQL = f"""
    SELECT * FROM (
        SELECT {_COLUMNS} FROM feed_activity AS a
        WHERE a.conversation IN (SELECT value FROM json_each(:conversations))
        UNION
        SELECT * FROM (
            SELECT {_COLUMNS} FROM feed_activity AS a INDEXED BY feed_activity_by_drive
            WHERE a.drive_id IN (SELECT value FROM json_each(:drives)) AND a.last_at <= :at
            ORDER BY a.last_at DESC LIMIT :batch)
        UNION
        SELECT * FROM (
            SELECT {_COLUMNS} FROM feed_actors AS x
            JOIN feed_activity AS a ON a.conversation = x.conversation
            WHERE x.actor_id IN (SELECT value FROM json_each(:actors))
              AND x.conversation_at <= :at
            ORDER BY x.conversation_at DESC LIMIT :batch)
        UNION
        SELECT {_COLUMNS} FROM tags AS t
        JOIN feed_activity AS a ON a.conversation = 'doc:' || t.drive_id || '/' || t.item_id
        WHERE t.tag IN (SELECT value FROM json_each(:tags))
    )
    WHERE last_at < :at OR (last_at = :at AND conversation < :conversation)
    ORDER BY last_at DESC, conversation DESC LIMIT :batch"""


def touch(conn: sqlite3.Connection, activity: Activity) -> None:
    """New activity in the conversation, by `last_actor_id`."""
    a = activity
    conn.execute(
        "INSERT INTO feed_activity (conversation, drive_id, item_id, room_id, last_at,"
        " last_actor_id, last_comment_id, last_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (conversation) DO UPDATE SET last_at = excluded.last_at,"
        " last_actor_id = excluded.last_actor_id, last_comment_id = excluded.last_comment_id,"
        " last_message_id = excluded.last_message_id",
        [a.conversation, a.drive_id, a.item_id, a.room_id, a.last_at, a.last_actor_id,
         a.last_comment_id, a.last_message_id],
    )  # fmt: skip
    conn.execute(
        "INSERT OR IGNORE INTO feed_actors (conversation, actor_id, conversation_at)"
        " VALUES (?, ?, ?)",
        [a.conversation, a.last_actor_id, a.last_at],
    )
    conn.execute(
        "UPDATE feed_actors SET conversation_at = ? WHERE conversation = ?",
        [a.last_at, a.conversation],
    )


def forget(conn: sqlite3.Connection, conversation: str) -> None:
    """No live activity is left in the conversation: it leaves every feed."""
    conn.execute("DELETE FROM feed_activity WHERE conversation = ?", [conversation])
    conn.execute("DELETE FROM feed_actors WHERE conversation = ?", [conversation])


def set_latest(conn: sqlite3.Connection, activity: Activity) -> None:
    """The conversation's latest live activity is now this one (after a deletion)."""
    conn.execute(
        "UPDATE feed_activity SET last_at = ?, last_actor_id = ?, last_comment_id = ?,"
        " last_message_id = ? WHERE conversation = ?",
        [activity.last_at, activity.last_actor_id, activity.last_comment_id,
         activity.last_message_id, activity.conversation],
    )  # fmt: skip
    conn.execute(
        "UPDATE feed_actors SET conversation_at = ? WHERE conversation = ?",
        [activity.last_at, activity.conversation],
    )


def candidates(
    conn: SocialConn, interests: dict[str, list[str]], before: tuple[str, str], batch: int
) -> list[Activity]:
    """Conversations matching the interests (conversations, drives, actors, tags) whose
    latest activity is before the cursor `before` (last_at, conversation), newest first."""
    params = {name: json.dumps(sorted(values)) for name, values in interests.items()}
    params |= {"at": before[0], "conversation": before[1], "batch": batch}
    return [Activity(*row) for row in conn.execute(CANDIDATES_SQL, params)]


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
