"""The "For you" feed, read: one entry per conversation, newest activity first, paged by an
opaque cursor, each entry saying why it is there.

What brings a conversation in: documents and channels the person follows, documents in
folders, libraries and sites they follow, documents with tags they follow, and conversations
in which people they follow, their team, their practice (sync.directory.colleagues) or they
themselves took part. Activity is a comment, a like of the document, a tag added to it or a
message in its chat room (one entry per conversation all the same). The candidates are one
range of the person's inbox (feed.inbox, written at activity time); every page:
- an entry is kept only if those follows and colleagues give it a reason *now* (its "why"),
  so an unfollow takes it out at once;
- documents through access.filter_discoverable (discovery is not access: nothing reached only
  through an organisation-wide link, unless the person interacted with it), archived
  (deleted) documents left out; channels through chat.access; whatever a moderator hid
  (`hidden_conversations`, the one place such a predicate applies);
- the excerpt is the latest live comment or message, so a deleted word never shows.
A revocation synced, a deletion or a hiding takes an entry out on the next read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer

from overlay_app import access, db
from overlay_app.chat import access as chat_access
from overlay_app.chat import store_messages
from overlay_app.discussion import reads as discussion
from overlay_app.discussion import rendering
from overlay_app.discussion import store as discussion_store
from overlay_app.errors import BadInput
from overlay_app.feed import activity, store
from overlay_app.feed.store import Activity
from overlay_app.follow import levels, targets
from overlay_app.follow import store as follow_store
from overlay_app.identity import Person
from overlay_app.tags import store as tags_store
from sync import directory, visibility

PAGE_SIZE, MAX_PAGE = 20, 50
BATCH, MAX_BATCHES = 60, 10  # a sparse feed stops after this much reading; the cursor goes on
TOP = ("9999", "")  # a cursor before everything
# At most this many of a practice (a department can be large): each person around one costs
# the feed a read of their conversations.
PRACTICE_SHOWN = 30


@dataclass
class Interests:
    """What the person follows and who is around them, as the candidates query reads it."""

    conversations: dict[str, str] = field(default_factory=dict)  # -> why
    drives: dict[str, str] = field(default_factory=dict)  # a followed library or site -> why
    folders: dict[tuple[str, str], str] = field(default_factory=dict)  # followed folder -> why
    actors: dict[str, str] = field(default_factory=dict)  # -> why
    tags: set[str] = field(default_factory=set)
    levels: dict[tuple[str, str], str] = field(default_factory=dict)  # the person's own

    def params(self) -> dict[str, list[str]]:
        drives = set(self.drives) | {drive_id for drive_id, _ in self.folders}
        return {"conversations": list(self.conversations), "drives": list(drives),
                "actors": list(self.actors), "tags": list(self.tags)}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    conversation: str
    kind: str  # document | channel
    title: str
    url: str
    last_at: str
    actor: discussion.PersonRef
    excerpt: str
    reasons: list[str]
    document: tuple[str, str] | None
    activity: str = "comment"  # what the last activity was: comment | message | like | tag

    def to_json(self) -> dict[str, Any]:
        place = None
        if self.document is not None:
            place = {"driveId": self.document[0], "itemId": self.document[1], "name": self.title}
        return {
            "kind": self.kind, "title": self.title, "url": self.url, "lastActivityAt": self.last_at,
            "lastActor": self.actor.to_json(), "excerpt": self.excerpt, "why": self.reasons,
            "document": place, "lastActivity": self.activity,
        }  # fmt: skip


def interests(person: Person) -> Interests:
    found = Interests()
    people_names = {}
    for kind, key, _ in follow_store.follows_of(db.social(), person.id):
        if kind == targets.DOCUMENT:
            found.conversations[f"doc:{key}"] = gettext("You follow this document")
        elif kind == targets.CHANNEL:
            found.conversations[f"room:{key}"] = gettext("You follow this channel")
        elif kind == targets.FOLDER:
            drive_id, item_id = targets.split_document_key(key)
            if not visibility.ancestors(db.index(), drive_id, item_id):  # a library's root
                found.drives[drive_id] = gettext("In a library you follow")
            else:
                found.folders[(drive_id, item_id)] = gettext("In a folder you follow")
        elif kind == targets.SITE:
            for site in visibility.visible_sites(db.index(), access.principals_of(person.id), key):
                for library in site.libraries:
                    found.drives.setdefault(library.id, gettext("In a site you follow"))
        elif kind == targets.TAG:
            found.tags.add(key)
        elif kind == targets.PERSON:
            people_names[key] = None
    team, practice = directory.colleagues(db.index(), person.id, PRACTICE_SHOWN)
    names = directory.display_names(db.index(), [*people_names, *team, *practice])

    def name(actor: str) -> str:
        return names.get(actor) or gettext("Someone")

    for actor in practice:
        found.actors[actor] = gettext("%(name)s in your practice took part", name=name(actor))
    for actor in team:
        found.actors[actor] = gettext("%(name)s on your team took part", name=name(actor))
    for actor in people_names:
        found.actors[actor] = gettext("%(name)s, whom you follow, took part", name=name(actor))
    found.actors[person.id] = gettext("You took part in this conversation")
    return found


def page(
    person: Person, cursor: str | None, limit: int = PAGE_SIZE
) -> tuple[list[Entry], str | None]:
    """One page of the feed after `cursor` (None: the newest), and the next page's cursor."""
    wanted = interests(person)
    wanted.levels = follow_store.levels_of(db.social(), person.id)
    before: tuple[str, str] | None = _open_cursor(cursor) if cursor else TOP
    kept: list[tuple[Activity, list[str]]] = []
    for _ in range(MAX_BATCHES):
        if before is None:
            break
        batch = store.inbox(db.social(), person.id, before, BATCH)
        kept += _trimmed(person, wanted, batch)
        before = (batch[-1].last_at, batch[-1].conversation) if len(batch) == BATCH else None
        if len(kept) >= limit:
            kept = kept[:limit]
            before = (kept[-1][0].last_at, kept[-1][0].conversation)
            break
    return _entries(person, kept), None if before is None else _seal_cursor(before)


