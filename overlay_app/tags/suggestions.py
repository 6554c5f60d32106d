"""Tag suggestions: the tags most used on documents a person may see, ranked once per change.

Only uses on documents the person may see count (overlay_app.access decides which), so a tag
used only on hidden documents is never suggested and hidden uses never change the order; ties
go alphabetically. Counting checks every tagged document of the tenant at once: up to a second
at 50,000 tagged documents (bench/README.md, "Tag suggestions"). So each worker keeps the
ranking of each principal set (a person whose groups change has another set) and counts again
only when something it was counted from has changed:

- the index: a sync committed (an ACL, an item, a membership). The rankings are kept per
  index connection, with that connection's `PRAGMA data_version`, which changes whenever any
  other connection commits; the overlay never writes the index itself.
- the tags: anyone's add or remove, on any worker (see `tags_state`).

Both are read before counting, so a ranking is never filed under a state newer than what it
was counted from. A revocation synced, and a tag added or removed, show on the next page, to
the writer and to everyone else, whichever worker serves them. tags.actions writes tags, and
tags.store holds the SQL.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlite_utils
from flask import current_app

from overlay_app import access, db, security
from overlay_app.errors import RateLimited
from overlay_app.identity import Person
from overlay_app.tags import store
from sync.db import index_version

SUGGESTIONS = 8
RANKED = 64  # tags ranked per principal set: a page shows SUGGESTIONS of them, minus its own
MAX_RANKINGS = 2_000  # principal sets kept per index connection, least recently used dropped
RANKINGS = "plaza.tag_rankings"  # app.extensions: index connection -> Rankings


class Ranking(NamedTuple):
    """A principal set's tags with a visible use, most used first; `complete` unless cut at
    the number of tags asked for."""

    tags: list[str]
    complete: bool


def suggestions(person: Person, exclude: Iterable[str] = (), limit: int = SUGGESTIONS) -> list[str]:
    """The `limit` most used tags on documents the person may see, `exclude`d ones left out."""
    excluded = set(exclude)
    ranking = visible_ranking(person)
    suggested = [tag for tag in ranking.tags if tag not in excluded][:limit]
    if len(suggested) < limit and not ranking.complete:
        # More of the ranking is excluded than it keeps spare: count for this page alone.
        wider = count_visible_uses(person, limit + len(excluded))
        suggested = [tag for tag in wider.tags if tag not in excluded][:limit]
    return suggested


def page_suggestions(person: Person, exclude: list[str]) -> list[str]:
    """A document page's suggestions, counted like the API's; past the limit the page shows
    none rather than refusing the page."""
    try:
        security.check_read_rate(person, "tag_suggestions")
    except RateLimited:
        return []
    return suggestions(person, exclude=exclude)


def visible_ranking(person: Person) -> Ranking:
    """The person's principal set's ranking, counted afresh only when the index or the tags
    changed since it was last counted on this connection."""
    principals = access.principals_of(person.id)
    if not principals:
        return Ranking([], True)
    rankings = rankings_of(db.index())
    state = (index_state(), tags_state())  # before counting: see the module's docstring
    ranking = rankings.get(state, principals)
    if ranking is None:
        ranking = count_visible_uses(person, RANKED)
        rankings.put(state, principals, ranking)
    return ranking


def count_visible_uses(person: Person, limit: int) -> Ranking:
    """The `limit` tags most used on documents the person may see (ties alphabetically)."""
    visible = access.filter_visible(person, store.tagged_documents(db.social()))
    if not visible:
        return Ranking([], True)
    tags = store.most_used(db.social(), sorted(visible), limit)
    return Ranking(tags, len(tags) < limit)


def index_state() -> int:
    """Changes whenever a sync commits (see the module's docstring)."""
    return index_version(db.index())


def tags_state() -> tuple[Any, ...]:
    """What changes whenever a tag is added or removed: the row count, the newest rowid and
    that row's added_at. SQLite gives a new row the largest rowid plus one, so when the count
    and the newest rowid are what they were, either nothing changed or the newest row was
    replaced (removed, then a new row took its rowid), and its added_at is then a later time."""
    return store.state(db.social())


@dataclass
class Rankings:
    """The rankings counted on one index connection, valid for one (index, tags) state."""

    state: tuple[Any, ...] = ()
    by_principals: OrderedDict[frozenset[str], Ranking] = field(default_factory=OrderedDict)

    def get(self, state: tuple[Any, ...], principals: frozenset[str]) -> Ranking | None:
        """The principal set's ranking if counted in `state`; a new state drops them all."""
        if state != self.state:
            self.state = state
            self.by_principals.clear()
            return None
        ranking = self.by_principals.get(principals)
        if ranking is not None:
            self.by_principals.move_to_end(principals)
        return ranking

    def put(self, state: tuple[Any, ...], principals: frozenset[str], ranking: Ranking) -> None:
        """Keeps a ranking counted in `state`, unless another state came meanwhile."""
        if state != self.state:
            return
        self.by_principals[principals] = ranking
        if len(self.by_principals) > MAX_RANKINGS:
            self.by_principals.popitem(last=False)


_lock = threading.Lock()


def rankings_of(index: sqlite_utils.Database) -> Rankings:
    """The rankings kept with this index connection (a connection serves one request at a
    time, so its rankings need no lock of their own); they go when the connection goes."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        kept = app.extensions.setdefault(RANKINGS, weakref.WeakKeyDictionary())
        return kept.setdefault(index, Rankings())
