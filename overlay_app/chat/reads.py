"""Reading chat: rooms with unread counts, message history pages, search; and the JSON shapes.

Nothing here decides visibility: every function is handed rooms that already passed
chat_access (or trims its hits through chat_access.visible_room_ids, for search).

Shapes (camelCase, like the rest of /api/v1):
- Message: {id, seq, roomId, author: {id, displayName}, body, bodyHtml, createdAt, editedAt,
  deleted, clientKey}; a deleted message keeps its place with body and bodyHtml "". `id` is
  random (public_id; the rowid, which counts every room's messages, stays inside), `seq` its
  place in its room (1, 2, ...), for ordering.
- Room (also the `room` of room.* events): {id, kind, name, description, closed, document:
  {driveId, itemId} | null, createdBy, createdAt, members: [{id, displayName, role}] | null}.
  Document rooms list no members: theirs are whoever can open the document.
- Room as the API answers it adds: title (channel name, document name, or the other people of
  a direct room), archived, myRole, unreadCount, lastReadId and lastReadSeq (the read marker's
  message, null and 0 before any), lastMessageId.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from overlay_app import access, db
from overlay_app.chat import access as chat_access
from overlay_app.chat import store_messages, store_rooms
from overlay_app.chat.access import CHANNEL, DIRECT, Room
from overlay_app.discussion import reads as discussion
from overlay_app.identity import Person
from sync.search import fts_query

DEFAULT_PAGE, MAX_PAGE = 50, 100
DEFAULT_HITS, MAX_HITS, SEARCH_BATCH = 20, 100, 200
# Matches are marked with private-use characters, the text escaped, then the marks made <mark>,
# so no stored text can inject markup.
_OPEN, _CLOSE = "\ue000", "\ue001"


# -- messages ----------------------------------------------------------------------------------


def message_json(row: tuple, names: dict[str, str]) -> dict[str, Any]:
    _, room_id, author_id, body, body_html, created, edited, deleted, key, public_id, seq = row
    return {
        "id": public_id,
        "seq": seq,
        "roomId": room_id,
        "author": {"id": author_id, "displayName": discussion.name_of(author_id, names)},
        "body": body,
        "bodyHtml": body_html,
        "createdAt": created,
        "editedAt": edited,
        "deleted": deleted is not None,
        "clientKey": key,
    }


def messages_json(rows: list[tuple]) -> list[dict[str, Any]]:
    names = discussion.display_names(row[2] for row in rows)
    return [message_json(row, names) for row in rows]


def message_row(message_id: int) -> tuple | None:
    return store_messages.message_by_id(db.social(), message_id)


def message_row_by_id(public_id: str) -> tuple | None:
    """A message's row by the id people see."""
    return store_messages.message_by_public_id(db.social(), public_id)


def place_in(room: Room, public_id: str) -> int | None:
    """The rowid of one of the room's messages, given its public id (to page from it)."""
    return store_messages.place_in(db.social(), room.id, public_id)


def message(message_id: int) -> dict[str, Any]:
    row = message_row(message_id)
    assert row is not None
    return messages_json([row])[0]


