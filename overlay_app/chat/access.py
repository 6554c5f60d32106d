"""The one place that decides who may see a chat room (like Zulip's `access_stream_by_id`).

Rules, by kind of room:
- document: exactly the people who can see the document (overlay_app.access, which reads the
  index's ACLs and fails closed). A `room_members` row of a document room only means the
  person follows it (it is in their list); it never grants anything, so a sync that revokes
  the document takes the room, its history, its search hits, unread counts and notifications
  away at once.
- channel, open: every signed-in member of the firm; guests only once invited (a member row).
- channel, closed: its members and owners.
- direct: its fixed members.

A room one may not see answers 404 exactly like a missing one (`access_room`), and the refusal
is written to the audit log with ids only. `can_see_room` answers the same question without
raising or auditing, for per-event and per-hit checks (realtime fan-out, search, mentions).
`Room`, the kinds and the roles are chat.store_rooms' (the store reads them), named here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from overlay_app import access, db
from overlay_app.chat import store_rooms
from overlay_app.chat.store_rooms import CHANNEL as CHANNEL
from overlay_app.chat.store_rooms import DIRECT as DIRECT
from overlay_app.chat.store_rooms import DOCUMENT as DOCUMENT
from overlay_app.chat.store_rooms import MEMBER as MEMBER
from overlay_app.chat.store_rooms import OWNER as OWNER
from overlay_app.chat.store_rooms import Room
from overlay_app.identity import Person
from sync import directory

DENIED = "access.denied"
MAX_ROOM_ID_CHARS = 64


def load_room(room_id: Any) -> Room | None:
    """The room with this id, whoever asks (callers must check access)."""
    if not isinstance(room_id, str) or not room_id or len(room_id) > MAX_ROOM_ID_CHARS:
        return None
    return store_rooms.room_by_id(db.social(), room_id)


def load_rooms(room_ids: Iterable[str]) -> dict[str, Room]:
    ids = sorted(set(room_ids))
    if not ids:
        return {}
    return {room.id: room for room in store_rooms.rooms_by_id(db.social(), ids)}


def role_in(person_id: str, room_id: str) -> str | None:
    """'owner', 'member', or None when the person has no member row in the room."""
    return store_rooms.role_in(db.social(), person_id, room_id)


def is_guest(person: Person | str) -> bool:
    """Whether the person is an external user (unknown people count as guests: fail closed)."""
    if isinstance(person, Person):
        return person.guest
    return directory.is_guest(db.index(), person)


def _person_id(person: Person | str) -> str:
    return person.id if isinstance(person, Person) else person


# -- the checks ------------------------------------------------------------------------------


def access_room(person: Person, room_id: Any) -> Room:
    """The room if `person` may see it; NotFound (audited, same as missing) otherwise. A
    document room is confirmed live (access.require_document). Every refusal makes the same
    lookups (the room, a member row, a document), so a missing id answers like a hidden one."""
    room = load_room(room_id)
    role = role_in(person.id, room.id if room else _target(room_id))
    if room is None:
        access.refuse(person, _target(room_id), detail="unknown room")
    key = room.document_key
    if key is not None:
        access.require_document(person, *key)  # its own NotFound and audit entry
        return room
    if not _admits(person, room, role):
        access.refuse(person, _target(room.id), detail=f"{room.kind} not open to them")
    return room


def can_see_room(person: Person | str, room: Room) -> bool:
    """`access_room` without raising or auditing: for events, search hits and mentions. A
    person given by id is the recipient of something (a mention, an event)."""
    person_id = _person_id(person)
    key = room.document_key
    if key is not None:
        return access.can_see(person_id, *key)
    return _admits(person, room, role_in(person_id, room.id))


def _admits(person: Person | str, room: Room, role: str | None) -> bool:
    if role is not None:
        return True
    # Open channels admit everyone signed in but guests, who need an invitation.
    return room.open_channel and not is_guest(person)


def _target(room_id: Any) -> str:
    return f"room:{str(room_id)[:MAX_ROOM_ID_CHARS]}"


# -- many rooms at once ------------------------------------------------------------------------


def visible_room_ids(person: Person, room_ids: Iterable[str]) -> set[str]:
    """The ids among `room_ids` that `person` may see, in a few queries (search, listings)."""
    rooms = load_rooms(room_ids)
    if not rooms:
        return set()
    roles = roles_of(person.id, rooms)
    documents = access.filter_visible(
        person, [room.document_key for room in rooms.values() if room.document_key]
    )
    visible = set()
    for room in rooms.values():
        key = room.document_key
        if key is not None:
            if key in documents:
                visible.add(room.id)
        elif _admits(person, room, roles.get(room.id)):
            visible.add(room.id)
    return visible


def roles_of(person_id: str, room_ids: Iterable[str]) -> dict[str, str]:
    """The person's role in each of the rooms they have a member row in."""
    return store_rooms.roles_of(db.social(), person_id, room_ids)


def my_rooms(person: Person) -> list[Room]:
    """The rooms the person is in now: member rows (direct rooms, channels joined, document
    rooms followed) that still admit them, i.e. document rooms trimmed by current access."""
    rooms = store_rooms.rooms_of_member(db.social(), person.id)
    if not _direct_messages_on():  # switched off: kept, but listed and streamed nowhere
        rooms = [room for room in rooms if room.kind != store_rooms.DIRECT]
    documents = access.filter_visible(person, [r.document_key for r in rooms if r.document_key])
    return [room for room in rooms if room.document_key is None or room.document_key in documents]


def _direct_messages_on() -> bool:
    from overlay_app.admin import switches  # the admin feature's switches (imported late)

    return switches.is_on("direct_messages")


def room_ids_of(person: Person) -> set[str]:
    """Ids of `my_rooms`: what a person's event stream carries besides their own events."""
    return {room.id for room in my_rooms(person)}


def open_channels(person: Person) -> list[Room]:
    """Open channels the person could join (none for guests: they need an invitation)."""
    if person.guest:
        return []
    return store_rooms.open_channels_not_joined(db.social(), person.id)
