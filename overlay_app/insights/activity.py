"""The activity a viewer's insights are made of, trimmed FIRST, then handed to the figures.

Trimming happens here and nowhere else in insights: every comment, like, mention and read is
kept only when its document is one the viewer's principal set may open (sync/visibility,
through `visible_among`), and every channel message only when the viewer may see its channel
(chat.access). Only then is anything counted, so a hidden document's activity changes no
figure, order or list a viewer receives.

Reading: Plaza keeps two per-person reading signals and insights only ever counts them: a
document notification marked read (`notifications.read_at`) and a chat read marker moved in a
channel (`read_markers.updated_at`, the latest move per person and room). Page views are not
recorded anywhere, so "reading" means exactly those two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from overlay_app import access, db
from overlay_app.chat import access as chat_access
from overlay_app.chat import store_insights, store_rooms
from overlay_app.chat.store_rooms import Room
from overlay_app.discussion import store_insights as discussion_store
from overlay_app.identity import Person
from overlay_app.notifications import store as notifications_store
from overlay_app.tags import store as tags_store
from sync import directory, visibility
from sync.visibility import Document

Key = tuple[str, str]


class Comment(NamedTuple):
    id: str
    key: Key
    parent_id: str | None
    author: str
    at: str


@dataclass
class Activity:
    """What the viewer may see of the days read, and who belongs to which unit."""

    now: datetime
    comments: list[Comment] = field(default_factory=list)
    comment_likes: list[tuple[Key, str, str]] = field(default_factory=list)  # on the document
    document_likes: list[tuple[Key, str, str]] = field(default_factory=list)
    mentions: dict[str, set[str]] = field(default_factory=dict)  # comment id -> people
    messages: list[tuple[str, str, str]] = field(default_factory=list)  # room, author, at
    marker_moves: list[tuple[str, str, str]] = field(default_factory=list)  # room, who, at
    document_messages: list[tuple[Key, str, str]] = field(default_factory=list)  # its room's
    document_marker_moves: list[tuple[Key, str, str]] = field(default_factory=list)
    notification_reads: list[tuple[Key, str, str]] = field(default_factory=list)
    documents: dict[Key, Document] = field(default_factory=dict)
    tags: dict[Key, list[str]] = field(default_factory=dict)
    channels: dict[str, Room] = field(default_factory=dict)
    units: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def comment_by_id(self) -> dict[str, Comment]:
        return {comment.id: comment for comment in self.comments}


def stamp(moment: datetime) -> str:
    """A moment as stored (UTC, ISO 8601 with milliseconds and a Z): comparable as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(stamped: str) -> datetime:
    return datetime.fromisoformat(stamped.replace("Z", "+00:00"))


@dataclass
class Raw:
    """The untrimmed activity of the days read, as read from the stores: only ever handed to
    `trimmed`, never counted."""

    now: datetime
    comments: list[Comment]
    comment_likes: list[tuple[Key, str, str]]
    document_likes: list[tuple[Key, str, str]]
    mentions: list[tuple[str, str]]
    reads: list[tuple[Key, str, str]]
    units: dict[str, tuple[str | None, str | None]]
    document_messages: list[tuple[Key, str, str]] = field(default_factory=list)
    document_marker_moves: list[tuple[Key, str, str]] = field(default_factory=list)

    @property
    def keys(self) -> set[Key]:
        found = {c.key for c in self.comments} | {k for k, _, _ in self.document_likes}
        found |= {k for k, _, _ in self.comment_likes} | {k for k, _, _ in self.reads}
        return found | {k for k, _, _ in self.document_messages + self.document_marker_moves}


def raw_activity(now: datetime, days: int) -> Raw:
    """The last `days` of activity (the network analysis's window)."""
    return raw_since(now, stamp(now - timedelta(days=days)))


