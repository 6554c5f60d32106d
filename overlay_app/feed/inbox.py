"""Each person's feed inbox, written when something happens (fan-out on write), so that a feed
page reads one index range instead of one per person, folder and tag around the reader.

The inbox holds candidates only, never a permission: feed.reads trims every entry at read time
(access, archived, hidden) and keeps it only if the reader's follows and colleagues *now* give
it a reason, so an unfollow, a revocation, a deletion or a hiding takes effect at once. Fan-out
is generous (a superset is harmless, a miss is not):

- at each activity, the conversation goes to the actor, those around them (sync.directory.around:
  whose team or practice names the actor), the actor's followers, and the followers of the
  place: the document and every folder above it (a library is its root), its site and its tags,
  or the channel; every inbox already holding it moves it up (feed.store keeps the time);
- at a new follow, the newest conversations of the target (BACKFILL of them) are added.
Not backfilled: conversations of a new colleague, or of a document moved under a followed
folder, before their next activity.
"""

from __future__ import annotations

import sqlite3

from flask import g

from overlay_app import access, db
from overlay_app.db import SocialConn
from overlay_app.feed import store
from overlay_app.feed.store import Activity
from overlay_app.follow import levels, targets
from overlay_app.follow import store as follow_store
from overlay_app.identity import Person
from sync import directory, visibility

BACKFILL = 200  # conversations a new follow brings at once
PRACTICE_SHOWN = 30  # as feed.reads lists a practice
AROUND_MEMO, SITE_MEMO = "plaza.feed.around", "plaza.feed.site"


def audience(conn: sqlite3.Connection, activity: Activity) -> set[str]:
    """Everyone whose inbox the activity goes to (feed.store.touch puts it there)."""
    actor_id = activity.last_actor_id
    if activity.room_id:
        return _around_and_followers(conn, actor_id, [(targets.CHANNEL, activity.room_id)])
    drive_id, item_id = activity.drive_id or "", activity.item_id or ""
    place = levels.document_place(drive_id, item_id, conn)
    return document_audience(conn, actor_id, drive_id, place, None)


def document_audience(
    conn: SocialConn,
    actor_id: str,
    drive_id: str,
    place: follow_store.Place,
    site_id: str | None,
) -> set[str]:
    """The audience of activity by `actor_id` on a document of the library `drive_id`, whose
    place (follow.levels.document_place) the caller has read, and maybe its site (None: read
    here, once per app context)."""
    if site_id is None:
        sites: dict[str, str | None] = g.setdefault(SITE_MEMO, {})
        if drive_id not in sites:
            sites[drive_id] = visibility.site_of_library(db.index(), drive_id)
        site_id = sites[drive_id]
    # The document, the folders above it (following a library follows its root), its tags.
    followed = [*place, (targets.SITE, site_id)] if site_id else place
    return _around_and_followers(conn, actor_id, followed)


def _around_and_followers(conn: SocialConn, actor_id: str, place: follow_store.Place) -> set[str]:
    """The actor, those around them, their followers and the followers of the place."""
    people = {actor_id, *_around(actor_id)}
    return people | follow_store.followers(conn, [(targets.PERSON, actor_id), *place])


def _around(person_id: str) -> list[str]:
    """Those whose team or practice names the person, read once per app context (a script
    writing many activities asks the directory once per actor)."""
    known: dict[str, list[str]] = g.setdefault(AROUND_MEMO, {})
    if person_id not in known:
        known[person_id] = directory.around(db.index(), person_id, PRACTICE_SHOWN)
    return known[person_id]


def backfill(conn: sqlite3.Connection, person: Person, kind: str, key: str) -> None:
    """A new follow: the target's newest conversations into the person's inbox."""
    found: list[Activity] = []
    if kind in (targets.DOCUMENT, targets.CHANNEL):
        prefix = "doc:" if kind == targets.DOCUMENT else "room:"
        found = store.recent(conn, "conversations", [prefix + key], 1)
    elif kind == targets.PERSON:
        found = store.recent(conn, "actor", [key], BACKFILL)
    elif kind == targets.TAG:
        found = store.recent(conn, "tags", [key], BACKFILL)
    elif kind == targets.FOLDER:
        found = _inside_folder(conn, *targets.split_document_key(key))
    elif kind == targets.SITE:
        principals = access.principals_of(person.id)
        sites = visibility.visible_sites(db.index(), principals, key)
        drives = [library.id for site in sites for library in site.libraries]
        found = store.recent(conn, "drives", drives, BACKFILL) if drives else []
    for activity in found:
        store.deliver(conn, activity.conversation, activity.last_at, [person.id])


def _inside_folder(conn: sqlite3.Connection, drive_id: str, folder_id: str) -> list[Activity]:
    recent = store.recent(conn, "drives", [drive_id], BACKFILL)
    if visibility.root_item_id(db.index(), drive_id) == folder_id:
        return recent
    return [
        a for a in recent
        if any(f == folder_id for f, _ in visibility.ancestors(db.index(), drive_id,
                                                              a.item_id or ""))
    ]  # fmt: skip