def hidden_conversations(activities: list[Activity]) -> set[str]:
    """The conversations among these that leave every feed at once as a whole: none today.
    Moderation hides single comments and messages, not conversations: a hidden one stops
    being the conversation's latest activity when it is hidden (feed.activity), and its
    words leave the feed through the stores' SHOWN-filtered reads (`live_bodies`)."""
    return set()


def _trimmed(
    person: Person, wanted: Interests, batch: list[Activity]
) -> list[tuple[Activity, list[str]]]:
    """Those the person may see now, each with its reasons (none: it is left out)."""
    keys = {(a.drive_id, a.item_id) for a in batch if a.drive_id}
    open_docs = access.filter_discoverable(person, keys) if keys else set()
    documents = access.documents(person, open_docs) if open_docs else {}
    rooms = {a.room_id for a in batch if a.room_id}
    open_rooms = chat_access.visible_room_ids(person, rooms) if rooms else set()
    hidden = hidden_conversations(batch)
    seen = [
        a for a in batch
        if a.conversation not in hidden
        and (a.room_id in open_rooms if a.room_id else
             (a.drive_id, a.item_id) in documents
             and not documents[(a.drive_id, a.item_id)].archived)
    ]  # fmt: skip
    if not seen:
        return []
    took_part = store.actors_in(db.social(), [a.conversation for a in seen], list(wanted.actors))
    tags = _tags_of([(a.drive_id, a.item_id) for a in seen if a.drive_id])
    found = [(a, _reasons(wanted, a, took_part, tags.get((a.drive_id, a.item_id), [])))
             for a in seen
             if not _muted(wanted.levels, a, tags.get((a.drive_id, a.item_id), []))]  # fmt: skip
    return [(a, reasons) for a, reasons in found if reasons]


def _muted(chosen: dict[tuple[str, str], str], a: Activity, tags: list[str]) -> bool:
    """Whether the level that applies to the conversation's place is muted."""
    if levels.MUTED not in chosen.values():
        return False
    if a.room_id:
        return levels.resolve(chosen, levels.place_of("", "", a.room_id)) == levels.MUTED
    drive_id, item_id = a.drive_id or "", a.item_id or ""
    folders = []
    if any(kind == targets.FOLDER for kind, _ in chosen):  # the folders only when they count
        folders = [
            folder_id for folder_id, _ in visibility.ancestors(db.index(), drive_id, item_id)
        ]
    place = levels.place_from(drive_id, item_id, folders, tags)
    return levels.resolve(chosen, place) == levels.MUTED


