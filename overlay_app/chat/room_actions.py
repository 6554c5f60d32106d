"""Writing rooms and their members: `check_*` validates and authorises, `do_*` writes.

- Document rooms: one per document, made on first open by anyone who can open the document
  (confirmed live with their own token when one is at hand). Their members are whoever can
  open the document; a member row only puts the room in someone's list (following).
- Channels: created by admins, or by any member when settings allow (channels_open,
  PLAZA_CHANNELS_OPEN, default on); never by guests. The creator is the first owner. Anyone
  who may see an open channel joins it by adding themselves; owners (and admins) add and remove
  others, guests included; everyone may leave; the last owner may not leave others ownerless.
  An administrator doing so in a channel they do not own is an admin action: it is written to
  the audit log, in the change's transaction.
- Direct rooms: 2 to 8 people, members fixed at creation; asking again for the same people
  answers the existing room.

Events (in the write's transaction, see chat_actions): room.created {room} (room event),
room.member_added {room, personId} (room event), room.member_removed {room, personId} (a room
event for those who stay AND a person event to the one removed, who no longer sees the room).
"""

from __future__ import annotations

import sqlite3
import unicodedata
import uuid
from typing import Any

from flask import current_app

from overlay_app import access, db, security
from overlay_app.chat import access as chat_access
from overlay_app.chat import reads as chat_reads
from overlay_app.chat import store_rooms
from overlay_app.chat.access import CHANNEL, DIRECT, DOCUMENT, MEMBER, OWNER, Room
from overlay_app.chat.actions import Outcome
from overlay_app.discussion import reads as discussion
from overlay_app.errors import N_, BadInput, Conflict, Forbidden, Phrase
from overlay_app.identity import Person
from overlay_app.realtime.event_log import append_event
from sync import directory

MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 80, 500
MIN_DIRECT, MAX_DIRECT = 2, 8
MAX_INVITED = 100
FIXED_DOCUMENT = N_(
    "A document's room is for everyone who can open the document; its members "
    "change with the document's permissions in SharePoint."
)
FIXED_DIRECT = N_("The people of a direct conversation are fixed; start a new one instead.")


def answer(person: Person, room: Room) -> dict[str, Any]:
    """The room as the API answers it (title, unread count, members...)."""
    return chat_reads.rooms_json(person, [room])[0]


# --- checks -------------------------------------------------------------------------------------


def check_can_create(person: Person, kind: str) -> None:
    if person.guest:
        raise Forbidden("Guests cannot start conversations; ask a member to invite you.")
    settings = current_app.extensions["plaza.settings"]
    if kind == CHANNEL and not person.is_admin and not getattr(settings, "channels_open", True):
        raise Forbidden("Only administrators can create channels here.")


def check_channel_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadInput('A channel needs a "name".')
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS or any(unicodedata.category(c) == "Cc" for c in name):
        raise BadInput(
            "A channel name is 1 to %(most)s characters on one line.", most=MAX_NAME_CHARS
        )
    return name


def check_description(description: Any) -> str | None:
    if description is None or description == "":
        return None
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise BadInput(
            '"description" is text of at most %(most)s characters.', most=MAX_DESCRIPTION_CHARS
        )
    return description


def check_people(person_ids: Any, what: str, most: int) -> list[str]:
    """Object ids of enabled people in the directory, in order, without repeats."""
    if not isinstance(person_ids, list) or not all(isinstance(p, str) for p in person_ids):
        raise BadInput('"%(what)s" must be a list of people\'s object ids.', what=what)
    wanted = list(dict.fromkeys(person_ids))
    if len(wanted) > most:
        raise BadInput('"%(what)s" can name at most %(most)s people.', what=what, most=most)
    known = directory.active_ids(db.index(), wanted)
    missing = [p for p in wanted if p not in known]
    if missing:
        raise BadInput("%(who)s is not anyone in the directory.", who=missing[0][:64])
    return wanted


def check_manager(person: Person, room: Room, verb: str) -> None:
    """Adding or removing someone else: the channel's owners, or an administrator."""
    if person.is_admin or chat_access.role_in(person.id, room.id) == OWNER:
        return
    raise Forbidden("Only the channel's owners can %(verb)s people.", verb=Phrase(verb))


