"""What the home page shows, each part trimmed by the feature that owns it.

Recent discussions walk the newest comments back in batches and keep one entry per document,
for documents the person may discover (overlay_app.access.filter_discoverable: the home page
pushes, so a document reached only through an organisation-wide link appears only once the
person has taken part in it). The walk stops after a few batches: a person who can see
little of a busy tenant gets fewer entries rather than a slow page.
"""

from __future__ import annotations

from dataclasses import dataclass

from overlay_app import access, db
from overlay_app.discussion import reads as discussion
from overlay_app.discussion import rendering
from overlay_app.discussion import store as discussion_store
from overlay_app.identity import Person
from sync.visibility import Document

RECENT = 6
BATCH = 500
MAX_BATCHES = 4


@dataclass(frozen=True)
class Discussed:
    document: Document
    last_at: str
    last_author: discussion.PersonRef
    excerpt: str
    comments: int
    likes: int


def recent_discussions(person: Person, limit: int = RECENT) -> list[Discussed]:
    latest = _latest_comment_per_document(person, limit)
    keys = list(latest)
    documents = access.documents(person, keys)
    counts = {
        (d, i): (comments, likes)
        for d, i, comments, likes in discussion_store.counts_by_document(db.social(), keys)
    }
    names = discussion.display_names(row[3] for row in latest.values())
    found = []
    for key, (_, _, _, author, body, at) in latest.items():
        if key not in documents:
            continue  # gone from the index since the walk
        comments, likes = counts.get(key, (0, 0))
        author_ref = discussion.PersonRef(author, discussion.name_of(author, names))
        excerpt = rendering.excerpt(body)
        found.append(Discussed(documents[key], at, author_ref, excerpt, comments, likes))
    return found


def _latest_comment_per_document(person: Person, limit: int) -> dict[tuple[str, str], tuple]:
    """The newest comment row of each of the `limit` most recently discussed documents the
    person may discover, newest first."""
    chosen: dict[tuple[str, str], tuple] = {}
    judged: set[tuple[str, str]] = set()
    before = 2**62
    for _ in range(MAX_BATCHES):
        rows = discussion_store.newest_comments(db.social(), before, BATCH)
        if not rows:
            break
        newest: dict[tuple[str, str], tuple] = {}
        for row in rows:
            key = (row[1], row[2])
            if key not in judged and key not in newest:
                newest[key] = row
        allowed = access.filter_discoverable(person, newest) if newest else set()
        judged.update(newest)
        for key, row in newest.items():
            if key in allowed and len(chosen) < limit:
                chosen[key] = row
        if len(chosen) >= limit:
            break
        before = rows[-1][0]
    return chosen


def has_taken_part(person: Person) -> bool:
    """Whether the person has commented anywhere yet (the first-run guide is for those who
    have not)."""
    return bool(discussion_store.discussed_by(db.social(), person.id))
