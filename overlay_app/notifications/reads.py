"""Reading notifications, trimmed at read time by the recipient's access.

A notification about a document the recipient can no longer see is hidden from every surface
(the list, the page, the unread count), so revoking access in SharePoint silences it without
touching the rows, and granting it back brings it back. Chat mentions are trimmed by
chat_access instead, so leaving a closed channel or losing a document silences them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g
from flask_babel import lazy_gettext as _l

from overlay_app import access, db
from overlay_app.chat import access as chat_access
from overlay_app.chat import store_messages
from overlay_app.discussion import reads as discussion
from overlay_app.discussion import rendering
from overlay_app.discussion import store as discussion_store
from overlay_app.identity import Person, current_person
from overlay_app.notifications import store
from overlay_app.notifications.store import LIKE, MENTION, MODERATED, REPLY, REPORTED

# Where the moderation kinds lead, and what they say (they name no document).
ADDRESSED = {
    REPORTED: ("/admin/moderation", _l("%(who)s reported something for moderators to review")),
    MODERATED: ("/moderation/notices", _l("A moderator moderated something you wrote: see why")),
}
# Each kind's sentence as one whole (word order differs between languages).
ON_DOCUMENT = {
    MENTION: _l("%(who)s mentioned you on %(what)s"),
    REPLY: _l("%(who)s replied to you on %(what)s"),
    LIKE: _l("%(who)s liked your comment on %(what)s"),
}
WROTE_ON = _l("%(who)s wrote on %(what)s")
IN_ROOM = {MENTION: _l("%(who)s mentioned you in %(what)s")}
WROTE_IN = _l("%(who)s wrote in %(what)s")

DEFAULT_LIMIT, MAX_LIMIT, BATCH = 50, 200, 200


@dataclass(frozen=True)
class Notification:
    """One notification as its recipient sees it: who, what, where, and a line of the text."""

    id: str  # the public id
    kind: str
    actor: discussion.PersonRef
    drive_id: str
    item_id: str
    document_name: str
    comment_id: str | None
    excerpt: str
    created_at: str
    read: bool
    room_id: str | None = None  # chat mentions
    message_id: str | None = None  # the message's public id
    room_title: str = ""  # "#channel", "the chat about <document>", "a direct conversation"

    @property
    def url(self) -> str:
        if self.kind in ADDRESSED:
            return ADDRESSED[self.kind][0]
        if self.room_id is not None:
            return f"/chat/{self.room_id}#message-{self.message_id}"
        anchor = f"#comment-{self.comment_id}" if self.comment_id else ""
        return f"/documents/{self.drive_id}/{self.item_id}{anchor}"

    @property
    def sentence(self) -> str:
        who = self.actor.display_name
        if self.kind in ADDRESSED:
            return ADDRESSED[self.kind][1] % {"who": who}
        if self.room_id is not None:
            return IN_ROOM.get(self.kind, WROTE_IN) % {"who": who, "what": self.room_title}
        sentence = ON_DOCUMENT.get(self.kind, WROTE_ON)
        return sentence % {"who": who, "what": self.document_name}

    def to_json(self) -> dict[str, Any]:
        answer = {
            "id": self.id,
            "kind": self.kind,
            "read": self.read,
            "createdAt": self.created_at,
            "actor": self.actor.to_json(),
            "document": None
            if not self.drive_id
            else {
                "driveId": self.drive_id,
                "itemId": self.item_id,
                "name": self.document_name,
            },
            "commentId": self.comment_id,
            "excerpt": self.excerpt,
            "url": self.url,
        }
        if self.room_id is not None:
            answer.update(roomId=self.room_id, messageId=self.message_id)
        return answer


def _visible_places(person: Person, places: set[tuple]) -> set[tuple]:
    """The (drive_id, item_id, room_id) places the person may still see: documents through
    access, chat rooms through chat_access."""
    addressed = {place for place in places if place == ("", "", None)}  # about no document
    rooms = {room_id for _, _, room_id in places if room_id}
    documents = access.filter_visible(person, {(d, i) for d, i, room_id in places if not room_id})
    rooms_seen = chat_access.visible_room_ids(person, rooms) if rooms else set()
    return addressed | {
        (d, i, room_id)
        for d, i, room_id in places
        if (room_id in rooms_seen if room_id else (d, i) in documents)
    }


def visible_rows(person: Person, limit: int, unread_only: bool = False) -> list[tuple]:
    """The person's newest notifications about documents they can still see."""
    before = 2**62
    found: list[tuple] = []
    while len(found) < limit:
        rows = store.newest(db.social(), person.id, before, unread_only, BATCH)
        if not rows:
            break
        visible = _visible_places(person, {(row[3], row[4], row[8]) for row in rows})
        found.extend(row for row in rows if (row[3], row[4], row[8]) in visible)
        before = rows[-1][0]
    return found[:limit]


