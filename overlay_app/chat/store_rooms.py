"""The SQL of chat rooms in overlay.db: `rooms` and `room_members`. No other module touches
these tables (messages, mentions and read markers are chat.store_messages').

Nothing here decides who may see a room: chat.access does, with what these functions return.
Each function takes the connection to run on (a write's transaction, or `db.social()` for a
read) and returns plain values and `Room`s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from overlay_app.chat.store_messages import WROTE_OR_WAS_MENTIONED_IN_R
from overlay_app.db import SocialConn
from overlay_app.dialect import caseless, json_array_of

DOCUMENT, CHANNEL, DIRECT = "document", "channel", "direct"  # a room's kind
OWNER, MEMBER = "owner", "member"  # a member row's role

ROOM_FIELDS = (
    "id", "kind", "drive_id", "item_id", "name", "description", "closed", "created_by",
    "created_at", "archived_at",
)  # fmt: skip
ROOM_COLUMNS = ", ".join(ROOM_FIELDS)

# This store's part of access.INTERACTED_AMONG_SQL: among the keys in the CTE `wanted`, the
# documents whose room :person follows (a member row), wrote in or was mentioned in.
INTERACTED_SQL = f"""
    SELECT r.drive_id, r.item_id FROM wanted AS w
    JOIN rooms AS r ON r.kind = 'document' AND r.drive_id = w.drive_id AND r.item_id = w.item_id
    WHERE EXISTS (SELECT 1 FROM room_members AS rm
                  WHERE rm.room_id = r.id AND rm.person_id = :person)
       OR {WROTE_OR_WAS_MENTIONED_IN_R}"""


@dataclass(frozen=True)
class Room:
    """A row of `rooms`."""

    id: str
    kind: str  # document | channel | direct
    drive_id: str | None
    item_id: str | None
    name: str | None  # channels only
    description: str | None
    closed: bool  # channels: members only
    created_by: str
    created_at: str
    archived_at: str | None

    @property
    def document_key(self) -> tuple[str, str] | None:
        if self.kind != DOCUMENT or self.drive_id is None or self.item_id is None:
            return None
        return (self.drive_id, self.item_id)

    @property
    def open_channel(self) -> bool:
        return self.kind == CHANNEL and not self.closed


def _room(row: Iterable[Any]) -> Room:
    values = list(row)
    values[6] = bool(values[6])
    return Room(*values)


# -- rooms -------------------------------------------------------------------------------------


def room_by_id(conn: SocialConn, room_id: str) -> Room | None:
    row = conn.execute(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE id = ?", [room_id]).fetchone()
    return None if row is None else _room(row)


def rooms_by_id(conn: SocialConn, room_ids: list[str]) -> list[Room]:
    rows = conn.execute(
        f"SELECT {ROOM_COLUMNS} FROM rooms WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(room_ids)],
    )
    return [_room(row) for row in rows]


def document_room_id(conn: SocialConn, drive_id: str, item_id: str) -> str | None:
    """The id of the document's room, if one was opened."""
    row = conn.execute(
        "SELECT id FROM rooms WHERE kind = 'document' AND drive_id = ? AND item_id = ?",
        [drive_id, item_id],
    ).fetchone()
    return None if row is None else row[0]


def channel_name_taken(conn: SocialConn, name: str) -> bool:
    """Whether a channel has this name, whatever its case."""
    row = conn.execute(
        "SELECT 1 FROM rooms WHERE kind = 'channel'"
        f" AND {caseless(conn, 'name')} = {caseless(conn, '?')}",
        [name],
    ).fetchone()
    return row is not None


def open_channels_not_joined(conn: SocialConn, person_id: str) -> list[Room]:
    """Open channels the person has no member row in, by name."""
    rows = conn.execute(
        f"SELECT {ROOM_COLUMNS} FROM rooms AS r WHERE kind = 'channel' AND closed = 0"
        " AND NOT EXISTS (SELECT 1 FROM room_members AS m"
        "                 WHERE m.room_id = r.id AND m.person_id = ?)"
        f" ORDER BY {caseless(conn, 'name')}",
        [person_id],
    )
    return [_room(row) for row in rows]


def insert_room(conn: SocialConn, room: Room, members: Iterable[tuple[str, str]]) -> None:
    """The room and its first member rows, (person_id, role), joined when it was created."""
    conn.execute(
        f"INSERT INTO rooms ({ROOM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [room.id, room.kind, room.drive_id, room.item_id, room.name, room.description,
         int(room.closed), room.created_by, room.created_at, room.archived_at],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO room_members (room_id, person_id, role, joined_at) VALUES (?, ?, ?, ?)",
        [(room.id, person_id, role, room.created_at) for person_id, role in members],
    )


# -- members -----------------------------------------------------------------------------------


