"""The index's read API by person: sync.visibility's answers for a person named by id or UPN.

For callers that hold a person, not a principal set: the admin commands (`plaza sync visible`,
`plaza sync explain`), benchmarks and tests. Each function reads the person's principal set
(sync/trimming.py) and asks sync.visibility, which alone decides; an unknown, disabled or
deleted person sees nothing. The overlay reads the set once per request and calls
sync.visibility itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlite_utils

from sync import visibility
from sync.explain import Explanation, explain_item
from sync.search import SearchFilters, SearchHit, SearchPage, search_documents
from sync.trimming import find_person, principal_set, principals_of
from sync.visibility import Document

# A folder listing's row is the one read model.
ListedItem = Document

__all__ = [
    "Document",
    "Explanation",
    "ListedItem",
    "SearchFilters",
    "SearchHit",
    "SearchPage",
    "can_view",
    "explain",
    "list_children",
    "principal_set",
    "search",
    "visible_item_keys",
]


def can_view(
    db: sqlite_utils.Database,
    person: str,
    drive_id: str,
    item_id: str,
    *,
    include_archived: bool = False,
) -> bool:
    """Whether the synced permissions let `person` see the item (sync.visibility.can_view)."""
    principals = principal_set(db, person)
    return visibility.can_view(db, principals, drive_id, item_id, include_archived=include_archived)


def list_children(
    db: sqlite_utils.Database,
    person: str,
    drive_id: str,
    parent_id: str,
    limit: int = 100,
    offset: int = 0,
) -> list[Document]:
    """The children of a folder that `person` may see: folders first, then by name; paged."""
    principals = principal_set(db, person)
    return visibility.children(db, principals, drive_id, parent_id, limit, offset)


def visible_item_keys(db: sqlite_utils.Database, person: str) -> Iterator[tuple[str, str]]:
    """(drive_id, item_id) of every live item `person` may see, sorted."""
    yield from visibility.visible_item_keys(db, principal_set(db, person))


def search(
    db: sqlite_utils.Database,
    person: str,
    query: str,
    filters: SearchFilters | dict | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SearchPage:
    """Full-text search over what `person` may see: ranked, paged, counted after trimming."""
    return search_documents(
        db, principal_set(db, person), query, SearchFilters.of(filters), page, per_page
    )


def explain(db: sqlite_utils.Database, person: str, drive_id: str, item_id: str) -> Explanation:
    """Whether `person` may see the item, and why, in sentences naming principals and sources."""
    found = find_person(db, person)
    principals = frozenset() if found is None else principals_of(db, found)
    return explain_item(db, person, found, principals, drive_id, item_id)