def listing(
    person: Person, limit: int = DEFAULT_LIMIT, unread_only: bool = False
) -> list[Notification]:
    rows = visible_rows(person, limit, unread_only)
    names = discussion.display_names(row[2] for row in rows)
    titles = _document_names(person, {(row[3], row[4]) for row in rows if row[3]})
    places = _room_titles({row[8] for row in rows if row[8]}, titles)
    excerpts = _excerpts({row[5] for row in rows if row[5]})
    chat_excerpts = _message_excerpts({row[9] for row in rows if row[9]})
    return [
        Notification(
            public_id,
            kind,
            discussion.PersonRef(actor, discussion.name_of(actor, names)),
            drive_id,
            item_id,
            titles.get((drive_id, item_id), "a document"),
            comment_id,
            chat_excerpts.get(mid, "") if mid else excerpts.get(comment_id or "", ""),
            created,
            read is not None,
            room_id,
            message_public_id,
            places.get(room_id or "", ""),
        )
        for (
            _, kind, actor, drive_id, item_id, comment_id, created, read, room_id, mid,
            public_id, message_public_id,
        ) in rows
    ]  # fmt: skip


def _room_titles(room_ids: set[str], titles: dict[tuple[str, str], str]) -> dict[str, str]:
    """How a notification names a chat room: the document's chat, #channel, or a direct one."""
    found = {}
    for room in chat_access.load_rooms(room_ids).values():
        if room.document_key is not None:
            found[room.id] = "the chat about " + titles.get(room.document_key, "a document")
        elif room.kind == chat_access.CHANNEL:
            found[room.id] = f"#{room.name}"
        else:
            found[room.id] = "a direct conversation"
    return found


def _document_names(person: Person, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Names of the documents (already trimmed) that the notifications are about."""
    found = access.documents(person, keys)
    return {key: document.name or "a document" for key, document in found.items()}


def _excerpts(comment_ids: set[str]) -> dict[str, str]:
    if not comment_ids:
        return {}
    bodies = discussion_store.live_bodies(db.social(), comment_ids)
    return {cid: rendering.excerpt(body) for cid, body in bodies.items()}


def _message_excerpts(message_ids: set[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    bodies = store_messages.live_bodies(db.social(), message_ids)
    return {mid: rendering.excerpt(body) for mid, body in bodies.items()}


def count_unread(person: Person) -> int:
    """Unread notifications about documents and chat rooms the person can still see."""
    rows = store.unread_by_place(db.social(), person.id)
    if not rows:
        return 0
    visible = _visible_places(person, {(d, i, r) for d, i, r, _ in rows})
    return sum(n for d, i, r, n in rows if (d, i, r) in visible)


def unread_count() -> int:
    """Template global for the header badge: 0 when nobody is signed in. Counted once per
    request (base.html asks twice)."""
    person = current_person()
    if person is None:
        return 0
    if "plaza_unread_count" not in g:
        g.plaza_unread_count = count_unread(person)
    return g.plaza_unread_count
