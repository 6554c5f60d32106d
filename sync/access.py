"""Access queries over the index: the only place that decides who may see which document.

Every function takes a person as an Entra object id or a user principal name and trims by their
principal set (sync/trimming.py): the overlay's lists, search, feeds and counts go through here
and nowhere else. An unknown, disabled or deleted person sees nothing. High-risk paths (opening a
document page, its chat) still confirm live with the user's own token (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlite_utils

from sync.explain import Explanation, explain_item
from sync.search import SearchFilters, SearchHit, SearchPage, search_documents
from sync.trimming import (
    ITEM_IS_VISIBLE,
    ITEM_IS_VISIBLE_OR_ARCHIVED,
    VISIBLE_HOLDERS,
    find_person,
    principal_set,
    principals_json,
    principals_of,
)

__all__ = [
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

# The hot queries, as constants so that tests can check their plans (ARCHITECTURE.md: Storage).
CAN_VIEW_SQL = f"""
    SELECT EXISTS (
        SELECT 1 FROM items AS i
        WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE})"""

CAN_VIEW_OR_ARCHIVED_SQL = f"""
    SELECT EXISTS (
        SELECT 1 FROM items AS i
        WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE_OR_ARCHIVED})"""

CHILDREN_SQL = f"""
    SELECT i.drive_id, i.item_id, i.name, i.path, i.web_url, i.is_folder, i.file_type, i.size,
           i.modified_at, i.modified_by_name
    FROM items AS i
    WHERE i.drive_id = :drive_id AND i.parent_id = :parent_id AND {ITEM_IS_VISIBLE}
    ORDER BY i.is_folder DESC, i.name COLLATE NOCASE, i.item_id
    LIMIT :limit OFFSET :offset"""

# Starts from the acl holders that admit the person (acl_by_principal) and reaches their items
# through items_by_acl, so the cost follows what they may see, not the size of the index.
VISIBLE_KEYS_SQL = f"""
    WITH {VISIBLE_HOLDERS}
    SELECT i.drive_id, i.item_id
    FROM visible_holders AS vh
    JOIN items AS i ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
    WHERE i.deleted = 0
    ORDER BY i.drive_id, i.item_id"""


@dataclass(frozen=True)
class ListedItem:
    """One row of a trimmed folder listing."""

    drive_id: str
    item_id: str
    name: str | None
    path: str | None
    web_url: str | None
    is_folder: bool
    file_type: str | None
    size: int | None
    modified_at: str | None
    modified_by_name: str | None


def can_view(
    db: sqlite_utils.Database,
    person: str,
    drive_id: str,
    item_id: str,
    *,
    include_archived: bool = False,
) -> bool:
    """Whether the synced permissions let `person` see the item (one indexed query).

    `include_archived` also admits an item deleted in SharePoint (the overlay keeps showing its
    discussion, read-only), to whoever both its last known acl and the current acl of its
    nearest live ancestor admit (sync/trimming.py)."""
    principals = principal_set(db, person)
    if not principals:
        return False
    row = db.execute(
        CAN_VIEW_OR_ARCHIVED_SQL if include_archived else CAN_VIEW_SQL,
        {"drive_id": drive_id, "item_id": item_id, "principals": principals_json(principals)},
    ).fetchone()
    return bool(row[0])


def list_children(
    db: sqlite_utils.Database,
    person: str,
    drive_id: str,
    parent_id: str,
    limit: int = 100,
    offset: int = 0,
    *,
    principals: frozenset[str] | None = None,
) -> list[ListedItem]:
    """The children of a folder that `person` may see: folders first, then by name; paged.

    `principals` is the person's principal set when the caller holds it already (the overlay
    reads it once per request); without it, it is read from the index."""
    if principals is None:
        principals = principal_set(db, person)
    if not principals or limit <= 0:
        return []
    rows = db.execute(
        CHILDREN_SQL,
        {
            "drive_id": drive_id,
            "parent_id": parent_id,
            "principals": principals_json(principals),
            "limit": limit,
            "offset": max(offset, 0),
        },
    )
    return [_listed(row) for row in rows]


def _listed(row: tuple) -> ListedItem:
    drive_id, item_id, name, path, web_url, is_folder, *rest = row
    return ListedItem(drive_id, item_id, name, path, web_url, bool(is_folder), *rest)


def visible_item_keys(db: sqlite_utils.Database, person: str) -> Iterator[tuple[str, str]]:
    """(drive_id, item_id) of every live item `person` may see, sorted."""
    principals = principal_set(db, person)
    if not principals:
        return
    rows = db.execute(VISIBLE_KEYS_SQL, {"principals": principals_json(principals)})
    yield from rows


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
