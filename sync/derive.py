"""Derived columns of items: path, web URL and effective ACL holder, recomputed by subtree.

Graph's delta does not re-send the descendants of a renamed or moved folder ("renaming a folder
doesn't result in any descendants of the folder being returned from delta"), so when an item
appears with a new name, parent or permission uniqueness (or for the first time), every live
item below it is recomputed here: the subtree is found with a recursive CTE, the values are
computed top-down from each parent, and only rows that changed are written.

Rules: the library root has path "" and is its own ACL holder. Any other item's path is its
parent's path + "/" + name; its `acl_item_id` is itself when it has unique permissions, else
its parent's. An item whose parent is not in the index (yet) gets NULL path and ACL: visible to
nobody until the parent arrives. Web URLs come from Graph for items on the page; a descendant's
URL is rewritten only when it lies under its parent's old URL (path-shaped URLs), so other
forms (SharePoint's Doc.aspx links) are left as Graph gave them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

SUBTREES = """
WITH RECURSIVE affected(item_id) AS (
    SELECT value FROM json_each(:roots)
    UNION
    SELECT c.item_id FROM affected a
    JOIN items c ON c.drive_id = :drive AND c.parent_id = a.item_id AND c.deleted = 0
)
SELECT i.item_id, i.parent_id, i.name, i.web_url, i.path, i.acl_item_id, i.has_unique_perms,
       i.is_root, i.is_folder, i.file_type
FROM items i JOIN affected a ON i.drive_id = :drive AND i.item_id = a.item_id
WHERE i.deleted = 0
"""
LIVE_ROWS = """
SELECT item_id, path, web_url, acl_item_id FROM items
WHERE drive_id = :drive AND deleted = 0 AND item_id IN (SELECT value FROM json_each(:ids))
"""
SET_DERIVED = (
    "UPDATE items SET path = ?, web_url = ?, acl_item_id = ? WHERE drive_id = ? AND item_id = ?"
)


@dataclass
class Node:
    item_id: str
    parent_id: str | None
    name: str | None
    web_url: str | None
    path: str | None
    acl_item_id: str | None
    unique: bool
    is_root: bool
    is_folder: bool
    file_type: str | None
    old_web_url: str | None = None  # before this page (page items) or before this recompute


@dataclass(frozen=True)
class Derived:
    """An item's derived values after recomputing (for the file filters)."""

    item_id: str
    path: str | None
    is_folder: bool
    file_type: str | None


def rederive(
    conn: sqlite3.Connection,
    drive_id: str,
    roots: list[str],
    old_web_urls: Mapping[str, str | None],
) -> list[Derived]:
    """Recompute path, web URL and ACL holder of `roots` and every live item below them."""
    if not roots:
        return []
    nodes = {
        row[0]: Node(*row[:6], bool(row[6]), bool(row[7]), bool(row[8]), row[9])
        for row in conn.execute(SUBTREES, {"drive": drive_id, "roots": json.dumps(roots)})
    }
    for node in nodes.values():
        node.old_web_url = old_web_urls.get(node.item_id, node.web_url)
    outside = _outside_parents(conn, drive_id, nodes)
    computed: dict[str, tuple[str | None, str | None, str | None]] = {}
    for item_id in nodes:
        _resolve(item_id, nodes, outside, computed, old_web_urls, set())
    changes = []
    for item_id, (path, web_url, acl) in computed.items():
        node = nodes[item_id]
        if (path, web_url, acl) != (node.path, node.web_url, node.acl_item_id):
            changes.append((path, web_url, acl, drive_id, item_id))
    conn.executemany(SET_DERIVED, changes)
    return [
        Derived(item_id, computed[item_id][0], node.is_folder, node.file_type)
        for item_id, node in nodes.items()
    ]


def _outside_parents(
    conn: sqlite3.Connection, drive_id: str, nodes: Mapping[str, Node]
) -> dict[str, tuple[str | None, str | None, str | None]]:
    """(path, web_url, acl) of the parents that are not recomputed: their values are final."""
    wanted = {n.parent_id for n in nodes.values() if n.parent_id and n.parent_id not in nodes}
    if not wanted:
        return {}
    rows = conn.execute(LIVE_ROWS, {"drive": drive_id, "ids": json.dumps(sorted(wanted))})
    return {item_id: (path, web_url, acl) for item_id, path, web_url, acl in rows}


def _resolve(
    item_id: str,
    nodes: Mapping[str, Node],
    outside: Mapping[str, tuple[str | None, str | None, str | None]],
    computed: dict[str, tuple[str | None, str | None, str | None]],
    on_page: Mapping[str, str | None],
    visiting: set[str],
) -> tuple[str | None, str | None, str | None]:
    if item_id in computed:
        return computed[item_id]
    node = nodes[item_id]
    if node.is_root:
        computed[item_id] = ("", node.web_url, item_id)
        return computed[item_id]
    visiting.add(item_id)
    parent_id = node.parent_id or ""
    parent_old_web = None
    if parent_id in nodes and parent_id not in visiting:
        parent = _resolve(parent_id, nodes, outside, computed, on_page, visiting)
        parent_old_web = nodes[parent_id].old_web_url
    elif parent_id in outside:
        parent = outside[parent_id]
    else:  # parent unknown, deleted, or a cycle met while a move is half-seen
        parent = (None, None, None)
    visiting.discard(item_id)
    parent_path, parent_web, parent_acl = parent
    path = None if parent_path is None else f"{parent_path}/{node.name}"
    acl = None if path is None else (item_id if node.unique else parent_acl)
    web_url = node.web_url
    if item_id not in on_page:
        web_url = _moved_url(node.web_url, parent_old_web, parent_web)
    computed[item_id] = (path, web_url, acl)
    return computed[item_id]


def _moved_url(web_url: str | None, parent_old: str | None, parent_new: str | None) -> str | None:
    """The URL under the parent's new URL, if it was under the parent's old one."""
    if not web_url or not parent_old or not parent_new or parent_old == parent_new:
        return web_url
    prefix = parent_old.rstrip("/") + "/"
    if web_url.startswith(prefix):
        return parent_new.rstrip("/") + "/" + web_url[len(prefix) :]
    return web_url