def raw_since(now: datetime, since: str) -> Raw:
    """The activity from `since` on (KPIs read two periods: the one asked and the one before;
    a document's chat room counts for the document)."""
    social = db.social()
    return Raw(
        now=now,
        comments=[
            Comment(cid, (d, i), parent, author, at)
            for cid, d, i, parent, author, at in discussion_store.comments_since(social, since)
        ],
        comment_likes=[
            ((d, i), who, at)
            for d, i, who, at in discussion_store.comment_likes_on_since(social, since)
        ],
        document_likes=[
            ((d, i), who, at)
            for d, i, who, at in discussion_store.document_likes_since(social, since)
        ],
        mentions=discussion_store.mentions_since(social, since),
        reads=[
            ((d, i), who, at) for who, d, i, at in notifications_store.reads_since(social, since)
        ],
        units=directory.units(db.index()),
        document_messages=_keyed(store_insights.document_room_messages_since(social, since)),
        document_marker_moves=_keyed(
            store_insights.document_room_marker_moves_since(social, since)
        ),
    )


def _keyed(rows: list[tuple[str, str, str, str]]) -> list[tuple[Key, str, str]]:
    return [((d, i), who, at) for d, i, who, at in rows]


def visible_keys(raw: Raw, principals: frozenset[str]) -> set[Key]:
    """The documents with activity that the principal set may open (sync/visibility)."""
    return visibility.visible_among(db.index(), principals, raw.keys) if principals else set()


def discussed_visible(principals: frozenset[str], now: datetime, days: int) -> set[Key]:
    """The documents commented on, or written about in their chat room, in the last `days`
    that the principal set may open: what the network analysis is computed over (and cached
    by), read without loading the comments."""
    social, since = db.social(), stamp(now - timedelta(days=days))
    keys = discussion_store.commented_keys_since(social, since)
    keys += store_insights.document_room_keys_since(social, since)
    return visibility.visible_among(db.index(), principals, keys) if principals else set()


def discussed_keys(raw: Raw) -> list[Key]:
    """The documents `discussed_visible` starts from, from activity already read."""
    found = {c.key for c in raw.comments} | {k for k, _, _ in raw.document_messages}
    return sorted(found)


def trimmed(raw: Raw, principals: frozenset[str], visible: set[Key]) -> Activity:
    """The activity on the `visible` documents only (from `visible_keys`), with their
    metadata and tags."""
    kept = [c for c in raw.comments if c.key in visible]
    kept_ids = {c.id for c in kept}
    mentions: dict[str, set[str]] = defaultdict(set)
    for comment_id, person_id in raw.mentions:
        if comment_id in kept_ids:
            mentions[comment_id].add(person_id)
    activity = Activity(
        now=raw.now,
        comments=kept,
        comment_likes=[like for like in raw.comment_likes if like[0] in visible],
        document_likes=[like for like in raw.document_likes if like[0] in visible],
        mentions=dict(mentions),
        notification_reads=[read for read in raw.reads if read[0] in visible],
        units=raw.units,
        document_messages=[m for m in raw.document_messages if m[0] in visible],
        document_marker_moves=[m for m in raw.document_marker_moves if m[0] in visible],
    )
    activity.documents = visibility.documents(db.index(), principals, visible)
    activity.tags = tags_store.tags_on(db.social(), sorted(visible))
    return activity


def viewer_activity(
    viewer: Person, principals: frozenset[str], now: datetime, since: str, rooms_since: str = ""
) -> Activity:
    """Everything a viewer's KPIs count from `since` on: their documents' activity and their
    channels' (from `rooms_since` when given: the totals form reads only channels in full)."""
    raw = raw_since(now, since)
    # as every list does: the index's word, less what a live check refused within its window
    visible = access.filter_visible(viewer, raw.keys) if principals else set()
    activity = trimmed(raw, principals, visible)
    social, since = db.social(), rooms_since or since
    rooms = store_rooms.channels(social)
    seen = chat_access.visible_room_ids(viewer, [room.id for room in rooms])
    activity.channels = {room.id: room for room in rooms if room.id in seen}
    activity.messages = store_insights.messages_since(social, sorted(seen), since)
    activity.marker_moves = store_insights.read_marker_moves_since(social, sorted(seen), since)
    return activity