def history(room: Room, before: int | None, after: int | None, limit: int) -> dict[str, Any]:
    """One page of a room's messages, oldest first. With `after`: the first `limit` after it
    (catching up); otherwise the last `limit` before `before` (scrolling back), or the newest.
    `before` and `after` are rowids (place_in)."""
    if after is not None:
        rows = store_messages.messages_after(db.social(), room.id, after, before, limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
    else:
        rows = store_messages.messages_before(db.social(), room.id, before, limit + 1)
        more, rows = len(rows) > limit, rows[:limit][::-1]
    return {"messages": messages_json(rows), "hasMore": more}


# -- rooms -------------------------------------------------------------------------------------


def members_of(room_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """(person_id, role) of each room's member rows, owners first."""
    return store_rooms.members_of(db.social(), room_ids)


def room_json(room: Room, members: list[tuple[str, str]] | None = None,
              names: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """The room as events carry it: ids, kind, channel name; never a document's name."""
    key = room.document_key
    listed = None
    if key is None:
        members = members if members is not None else members_of([room.id]).get(room.id, [])
        names = names if names is not None else discussion.display_names(p for p, _ in members)
        listed = [
            {"id": pid, "displayName": discussion.name_of(pid, names), "role": role}
            for pid, role in members
        ]
    return {
        "id": room.id,
        "kind": room.kind,
        "name": room.name,
        "description": room.description,
        "closed": room.closed,
        "document": None if key is None else {"driveId": key[0], "itemId": key[1]},
        "createdBy": room.created_by,
        "createdAt": room.created_at,
        "members": listed,
    }


def unread_counts(person_id: str, room_ids: Iterable[str]) -> dict[str, int]:
    """Messages after the person's read marker, not their own and not deleted, per room."""
    return store_messages.unread_counts(db.social(), person_id, room_ids)


def read_markers(person_id: str, room_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
    """(public id, seq) of the message the person's marker names, per room that has one."""
    return store_messages.read_markers(db.social(), person_id, room_ids)


def rooms_json(person: Person, rooms: list[Room]) -> list[dict[str, Any]]:
    """Rooms as the API answers them (see the module docstring), most recent activity first."""
    ids = [room.id for room in rooms]
    unread = unread_counts(person.id, ids)
    last = store_messages.last_messages(db.social(), ids)
    markers = read_markers(person.id, ids)
    members = members_of(ids)
    names = discussion.display_names(p for listed in members.values() for p, _ in listed)
    titles = _document_titles(person, [room.document_key for room in rooms if room.document_key])
    answers = []
    for room in rooms:
        listed = members.get(room.id, [])
        shaped = room_json(room, listed, names)
        shaped.update(
            title=_title(person, room, listed, names, titles),
            archived=_archived(room, titles),
            myRole=dict(listed).get(person.id),
            unreadCount=unread.get(room.id, 0),
            lastReadId=markers.get(room.id, (None, 0))[0],
            lastReadSeq=markers.get(room.id, (None, 0))[1],
            lastMessageId=last.get(room.id, (0, None))[1],
        )
        answers.append(shaped)
    newest = {room: rowid for room, (rowid, _) in last.items()}  # the rowids order them
    answers.sort(key=lambda r: (newest.get(r["id"], 0), r["createdAt"]), reverse=True)
    return answers


def _document_titles(
    person: Person, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, bool]]:
    """(name, archived) of documents the caller already knows to be visible."""
    found = access.documents(person, keys)
    return {key: (doc.name or "a document", doc.archived) for key, doc in found.items()}


def _title(person, room, listed, names, titles) -> str:
    if room.kind == CHANNEL:
        return room.name or ""
    if room.kind == DIRECT:
        others = [discussion.name_of(pid, names) for pid, _ in listed if pid != person.id]
        return ", ".join(others) or person.display_name
    return titles.get(room.document_key, ("a document", False))[0]


def _archived(room: Room, titles) -> bool:
    if room.document_key is not None:
        return titles.get(room.document_key, ("", False))[1]
    return room.archived_at is not None


# -- search ------------------------------------------------------------------------------------


def search(person: Person, text: str, room: Room | None, limit: int) -> list[dict[str, Any]]:
    """Newest messages matching `text`, in rooms the person may see now (each hit's room goes
    through chat_access), with a highlighted snippet and the room's id, kind and title. Hits
    are ordered by message id alone, never by a relevance score: FTS5 only filters, so no
    hidden message moves a visible one."""
    match = fts_query(text)
    if match is None:
        return []
    before = store_messages.NO_MESSAGE_YET
    hits: list[tuple] = []
    allowed: dict[str, bool] = {}
    while len(hits) < limit:
        rows = store_messages.matching_messages(
            db.social(), match, room.id if room else None, before, SEARCH_BATCH, (_OPEN, _CLOSE)
        )
        if not rows:
            break
        unknown = {row[1] for row in rows} - set(allowed)
        visible = chat_access.visible_room_ids(person, unknown)
        allowed.update({room_id: room_id in visible for room_id in unknown})
        hits.extend(row for row in rows if allowed[row[1]])
        before = rows[-1][0]
    return _hits_json(person, hits[:limit])


def _hits_json(person: Person, hits: list[tuple]) -> list[dict[str, Any]]:
    rooms = chat_access.load_rooms(row[1] for row in hits)
    shaped = {r["id"]: r for r in rooms_json(person, list(rooms.values()))}
    found = []
    width = len(store_messages.MESSAGE_FIELDS)
    for row, answer in zip(hits, messages_json([row[:width] for row in hits]), strict=True):
        room = shaped[row[1]]
        answer["snippetHtml"] = _marked(row[width])
        answer["room"] = {"id": room["id"], "kind": room["kind"], "title": room["title"]}
        found.append(answer)
    return found


def _marked(text: str | None) -> str:
    escaped = html.escape(text or "", quote=False)
    return escaped.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