def _folder_reasons(wanted: Interests, activity: Activity) -> list[str]:
    if activity.drive_id is None or not any(d == activity.drive_id for d, _ in wanted.folders):
        return []
    above = visibility.ancestors(db.index(), activity.drive_id, activity.item_id or "")
    return [wanted.folders[(activity.drive_id, f)] for f, _ in above
            if (activity.drive_id, f) in wanted.folders][:1]  # fmt: skip


def _entries(person: Person, kept: list[tuple[Activity, list[str]]]) -> list[Entry]:
    if not kept:
        return []
    activities = [a for a, _ in kept]
    documents = access.documents(
        person, {(a.drive_id, a.item_id) for a in activities if a.drive_id}
    )
    rooms = chat_access.load_rooms({a.room_id for a in activities if a.room_id})
    names = discussion.display_names(a.last_actor_id for a in activities)
    excerpts = _excerpts(activities)
    entries = []
    for a, reasons in kept:
        actor = discussion.PersonRef(a.last_actor_id, discussion.name_of(a.last_actor_id, names))
        excerpt = excerpts.get(a.conversation, "")
        if a.room_id:
            room = rooms.get(a.room_id)
            title = f"#{room.name}" if room else "a channel"
            entries.append(Entry(a.conversation, "channel", title, f"/chat/{a.room_id}", a.last_at,
                                 actor, excerpt, reasons, None, a.last_kind))  # fmt: skip
            continue
        document = documents[(a.drive_id, a.item_id)]
        url = f"/documents/{a.drive_id}/{a.item_id}"
        entries.append(Entry(a.conversation, "document", document.name or "a document", url,
                             a.last_at, actor, excerpt, reasons, (a.drive_id, a.item_id),
                             a.last_kind))  # fmt: skip
    return entries


def _excerpts(activities: list[Activity]) -> dict[str, str]:
    """What the last activity said: a live comment's or message's words (a deleted or hidden
    one says nothing), a like, or the newest tag."""
    bodies = discussion_store.live_bodies(
        db.social(), {a.last_comment_id for a in activities if a.last_comment_id}
    )
    messages = store_messages.live_bodies(
        db.social(), {a.last_message_id for a in activities if a.last_message_id is not None}
    )
    found = {}
    for a in activities:
        if a.last_kind == activity.LIKE:
            found[a.conversation] = gettext("Liked the document")
        elif a.last_kind == activity.TAG:
            tags = tags_store.entries_of(db.social(), a.drive_id or "", a.item_id or "")
            newest = max(tags, key=lambda e: (e[2], e[0]))[0] if tags else None
            found[a.conversation] = gettext("Tagged #%(tag)s", tag=newest) if newest else ""
        elif a.last_message_id is not None:
            found[a.conversation] = rendering.excerpt(messages.get(a.last_message_id) or "")
        else:
            found[a.conversation] = rendering.excerpt(bodies.get(a.last_comment_id or "") or "")
    return found


def _tags_of(keys: list) -> dict:
    return tags_store.tags_on(db.social(), keys) if keys else {}


def _reasons(wanted: Interests, a: Activity, took_part: set, tags: list[str]) -> list[str]:
    reasons = []
    if a.conversation in wanted.conversations:
        reasons.append(wanted.conversations[a.conversation])
    if a.drive_id in wanted.drives:
        reasons.append(wanted.drives[a.drive_id])
    reasons += _folder_reasons(wanted, a)
    followed = [tag for tag in tags if tag in wanted.tags]
    reasons += [gettext("Tagged #%(tag)s, which you follow", tag=tag) for tag in followed]
    reasons += [why for actor, why in wanted.actors.items() if (a.conversation, actor) in took_part]
    return reasons


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="plaza.feed.cursor")


def _seal_cursor(before: tuple[str, str]) -> str:
    return str(_serializer().dumps(list(before)))


def _open_cursor(cursor: str) -> tuple[str, str]:
    try:
        at, conversation = _serializer().loads(cursor)
    except (BadSignature, ValueError, TypeError) as error:
        raise BadInput("cursor is not one this feed gave out; start again without it.") from error
    return str(at), str(conversation)
