"""Writing chat messages and read markers: `check_*` validates and authorises, `do_*` writes.

The order of checks is part of the contract, as for comments: 401 -> 404 (a room one may not
see is missing) -> 403 (not your message) -> 409 (archived document, deleted message, a
client_key used for another message) -> 400/413 (the body, mentions) -> 429 (rate).

Each write and its events go in ONE transaction (BEGIN IMMEDIATE, synchronous=FULL): the
answer is sent only after COMMIT, so an acknowledged message is on disk, and every real-time
process that reads `events` sees it exactly when it exists. Events written here (the realtime
pump reads them; kinds and payloads are a contract):

    message.new | message.edited | message.deleted   room event, payload = message JSON
    room.read                                         person event, {roomId, lastReadId,
                                                      lastReadSeq}
    notification.new                                  person event, {id, kind, roomId,
                                                      messageId, actor} (no document names)
    room.member_added                                 room event, {room, personId}

Ids in them are the ones people see (messages' and notifications' public_id), never rowids.

Idempotency: a message may carry a client_key (body) or Idempotency-Key (header), unique per
author in the store. A retry with the same key answers the same message, never a second one;
the lookup is repeated inside the write transaction, so concurrent retries cannot both insert
(overlay_app.idempotency.once, as for comments; the key is kept on the message row).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from overlay_app import access, db, idempotency, security
from overlay_app.chat import access as chat_access
from overlay_app.chat import reads as chat_reads
from overlay_app.chat import store_messages, store_rooms
from overlay_app.chat.access import CHANNEL, DOCUMENT, Room
from overlay_app.discussion import mentions, rendering
from overlay_app.discussion import reads as discussion
from overlay_app.discussion.rendering import Mentioned
from overlay_app.errors import N_, BadInput, Conflict, Forbidden, NotFound, Phrase
from overlay_app.feed import activity

# Re-exported (the `as` form says so): room_actions and api import it from here.
from overlay_app.idempotency import Outcome as Outcome
from overlay_app.identity import Person
from overlay_app.notifications import actions as notifications
from overlay_app.realtime.event_log import append_event, forget_words

MAX_MESSAGE_CHARS = 4_000
MESSAGE = rendering.TextKind(N_("message"), MAX_MESSAGE_CHARS, N_("send it in parts"))
MAX_MENTIONS = 25
MAX_ID_CHARS = 100
ARCHIVED = N_("this document was deleted in SharePoint; its chat is archived")
KEY_REUSED = N_("This client_key was already used for another message; use a new key per message.")


@dataclass(frozen=True)
class Draft:
    body: str
    body_html: str
    mentioned: dict[str, Mentioned]


# --- checks -------------------------------------------------------------------------------------


def check_client_key(in_body: Any, in_header: str | None) -> str | None:
    """The message's idempotency key: `client_key` in the body or the Idempotency-Key header."""
    if in_body is not None and not isinstance(in_body, str):
        raise BadInput('"client_key" must be text (a new random id per message), or absent.')
    if in_body and in_header and in_body != in_header:
        raise BadInput("client_key and the Idempotency-Key header differ; send one of them.")
    key = in_body or in_header
    return idempotency.check_key(key or None, "client_key")


def check_writable(person: Person, room: Room) -> None:
    """A document room is read-only once its document was deleted in SharePoint."""
    if room.document_key is not None:
        if access.require_document(person, *room.document_key).archived:
            raise Conflict(ARCHIVED)
    elif room.archived_at is not None:
        raise Conflict("This conversation is archived.")


def check_mentions(body: str, room: Room) -> dict[str, Mentioned]:
    """The people a message mentions; 400 if any of them may not see the room. The refusal
    names the person, whom the writer typed, and nothing about the room or its document."""
    refs = rendering.mention_refs(body)
    if len(refs) > MAX_MENTIONS:
        raise BadInput("A message can mention at most %(most)s people.", most=MAX_MENTIONS)
    resolved: dict[str, Mentioned] = {}
    for ref in refs:
        entry = mentions._directory_entry(ref)
        if entry is None:
            if ref.by_upn:  # an address-like word that is nobody: left as text
                continue
            raise BadInput(
                "%(who)s is not in the directory, so they cannot be mentioned", who=ref.label
            )
        person_id, name = entry
        if not chat_access.can_see_room(person_id, room):
            if room.kind == DOCUMENT:
                raise BadInput(
                    "%(who)s cannot open this document, so they cannot be mentioned", who=name
                )
            raise BadInput("%(who)s is not in here, so they cannot be mentioned", who=name)
        resolved[ref.key] = Mentioned(person_id, name)
    return resolved


