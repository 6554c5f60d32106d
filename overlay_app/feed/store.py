"""The SQL of `feed_activity` (one row per conversation: its latest activity) and
`feed_actors` (who acted in it, with the conversation's latest time, so that "conversations
these people took part in, newest first" is one index range) in overlay.db. Untrimmed:
feed.reads trims. A conversation is "doc:{drive_id}/{item_id}" or "room:{room_id}"."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from overlay_app.db import SocialConn
from overlay_app.dialect import unpinned


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

# The feed's arms: each reads its own index newest first and stops at :batch, so none costs
# more than a page however long the history (tests check their plans). `candidates` merges
# them in time order, up to the point that every arm cut short has reached.
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
        "INSERT INTO feed_actors (conversation, actor_id, conversation_at)"
        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
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
) -> tuple[list[Activity], tuple[str, str] | None]:
    """Conversations matching the interests (conversations, drives, actors, tags) whose
    latest activity is before the cursor `before` (last_at, conversation), newest first, and
    the cursor to go on from (None: nothing older is left). An arm that returned a full batch
    may hold older rows it did not return: the merge stops at the newest of such arms' last
    rows, so nothing is ever skipped."""
    found: dict[str, Activity] = {}
    horizon: tuple[str, str] | None = None
    for rows, cut in _arm_rows(conn, interests, before[0], batch):
        for activity in rows:
            if _key(activity) < before:
                found.setdefault(activity.conversation, activity)
        if rows and len(rows) >= cut:  # cut short: older rows may wait in this arm
            last = min(_key(a) for a in rows)
            horizon = last if horizon is None else max(horizon, last)
    ordered = sorted(found.values(), key=_key, reverse=True)
    if horizon is not None:
        ordered = [a for a in ordered if _key(a) >= horizon]
    if len(ordered) > batch or horizon is not None:
        ordered = ordered[:batch]
        return ordered, (_key(ordered[-1]) if ordered else horizon)
    return ordered, None


def _arm_rows(
    conn: SocialConn, interests: dict[str, list[str]], at: str, batch: int
) -> list[tuple[list[Activity], int]]:
    """Each arm's rows (people: one arm each, of half a batch: there are many) and the
    number it was cut at."""
    found = []
    per_person = max(batch // 2, 10)
    for arm, values in interests.items():
        if arm == "actors":
            for actor in sorted(values):
                params = {"value": actor, "at": at, "batch": per_person}
                rows = [Activity(*row) for row in conn.execute(_arm(conn, "actor"), params)]
                found.append((rows, per_person))
        elif values:
            params = {"values": json.dumps(sorted(values)), "at": at, "batch": batch}
            rows = [Activity(*row) for row in conn.execute(_arm(conn, arm), params)]
            found.append((rows, batch))
    return found


def _arm(conn: SocialConn, arm: str) -> str:
    return unpinned(conn, ARMS[arm], "feed_activity_by_drive")


def _key(activity: Activity) -> tuple[str, str]:
    return (activity.last_at, activity.conversation)


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