def as_admin(person: Person, room: Room, target: str, role: str = MEMBER) -> bool:
    """Whether a membership change that passed its checks did so through the administrator role
    alone: managing others (or oneself as owner) in a channel one does not own."""
    manages = target != person.id or role == OWNER
    return manages and chat_access.role_in(person.id, room.id) != OWNER


def check_membership_change(person: Person, room: Room, target: Any, verb: str) -> str:
    if room.kind == DOCUMENT:
        raise Conflict(FIXED_DOCUMENT)
    if room.kind == DIRECT:
        raise Conflict(FIXED_DIRECT)
    if not isinstance(target, str) or not target:
        raise BadInput('Name the person: {"person_id": "<object id>"}.')
    if target != person.id:  # oneself: join an open channel, or leave any channel
        check_manager(person, room, verb)
    return target


# --- writes -------------------------------------------------------------------------------------


def do_create_room(conn: sqlite3.Connection, person: Person, room: Room, members) -> Room:
    store_rooms.insert_room(conn, room, members)
    append_event(conn, "room.created", {"room": chat_reads.room_json(room)}, room_id=room.id)
    return room


def _new_room(person: Person, kind: str, **fields: Any) -> Room:
    values: dict[str, Any] = dict(drive_id=None, item_id=None, name=None, description=None,
                                  closed=False, archived_at=None)  # fmt: skip
    values.update(fields)
    return Room(str(uuid.uuid4()), kind, created_by=person.id, created_at=discussion.now(),
                **values)  # fmt: skip


def do_add_member(conn: sqlite3.Connection, room: Room, person_id: str, role: str) -> bool:
    """Adds the person, or changes their role; whether anything changed."""
    before = chat_access.role_in(person_id, room.id)
    if before == role:
        return False
    store_rooms.set_member(conn, room.id, person_id, role, discussion.now())
    payload = {"room": chat_reads.room_json(room), "personId": person_id}
    append_event(conn, "room.member_added", payload, room_id=room.id)
    return True


def do_remove_member(conn: sqlite3.Connection, room: Room, person_id: str) -> None:
    store_rooms.remove_member(conn, room.id, person_id)
    payload = {"room": chat_reads.room_json(room), "personId": person_id}
    append_event(conn, "room.member_removed", payload, room_id=room.id)
    append_event(conn, "room.member_removed", payload, person_id=person_id)


# --- the operations the views call -------------------------------------------------------------


def create_room(person: Person, payload: Any) -> Outcome:
    """POST /rooms: {"kind": "channel", "name", "description"?, "closed"?, "members"?} or
    {"kind": "direct", "members": [...]}."""
    if not isinstance(payload, dict):
        raise BadInput('Send a JSON object such as {"kind": "direct", "members": ["<id>"]}.')
    kind = payload.get("kind")
    if kind == CHANNEL:
        return create_channel(person, payload)
    if kind == DIRECT:
        return open_direct(person, payload.get("members"))
    raise BadInput(
        '"kind" must be "channel" or "direct"; a document\'s room opens with '
        "POST /api/v1/documents/{drive_id}/{item_id}/room."
    )


def create_channel(person: Person, payload: dict[str, Any]) -> Outcome:
    check_can_create(person, CHANNEL)
    name = check_channel_name(payload.get("name"))
    description = check_description(payload.get("description"))
    closed = payload.get("closed", False)
    if not isinstance(closed, bool):
        raise BadInput('"closed" is true (members only) or false (open to the firm).')
    invited = check_people(payload.get("members", []), "members", MAX_INVITED)
    room = _new_room(person, CHANNEL, name=name, description=description, closed=closed)
    members = [(person.id, OWNER)] + [(p, MEMBER) for p in invited if p != person.id]
    with db.transaction() as conn:
        if store_rooms.channel_name_taken(conn, name):
            raise Conflict("There is already a channel called %(name)s.", name=name)
        security.check_rate(person, "room")
        do_create_room(conn, person, room, members)
    return Outcome(201, answer(person, room))