def check_message(room: Room, body: Any) -> Draft:
    body = rendering.check_body(body, MESSAGE)
    mentioned = check_mentions(body, room)
    return Draft(body, rendering.render(body, mentioned), mentioned)


def check_own(person: Person, message: tuple, verb: str) -> None:
    if message[2] != person.id:
        raise Forbidden("You can only %(verb)s your own messages.", verb=Phrase(verb))


def check_live(message: tuple) -> None:
    if message[7] is not None:
        raise Conflict("That message was deleted.")


def check_last_read_id(room: Room, value: Any) -> int:
    """The rowid of the room's message named (or 0 for 0: nothing read)."""
    if value == 0 and type(value) is int:
        return 0
    if not isinstance(value, str):
        raise BadInput('Send {"last_read_id": "<id>"}: the id of the last message read.')
    place = chat_reads.place_in(room, value) if len(value) <= MAX_ID_CHARS else None
    if place is None:
        raise BadInput(
            "last_read_id %(given)s is not the id of a message in this room.",
            given=repr(value[:40]),
        )
    return place


def require_message(person: Person, message_id: str) -> tuple[tuple, Room]:
    """The message row and its room, if the person may see the room; else NotFound."""
    fits = 0 < len(message_id) <= MAX_ID_CHARS
    row = chat_reads.message_row_by_id(message_id) if fits else None
    if row is None:
        security.audit_denial(person.id, chat_access.DENIED, f"message:{message_id}", "unknown")
        raise NotFound()
    return row, chat_access.access_room(person, row[1])


# --- idempotency --------------------------------------------------------------------------------


def replay(person: Person, room: Room, key: str | None, body: Any) -> Outcome | None:
    """The message an earlier attempt with this key made, or None; 409 if the key was used for
    another message (another room, or another text not since edited or deleted)."""
    if key is None:
        return None
    row = store_messages.message_by_client_key(db.social(), person.id, key)
    if row is None:
        return None
    mid, room_id, stored, edited, deleted = row
    if room_id != room.id or (stored != body and edited is None and deleted is None):
        raise Conflict(KEY_REUSED)
    return Outcome(201, chat_reads.message(mid), replayed=True)


# --- writes -------------------------------------------------------------------------------------


def do_follow(conn: sqlite3.Connection, person: Person, room: Room) -> None:
    """Puts a document room or open channel in the person's list when they write or open it."""
    if store_rooms.follow(conn, room.id, person.id, discussion.now()):
        payload = {"room": chat_reads.room_json(room), "personId": person.id}
        append_event(conn, "room.member_added", payload, room_id=room.id)


def do_send_message(
    conn: sqlite3.Connection, person: Person, room: Room, draft: Draft, key: str | None
) -> dict[str, Any]:
    if room.document_key is not None or room.open_channel:
        do_follow(conn, person, room)
    at = discussion.now()
    message_id = store_messages.insert_message(
        conn, room.id, person.id, draft.body, draft.body_html, at, key
    )
    message = chat_reads.message(message_id)
    append_event(conn, "message.new", message, room_id=room.id)
    mentioned = _record_mentions(conn, message_id, draft.mentioned)
    _notify(conn, person, room, (message_id, message["id"]), mentioned, at)
    if room.kind == CHANNEL:  # the feed, and the notifications of those watching the channel
        activity.channel_message(conn, person.id, room.id, message_id, at, mentioned)
    do_mark_read(conn, person, room, message_id)  # one has read what one wrote
    return message


def _record_mentions(
    conn: sqlite3.Connection, message_id: int, mentioned: dict[str, Mentioned]
) -> list[str]:
    ids = sorted({person.person_id for person in mentioned.values()})
    store_messages.add_mentions(conn, message_id, ids)
    return ids


def _notify(conn, actor: Person, room: Room, message: tuple, recipients, at: str) -> None:
    """A mention notification (row + notification.new event) for each recipient but the
    actor. The event names no document: it is replayed later, maybe after access is gone.
    `message` is (rowid, public id)."""
    message_id, public_id = message
    drive_id, item_id = room.document_key or ("", "")
    for recipient in recipients:
        notification_id = notifications.notify(
            conn,
            recipient_id=recipient,
            kind=notifications.MENTION,
            actor_id=actor.id,
            drive_id=drive_id,
            item_id=item_id,
            comment_id=None,
            at=at,
            room_id=room.id,
            message_id=message_id,
        )
        if notification_id is None:
            continue
        payload = {
            "id": notification_id,
            "kind": notifications.MENTION,
            "roomId": room.id,
            "messageId": public_id,
            "actor": {"id": actor.id, "displayName": actor.display_name},
        }
        append_event(conn, "notification.new", payload, person_id=recipient)


