"""The durable `events` log as the real-time side reads it: its rows, and what a stream writes.
This module holds all the SQL of the `events` table (migrations aside): the pump, streams and
writers read and append through it.

Writers (chat.actions, chat.room_actions) append an event (append_event) in the same
transaction as the write it reports; ids grow in commit order (writers begin IMMEDIATE), so
"everything after id N" is a well-defined resume point. Events are never removed or reordered;
the one change to a written event is forget_words, when its message is deleted.

Those ids count everyone's writes, so they never leave the server as they are: a stream names
each event by a cursor (Cursors.seal), the id encrypted and authenticated with a key derived
from the app's secret, under a fresh random nonce each time. A cursor tells its holder nothing
(two cursors for the same place differ), and a client can only resume from one it was given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overlay_app.discussion import reads as discussion
from overlay_app.realtime.sources import announce_events

EVENT_COLUMNS = "id, room_id, person_id, kind, payload"
# The events that carry a message's words, blanked in the log when the message is deleted.
WORDS_OF_MESSAGE = """
    SELECT id, payload FROM events
    WHERE room_id = :room_id AND kind IN ('message.new', 'message.edited')
      AND payload ->> 'id' = :message_id"""
HIDDEN, VISIBLE, IN = 0, 1, 2  # a room's standing for one person


@dataclass(frozen=True)
class Event:
    """One row of the `events` log."""

    id: int
    room_id: str | None
    person_id: str | None  # set: addressed to this person only
    kind: str
    payload: str  # JSON text, as stored

    @cached_property
    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.payload)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    @cached_property
    def rooms(self) -> frozenset[str]:
        """Every room the event names: its own, and those its payload names (`roomId`,
        `room.id`): a person-addressed event needs every one of them visible."""
        room = self.body.get("room")
        named = (
            self.room_id,
            self.body.get("roomId"),
            room.get("id") if isinstance(room, dict) else None,
        )
        return frozenset(value for value in named if isinstance(value, str) and value)

    @property
    def concerns(self) -> str | None:
        """The person a membership event is about (`personId`), if it names one."""
        person_id = self.body.get("personId")
        return person_id if isinstance(person_id, str) else None

    def needs(self) -> dict[str, int]:
        """The standing each named room must have for a person to receive the event."""
        if self.person_id is not None:
            return dict.fromkeys(self.rooms, VISIBLE)
        return {self.room_id: IN} if self.room_id else {}


@dataclass(frozen=True)
class StreamItem:
    """What a stream writes: an event (id = events.id, written as its sealed `cursor`) or a
    synthetic notice (id None)."""

    id: int | None
    kind: str
    data: str
    cursor: str = ""

    @cached_property
    def text(self) -> str:
        """The event in text/event-stream form, made once however many streams write it."""
        lines = [] if self.id is None else [f"id: {self.cursor}"]
        lines.append(f"event: {self.kind}")
        lines += [f"data: {line}" for line in (self.data.splitlines() or [""])]
        return "\n".join(lines) + "\n\n"


class Cursors:
    """Resume points as clients hold them: an event id sealed with AES-GCM (random nonce), so
    that the log's position, which counts everyone's writes, stays on the server."""

    LABEL = b"plaza.events.cursor.v1"  # also the associated data: a cursor is for nothing else

    def __init__(self, secret_key: str) -> None:
        key = hmac.new(secret_key.encode(), self.LABEL, hashlib.sha256).digest()
        self._aead = AESGCM(key)

    def seal(self, event_id: int) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, event_id.to_bytes(8, "big"), self.LABEL)
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open(self, cursor: str) -> int | None:
        """The event id a cursor of ours holds; None for anything else (made up, altered,
        sealed with another key, or an id from before cursors)."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            plain = self._aead.decrypt(raw[:12], raw[12:], self.LABEL)
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return int.from_bytes(plain, "big") if len(plain) == 8 else None


def read_events(conn: sqlite3.Connection, after: int, limit: int) -> list[Event]:
    """Events with id > `after`, oldest first (for the pump and for a stream's replay)."""
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    ).fetchall()
    return [Event(*row) for row in rows]


def newest_event_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]


# -- writing, inside the writer's transaction ---------------------------------------------------


def append_event(
    conn: sqlite3.Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    room_id: str | None = None,
    person_id: str | None = None,
) -> int:
    """Appends one event to the durable log, inside the caller's write transaction."""
    cursor = conn.execute(
        "INSERT INTO events (room_id, person_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)"
        " RETURNING id",
        [room_id, person_id, kind, json.dumps(payload, separators=(",", ":")), discussion.now()],
    )
    event_id = int(cursor.fetchone()[0])
    announce_events(conn)
    return event_id


def forget_words(conn: sqlite3.Connection, room_id: str, message_id: str) -> None:
    """Blanks a deleted message's words in the events that carried them, so that no replay (a
    stream resuming, someone joining the room later) brings back what its author deleted."""
    rows = conn.execute(WORDS_OF_MESSAGE, {"room_id": room_id, "message_id": message_id})
    _rewrite(conn, rows.fetchall(), lambda payload: payload | {"body": "", "bodyHtml": ""})


def forget_person(conn: sqlite3.Connection, person_id: str, erased: str, name: str) -> None:
    """Events addressed to the person go; events that name them as an author name `erased`."""
    conn.execute("DELETE FROM events WHERE person_id = ?", [person_id])
    rows = conn.execute(
        "SELECT id, payload FROM events WHERE payload -> 'author' ->> 'id' = ?", [person_id]
    ).fetchall()
    renamed = {"id": erased, "displayName": name}
    _rewrite(conn, rows, lambda payload: payload | {"author": payload["author"] | renamed})


def _rewrite(conn: sqlite3.Connection, rows: list, change: Callable[[dict], dict]) -> None:
    """Writes each (id, payload) event's payload back as `change` makes it. Done here, not
    by SQL's json_set, which PostgreSQL lacks."""
    for event_id, payload in rows:
        changed = change(json.loads(payload))
        conn.execute(
            "UPDATE events SET payload = ? WHERE id = ?",
            [json.dumps(changed, separators=(",", ":")), event_id],
        )