def open_direct(person: Person, others: Any) -> Outcome:
    """The direct room of exactly these people (and the caller): the existing one, or new."""
    check_can_create(person, DIRECT)
    people = check_people(others, "members", MAX_DIRECT)
    people = list(dict.fromkeys([person.id, *people]))
    if not MIN_DIRECT <= len(people) <= MAX_DIRECT:
        raise BadInput(
            "A direct conversation is between %(least)s and %(most)s people.",
            least=MIN_DIRECT,
            most=MAX_DIRECT,
        )
    with db.transaction() as conn:
        existing = _direct_room_of(conn, person.id, set(people))
        if existing is not None:
            return Outcome(200, answer(person, existing))
        security.check_rate(person, "room")
        room = do_create_room(
            conn, person, _new_room(person, DIRECT), [(p, MEMBER) for p in people]
        )
    return Outcome(201, answer(person, room))


def _direct_room_of(conn: sqlite3.Connection, person_id: str, people: set[str]) -> Room | None:
    """The oldest direct room of exactly these people, if there is one."""
    for room_id, members in store_rooms.direct_rooms_of(conn, person_id):
        if members == people:
            return chat_access.load_room(room_id)
    return None


def open_document_room(person: Person, drive_id: str, item_id: str) -> Outcome:
    """The document's room (made on first open), now in the person's list."""
    document = access.require_document(person, drive_id, item_id, live=True)
    created = False
    with db.transaction() as conn:
        found = store_rooms.document_room_id(conn, drive_id, item_id)
        if found is not None:
            room = chat_access.load_room(found)
            assert room is not None
        else:
            if document.archived:
                raise Conflict("this document was deleted in SharePoint; there is no chat to open")
            security.check_rate(person, "room")
            room = _new_room(person, DOCUMENT, drive_id=drive_id, item_id=item_id)
            do_create_room(conn, person, room, [])
            created = True
        do_add_member(conn, room, person.id, chat_access.role_in(person.id, room.id) or MEMBER)
    return Outcome(201 if created else 200, answer(person, room))


def add_member(person: Person, room_id: str, payload: Any) -> dict[str, Any]:
    """POST /rooms/{id}/members {"person_id", "role"?}: join an open channel, or (owners)
    add someone or make them an owner."""
    room = chat_access.access_room(person, room_id)
    if not isinstance(payload, dict):
        raise BadInput('Send {"person_id": "<object id>"} (and "role": "owner" to promote).')
    target = check_membership_change(person, room, payload.get("person_id"), N_("add"))
    role = payload.get("role", MEMBER)
    if role not in (MEMBER, OWNER):
        raise BadInput('"role" is "member" or "owner".')
    if role == OWNER:
        check_manager(person, room, N_("promote"))
    check_people([target], "person_id", 1)
    by_admin = as_admin(person, room, target, role)
    with db.transaction() as conn:
        if chat_access.role_in(target, room.id) == OWNER and role == MEMBER:
            role = OWNER  # adding an owner again does not demote them
        elif chat_access.role_in(target, room.id) != role:
            security.check_rate(person, "room")
        if do_add_member(conn, room, target, role) and by_admin:
            detail = {"personId": target, "role": role}
            security.audit(person.id, "admin.room.member_added", f"room:{room.id}", detail)
    return answer(person, room)


def remove_member(person: Person, room_id: str, target: Any) -> None:
    """DELETE /rooms/{id}/members?person_id=: leave a channel, or (owners) remove someone."""
    room = chat_access.access_room(person, room_id)
    target = check_membership_change(person, room, target, N_("remove"))
    by_admin = as_admin(person, room, target)
    with db.transaction() as conn:
        role = chat_access.role_in(target, room.id)
        if role is None:
            return  # nothing to do: removing is idempotent
        owners, members = store_rooms.owner_and_member_counts(conn, room.id)
        if role == OWNER and owners == 1 and members > 1:
            raise Conflict("A channel keeps at least one owner: make someone else owner first.")
        security.check_rate(person, "room")
        do_remove_member(conn, room, target)
        if by_admin:
            detail = {"personId": target}
            security.audit(person.id, "admin.room.member_removed", f"room:{room.id}", detail)