def do_edit_message(
    conn: sqlite3.Connection, person: Person, room: Room, message: tuple, draft: Draft
) -> dict[str, Any]:
    """New text; people newly mentioned are notified, those no longer mentioned un-notified."""
    message_id, at = message[0], discussion.now()
    store_messages.edit_message(conn, message_id, draft.body, draft.body_html, at)
    before = store_messages.mentioned_in(conn, message_id)
    store_messages.clear_mentions(conn, message_id)
    after = set(_record_mentions(conn, message_id, draft.mentioned))
    notifications.withdraw_message(conn, message_id, sorted(before - after))
    edited = chat_reads.message(message_id)
    append_event(conn, "message.edited", edited, room_id=room.id)
    _notify(conn, person, room, (message_id, edited["id"]), sorted(after - before), at)
    return edited


def do_delete_message(conn: sqlite3.Connection, room: Room, message: tuple) -> None:
    """The row keeps its place in the history, but its words, mentions and notifications go."""
    message_id = message[0]
    store_messages.blank_message(conn, message_id, discussion.now())
    store_messages.clear_mentions(conn, message_id)
    notifications.withdraw_message(conn, message_id)
    forget_words(conn, room.id, message[9])  # its public id, as the events carry it
    append_event(conn, "message.deleted", chat_reads.message(message_id), room_id=room.id)


def do_mark_read(conn: sqlite3.Connection, person: Person, room: Room, last_read_id: int) -> int:
    """Moves the person's marker forward (never back); the marker after the change."""
    current = store_messages.read_marker(conn, room.id, person.id)
    if last_read_id <= current:
        return current
    store_messages.move_read_marker(conn, room.id, person.id, last_read_id, discussion.now())
    public_id, seq = store_messages.public_place(conn, last_read_id)
    payload = {"roomId": room.id, "lastReadId": public_id, "lastReadSeq": seq}
    append_event(conn, "room.read", payload, person_id=person.id)
    return last_read_id


# --- the operations the views call -------------------------------------------------------------


def send_message(person: Person, room_id: str, payload: Any, header_key: str | None) -> Outcome:
    """POST /rooms/{id}/messages {"body", "client_key"?} (or the Idempotency-Key header)."""
    room = chat_access.access_room(person, room_id)
    if not isinstance(payload, dict):
        raise BadInput('Send a JSON object such as {"body": "Hello", "client_key": "<uuid>"}.')
    body = payload.get("body")
    key = check_client_key(payload.get("client_key"), header_key)

    def prepare() -> Draft:
        check_writable(person, room)
        return check_message(room, body)

    def write(conn: sqlite3.Connection, draft: Draft) -> Outcome:
        security.check_rate(person, "message")  # counted with the write, or not at all
        return Outcome(201, do_send_message(conn, person, room, draft, key))

    ledger = idempotency.Ledger(lambda key: replay(person, room, key, body))
    return idempotency.once(ledger, key, prepare, write)


def edit_message(person: Person, message_id: str, body: Any) -> dict[str, Any]:
    message, room = require_message(person, message_id)
    check_own(person, message, N_("edit"))
    check_live(message)
    check_writable(person, room)
    draft = check_message(room, body)
    with db.transaction() as conn:
        security.check_rate(person, "message")
        return do_edit_message(conn, person, room, message, draft)


def delete_message(person: Person, message_id: str) -> None:
    message, room = require_message(person, message_id)
    check_own(person, message, N_("delete"))
    check_live(message)
    check_writable(person, room)
    with db.transaction() as conn:
        security.check_rate(person, "message")
        do_delete_message(conn, room, message)


def mark_read(person: Person, room_id: str, last_read_id: Any) -> dict[str, Any]:
    room = chat_access.access_room(person, room_id)
    wanted = check_last_read_id(room, last_read_id)
    with db.transaction() as conn:
        do_mark_read(conn, person, room, wanted)
    last_read_id, last_read_seq = chat_reads.read_markers(person.id, [room.id]).get(
        room.id, (None, 0)
    )
    unread = chat_reads.unread_counts(person.id, [room.id]).get(room.id, 0)
    return {
        "roomId": room.id,
        "lastReadId": last_read_id,
        "lastReadSeq": last_read_seq,
        "unreadCount": unread,
    }
