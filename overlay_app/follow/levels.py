"""Notification levels and delivery channels: which notifications are created, and where.

Levels, per document, folder (or library), tag and chat channel:
- watching: every new comment (or channel message) is an event ("watched");
- participating, the default: mentions, replies to me, new comments in threads I wrote in;
- muted: nothing, except a mention of me by name (as in Zulip and Slack, being called on
  still reaches a person who muted the place).
The most specific level wins: the document's own, then its nearest folder's (up to the
library), then its tags' (watching if one tag is watched, else muted if one is muted).

Channels: each kind of event goes to the person by the channels they chose on their settings
page (defaults below). A channel is a `Channel` in CHANNELS; adding one (Teams' activity
feed) is a new entry here and a deliverer that reads what `channels_for` returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from overlay_app import db
from overlay_app.db import SocialConn
from overlay_app.follow import store
from overlay_app.follow.targets import CHANNEL, DOCUMENT, FOLDER, TAG, document_key
from overlay_app.tags import store as tags_store
from sync import visibility

WATCHING, PARTICIPATING, MUTED = "watching", "participating", "muted"
LEVELS = (WATCHING, PARTICIPATING, MUTED)

# The kinds of event (a notification's kind).
MENTION, REPLY, THREAD, LIKE, WATCHED = "mention", "reply", "thread", "like", "watched"
EVENTS = {
    MENTION: _l("Someone mentions you"),
    REPLY: _l("Someone replies to your comment"),
    THREAD: _l("New comments in a conversation you took part in"),
    LIKE: _l("Someone likes your comment"),
    WATCHED: _l("New comments and messages in what you watch"),
}


@dataclass(frozen=True)
class Channel:
    name: str
    label: str  # translated where it is shown (a lazy string)


IN_APP = Channel("in_app", _l("In Plaza"))
EMAIL = Channel("email", _l("Email"))
CHANNELS = (IN_APP, EMAIL)  # Teams' activity feed joins here when the Teams app brings it

# What reaches a person who chose nothing: everything in Plaza; by email mentions (soon
# after, unless read), and replies, threads and watched places in the digest; likes stay in
# Plaza.
DEFAULTS: dict[str, frozenset[str]] = {
    MENTION: frozenset({IN_APP.name, EMAIL.name}),
    REPLY: frozenset({IN_APP.name, EMAIL.name}),
    THREAD: frozenset({IN_APP.name, EMAIL.name}),
    LIKE: frozenset({IN_APP.name}),
    WATCHED: frozenset({IN_APP.name, EMAIL.name}),
}


def document_place(drive_id: str, item_id: str, conn: SocialConn | None = None) -> store.Place:
    """The targets a level on which applies to the document, most specific first: itself,
    its folders nearest first (the library's root last), then its tags (read on `conn`, a
    write's transaction, else this request's social store). Following any of them brings the
    document's conversations into the feed too (feed.inbox)."""
    folders = [folder_id for folder_id, _ in visibility.ancestors(db.index(), drive_id, item_id)]
    tags = tags_store.tags_of(db.social() if conn is None else conn, drive_id, item_id)
    return place_from(drive_id, item_id, folders, tags)


def place_from(drive_id: str, item_id: str, folders: list[str], tags: list[str]) -> store.Place:
    """The document's place from its folders (root first, as visibility.ancestors gives them)
    and its tags, for a caller that already has them."""
    place = [(DOCUMENT, document_key(drive_id, item_id))]
    place += [(FOLDER, document_key(drive_id, folder_id)) for folder_id in reversed(folders)]
    return place + [(TAG, tag) for tag in tags]


def place_of(drive_id: str, item_id: str, room_id: str | None) -> store.Place:
    """The place of a notification: its document's, or its channel's (direct rooms: none)."""
    if drive_id:
        return document_place(drive_id, item_id)
    return [(CHANNEL, room_id)] if room_id else []


def resolve(levels: dict[tuple[str, str], str], place: store.Place) -> str:
    """The level that applies, from a person's levels set on targets of the place."""
    for target in place:
        if target[0] != TAG and target in levels:
            return levels[target]
    on_tags = {levels[t] for t in place if t[0] == TAG and t in levels}
    for level in (WATCHING, MUTED):
        if level in on_tags:
            return level
    return PARTICIPATING


def wants(level: str, event: str) -> bool:
    """Whether an event of this kind is told to a person at this level."""
    if event == MENTION:
        return True
    if level == MUTED:
        return False
    return event != WATCHED or level == WATCHING


def chosen_channels(choices: dict[tuple[str, str], bool], event: str) -> frozenset[str]:
    default = DEFAULTS.get(event, frozenset({IN_APP.name}))
    return frozenset(
        channel.name
        for channel in CHANNELS
        if choices.get((event, channel.name), channel.name in default)
    )


def channels_for(
    conn: sqlite3.Connection, person_id: str, event: str, place: store.Place
) -> frozenset[str]:
    """The channels by which this event reaches the person: none when their level on the
    place does not want it, else those they chose for this kind of event."""
    levels = store.levels_on(conn, [person_id], place).get(person_id, {})
    if not wants(resolve(levels, place), event):
        return frozenset()
    return chosen_channels(store.choices_of(conn, [person_id]).get(person_id, {}), event)


def watchers(
    conn: sqlite3.Connection, place: store.Place, candidates: Iterable[str] = ()
) -> dict[str, str]:
    """The level that applies for everyone who set one on the place (plus `candidates`)."""
    levels = store.levels_around(conn, place, WATCHING, candidates)
    return {person_id: resolve(set_on, place) for person_id, set_on in levels.items()}