def role_in(conn: SocialConn, person_id: str, room_id: str) -> str | None:
    """'owner', 'member', or None when the person has no member row in the room."""
    row = conn.execute(
        "SELECT role FROM room_members WHERE room_id = ? AND person_id = ?",
        [room_id, person_id],
    ).fetchone()
    return None if row is None else row[0]


def roles_of(conn: SocialConn, person_id: str, room_ids: Iterable[str]) -> dict[str, str]:
    """The person's role in each of the rooms they have a member row in."""
    rows = conn.execute(
        "SELECT room_id, role FROM room_members"
        " WHERE person_id = ? AND room_id IN (SELECT value FROM json_each(?))",
        [person_id, json.dumps(sorted(room_ids))],
    )
    return dict(rows.fetchall())


def rooms_of_member(conn: SocialConn, person_id: str) -> list[Room]:
    """Every room the person has a member row in (untrimmed: chat.access trims)."""
    rows = conn.execute(
        f"SELECT {', '.join('r.' + name for name in ROOM_FIELDS)}"
        " FROM room_members AS m JOIN rooms AS r ON r.id = m.room_id WHERE m.person_id = ?",
        [person_id],
    )
    return [_room(row) for row in rows]


def members_of(conn: SocialConn, room_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """(person_id, role) of each room's member rows, owners first."""
    rows = conn.execute(
        "SELECT room_id, person_id, role FROM room_members"
        " WHERE room_id IN (SELECT value FROM json_each(?))"
        " ORDER BY room_id, role = 'member', joined_at, person_id",
        [json.dumps(sorted(set(room_ids)))],
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for room_id, person_id, role in rows:
        found.setdefault(room_id, []).append((person_id, role))
    return found


def direct_rooms_of(conn: SocialConn, person_id: str) -> list[tuple[str, set[str]]]:
    """(room id, every member's id) of the person's direct rooms, oldest first."""
    rows = conn.execute(
        f"SELECT r.id, {json_array_of(conn, 'all_members.person_id')} FROM room_members AS mine"
        " JOIN rooms AS r ON r.id = mine.room_id AND r.kind = 'direct'"
        " JOIN room_members AS all_members ON all_members.room_id = r.id"
        " WHERE mine.person_id = ? GROUP BY r.id ORDER BY r.created_at",
        [person_id],
    )
    return [(room_id, set(json.loads(members))) for room_id, members in rows]


def owner_and_member_counts(conn: SocialConn, room_id: str) -> tuple[int, int]:
    """How many owners the room has, and how many member rows in all."""
    owners, members = conn.execute(
        "SELECT count(*) FILTER (WHERE role = 'owner'), count(*) FROM room_members"
        " WHERE room_id = ?",
        [room_id],
    ).fetchone()
    return owners, members


def follow(conn: SocialConn, room_id: str, person_id: str, at: str) -> bool:
    """A member row for the person unless they have one; whether one was added."""
    cursor = conn.execute(
        "INSERT INTO room_members (room_id, person_id, role, joined_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [room_id, person_id, MEMBER, at],
    )
    return cursor.rowcount > 0


def set_member(conn: SocialConn, room_id: str, person_id: str, role: str, at: str) -> None:
    """Adds the person with this role, or gives an existing member row the role."""
    conn.execute(
        "INSERT INTO room_members (room_id, person_id, role, joined_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (room_id, person_id) DO UPDATE SET role = excluded.role",
        [room_id, person_id, role, at],
    )


def remove_member(conn: SocialConn, room_id: str, person_id: str) -> None:
    conn.execute(
        "DELETE FROM room_members WHERE room_id = ? AND person_id = ?", [room_id, person_id]
    )


def export_person(conn: SocialConn, person_id: str) -> list[tuple]:
    """(room_id, kind, name, role, joined_at) of the rooms the person follows or belongs to."""
    return conn.execute(
        "SELECT r.id, r.kind, r.name, m.role, m.joined_at FROM room_members AS m"
        " JOIN rooms AS r ON r.id = m.room_id WHERE m.person_id = ? ORDER BY m.joined_at",
        [person_id],
    ).fetchall()


def erase_person(conn: SocialConn, person_id: str, erased: str) -> None:
    """The person leaves every room; rooms they created stay, credited to `erased`."""
    conn.execute("DELETE FROM room_members WHERE person_id = ?", [person_id])
    conn.execute("UPDATE rooms SET created_by = ? WHERE created_by = ?", [erased, person_id])


def channels(conn: SocialConn) -> list[Room]:
    """Every channel, by name (insights trims them through chat.access)."""
    rows = conn.execute(
        f"SELECT {ROOM_COLUMNS} FROM rooms WHERE kind = 'channel' ORDER BY {caseless(conn, 'name')}"
    )
    return [_room(row) for row in rows]
