"""The index's read API for documents: the one module that decides who may see which item.

Every function takes `(db, principals)`, a person's principal set (sync/trimming.py), and
returns only what those principals may open: one document, a folder's children, the sites and
libraries holding something visible, the visible keys among a batch, can_view. Lists, search,
feeds and counts of the overlay and the admin commands all read documents through here.

The rule: an item is visible when it is live, its acl holder (`acl_item_id`) is known, live and
has complete permissions (`perms_state = 'ok'`), and one of the holder's acl rows names a
principal in the set. Groups are never expanded into per-item rows: the set is passed to SQL as
one JSON array and joined at query time. Anything else (unknown or failed permissions, an empty
acl, an empty set) is visible to nobody: fail closed. An archived item (a tombstone, shown on
request) is visible to those admitted both by its last known acl and by the current acl of its
nearest live ancestor. The SQL of that rule is private to this package (`_rule.py`, imported by
nothing else); sync/search.py's ranked forms receive it filled in through `trimmed_sql`, whose
contract is stated there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlite_utils

from sync.trimming import principals_json
from sync.visibility._rule import (
    ADMITTED_OR_ARCHIVED,
    HOLDERS_ADMITTING_OR_ARCHIVED,
    ITEM_IS_VISIBLE,
    ITEM_IS_VISIBLE_OR_ARCHIVED,
    VISIBLE_HOLDER_ROWIDS,
    VISIBLE_HOLDERS,
)

Key = tuple[str, str]


def trimmed_sql(template: str, **fields: str) -> str:
    """`template` with the rule filled in, for sync/search.py's ranked forms. The contract: the
    template names the item `i`; `{visible}` is the per-item predicate (live items),
    `{holders}` the CTE `visible_holders(drive_id, item_id)` and `{holder_rowids}` the CTE
    `visible_holder_rowids(rowid)` of holders that admit the set; the query binds
    `principals_param(principals)`. Other `fields` are filled in as given."""
    return template.format(
        visible=ITEM_IS_VISIBLE,
        holders=VISIBLE_HOLDERS,
        holder_rowids=VISIBLE_HOLDER_ROWIDS,
        **fields,
    )


def principals_param(principals: Iterable[str]) -> dict[str, str]:
    """The named parameter that every trimmed query binds."""
    return {"principals": principals_json(principals)}


# -- the read model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A document or folder as the index knows it: the one read model of every surface.

    Reads fill what their view needs: a folder listing leaves where the item lives (site,
    library, known from the folder) and its SharePoint list ids unset. `archived`: deleted in
    SharePoint, or its library removed; its discussion stays, read-only."""

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
    site_id: str | None = None
    site_title: str | None = None
    drive_name: str | None = None
    created_by_name: str | None = None
    archived: bool = False
    list_id: str | None = None
    list_item_id: int | None = None

    @property
    def key(self) -> Key:
        return (self.drive_id, self.item_id)


@dataclass
class Library:
    id: str
    name: str | None
    web_url: str | None


@dataclass
class Site:
    """A site with the libraries in it that hold something visible."""

    id: str
    title: str | None
    web_url: str | None
    description: str | None
    libraries: list[Library]


# -- the queries (constants so that tests can check their plans) -----------------------------

_COLUMNS = """i.drive_id, i.item_id, i.name, i.path, i.web_url, i.is_folder, i.file_type,
           i.size, i.modified_at, i.modified_by_name"""
_DOCUMENT_COLUMNS = f"""{_COLUMNS}, d.site_id, s.title, d.name, i.created_by_name,
           (i.deleted <> 0 OR d.removed <> 0), i.list_id, i.list_item_id"""
# Where many documents are listed, their site is the item's own (denormalised) one.
_LISTED_COLUMNS = f"""{_COLUMNS}, i.site_id, i.site_title, d.name, i.created_by_name,
           (i.deleted <> 0 OR coalesce(d.removed, 0) <> 0), i.list_id, i.list_item_id"""

CAN_VIEW_SQL = f"""
    SELECT EXISTS (
        SELECT 1 FROM items AS i
        WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE})"""

CAN_VIEW_OR_ARCHIVED_SQL = f"""
    SELECT EXISTS (
        SELECT 1 FROM items AS i
        WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE_OR_ARCHIVED})"""

DOCUMENT_SQL = f"""
    SELECT {_DOCUMENT_COLUMNS}
    FROM items AS i
    JOIN drives AS d ON d.id = i.drive_id
    LEFT JOIN sites AS s ON s.id = d.site_id
    WHERE i.drive_id = :drive_id AND i.item_id = :item_id AND {ITEM_IS_VISIBLE_OR_ARCHIVED}"""

CHILDREN_SQL = f"""
    SELECT {_COLUMNS}
    FROM items AS i
    WHERE i.drive_id = :drive_id AND i.parent_id = :parent_id AND {ITEM_IS_VISIBLE}
    ORDER BY i.is_folder DESC, i.name COLLATE NOCASE, i.item_id
    LIMIT :limit OFFSET :offset"""

# Starts from the acl holders that admit the set (acl_by_principal) and reaches their items
# through items_by_acl, so the cost follows what the person may see, not the size of the index.
VISIBLE_KEYS_SQL = f"""
    WITH {VISIBLE_HOLDERS}
    SELECT i.drive_id, i.item_id
    FROM visible_holders AS vh
    JOIN items AS i ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
    WHERE i.deleted = 0
    ORDER BY i.drive_id, i.item_id"""

# A batch of keys (a JSON array of [drive_id, item_id] pairs), archived items included: each
# key checked on its own, or, from SET_FORM_FROM keys on, against the holders that admit the
# set, found once (50,000 keys: 1.75 s -> 0.31 s for a member; 500 keys: 31 vs 47 ms).
SET_FORM_FROM = 1_000
_KEYED_ITEMS = """
    FROM json_each(:keys) AS k
    JOIN items AS i ON i.drive_id = k.value ->> 0 AND i.item_id = k.value ->> 1"""
_AMONG = f"SELECT {{columns}} {_KEYED_ITEMS} {{joins}} WHERE {ITEM_IS_VISIBLE_OR_ARCHIVED}"
_AMONG_BY_HOLDERS = f"""
    WITH {HOLDERS_ADMITTING_OR_ARCHIVED}
    SELECT {{columns}} {_KEYED_ITEMS}
    JOIN admitting AS ad ON ad.drive_id = i.drive_id AND ad.item_id = i.acl_item_id {{joins}}
    WHERE {ADMITTED_OR_ARCHIVED}"""
_KEYS = {"columns": "i.drive_id, i.item_id", "joins": ""}
_DOCUMENTS = {
    "columns": _LISTED_COLUMNS,
    "joins": "LEFT JOIN drives AS d ON d.id = i.drive_id",
}
VISIBLE_AMONG_SQL = _AMONG.format(**_KEYS)
VISIBLE_AMONG_BY_HOLDERS_SQL = _AMONG_BY_HOLDERS.format(**_KEYS)

# A library counts when one of its acl holders (an item with unique permissions or the
# library root) admits the set: the live set form of the rule.
VISIBLE_LIBRARIES_SQL = f"""
    WITH {VISIBLE_HOLDERS}
    SELECT s.id, s.title, s.web_url, s.description, d.id, d.name, d.web_url
    FROM drives AS d JOIN sites AS s ON s.id = d.site_id
    WHERE d.removed = 0 AND s.removed = 0
      AND d.id IN (SELECT drive_id FROM visible_holders) {{site_filter}}
    ORDER BY s.title COLLATE NOCASE, s.id, d.name COLLATE NOCASE, d.id"""

# The folders above an item, nearest last. Their names are part of the item's path.
UP_SQL = """
    WITH RECURSIVE up(item_id, parent_id, name, depth) AS (
        SELECT item_id, parent_id, name, 0 FROM items WHERE drive_id = :drive_id
            AND item_id = :item_id
        UNION ALL
        SELECT i.item_id, i.parent_id, i.name, up.depth + 1 FROM items AS i
        JOIN up ON i.drive_id = :drive_id AND i.item_id = up.parent_id
        WHERE up.depth < 64
    )"""
ANCESTORS_SQL = (
    UP_SQL
    + """
    SELECT item_id, name FROM up WHERE depth > 0 ORDER BY depth DESC"""
)
BELOW_ROOT_SQL = (
    UP_SQL
    + """
    SELECT item_id, name FROM up WHERE depth > 0 AND item_id NOT IN (
        SELECT item_id FROM items WHERE drive_id = :drive_id AND is_root = 1 AND deleted = 0)
    ORDER BY depth DESC"""
)


# -- the API -----------------------------------------------------------------------------------


def can_view(
    db: sqlite_utils.Database,
    principals: frozenset[str],
    drive_id: str,
    item_id: str,
    *,
    include_archived: bool = False,
) -> bool:
    """Whether the set may see the item (one indexed query); `include_archived` also admits
    an archived item under the rule above."""
    if not principals:
        return False
    sql = CAN_VIEW_OR_ARCHIVED_SQL if include_archived else CAN_VIEW_SQL
    params = {"drive_id": drive_id, "item_id": item_id} | principals_param(principals)
    return bool(db.execute(sql, params).fetchone()[0])


def document(
    db: sqlite_utils.Database, principals: frozenset[str], drive_id: str, item_id: str
) -> Document | None:
    """The document (archived ones included) with where it lives, or None if not visible."""
    if not principals:
        return None
    params = {"drive_id": drive_id, "item_id": item_id} | principals_param(principals)
    row = db.execute(DOCUMENT_SQL, params).fetchone()
    return None if row is None else _document(row)


def documents(
    db: sqlite_utils.Database, principals: frozenset[str], keys: Iterable[Key]
) -> dict[Key, Document]:
    """The visible documents (archived ones included) among `keys`, by key, in one query."""
    wanted = _sorted_keys(keys)
    if not wanted:
        return {}
    return {doc.key: doc for doc in map(_document, _among(db, principals, wanted, _DOCUMENTS))}


def visible_among(
    db: sqlite_utils.Database, principals: frozenset[str], keys: Iterable[Key]
) -> set[Key]:
    """The keys among `keys` that the set may see (archived ones included), in one query. The
    index is asked even for no keys (a list for an id a person names costs the same whether
    it names hidden documents or none)."""
    found = _among(db, principals, _sorted_keys(keys), _KEYS)
    return {(drive_id, item_id) for drive_id, item_id in found}


def _sorted_keys(keys: Iterable[Key]) -> list[Key]:
    return sorted({(str(drive_id), str(item_id)) for drive_id, item_id in keys})


def _among(
    db: sqlite_utils.Database, principals: frozenset[str], wanted: list[Key], select: dict
) -> list[tuple]:
    if not principals:
        return []
    form = _AMONG if len(wanted) < SET_FORM_FROM else _AMONG_BY_HOLDERS
    params = {"keys": json.dumps(wanted)} | principals_param(principals)
    return db.execute(form.format(**select), params).fetchall()


def children(
    db: sqlite_utils.Database,
    principals: frozenset[str],
    drive_id: str,
    parent_id: str,
    limit: int = 100,
    offset: int = 0,
) -> list[Document]:
    """The visible children of a folder: folders first, then by name; paged."""
    if not principals or limit <= 0:
        return []
    params = {"drive_id": drive_id, "parent_id": parent_id, "limit": limit}
    params |= {"offset": max(offset, 0)} | principals_param(principals)
    return [_document(row) for row in db.execute(CHILDREN_SQL, params)]


def visible_item_keys(db: sqlite_utils.Database, principals: frozenset[str]) -> Iterator[Key]:
    """(drive_id, item_id) of every live item the set may see, sorted."""
    if principals:
        yield from db.execute(VISIBLE_KEYS_SQL, principals_param(principals))


def visible_sites(
    db: sqlite_utils.Database, principals: frozenset[str], site_id: str | None = None
) -> list[Site]:
    """Sites (all, or the one asked for) holding something the set may see, each with those
    libraries only; by title."""
    if not principals:
        return []
    sql = VISIBLE_LIBRARIES_SQL.format(site_filter="AND s.id = :site_id" if site_id else "")
    sites: dict[str, Site] = {}
    rows = db.execute(sql, {"site_id": site_id} | principals_param(principals))
    for sid, title, web_url, description, library_id, name, library_url in rows:
        site = sites.setdefault(sid, Site(sid, title, web_url, description, []))
        site.libraries.append(Library(library_id, name, library_url))
    return list(sites.values())


def visible_library(
    db: sqlite_utils.Database, principals: frozenset[str], drive_id: str
) -> tuple[Site, Library] | None:
    """The library and its site if it holds something the set may see, else None."""
    found = db.execute("SELECT site_id FROM drives WHERE id = ? AND removed = 0", [drive_id])
    row = found.fetchone()
    for site in visible_sites(db, principals, row[0]) if row else []:
        for library in site.libraries:
            if library.id == drive_id:
                return site, library
    return None


# -- ids and names that need no trimming -------------------------------------------------------


def root_item_id(db: sqlite_utils.Database, drive_id: str) -> str | None:
    """The item id of a live library root (an id, which says nothing of what lies below)."""
    row = db.execute(
        "SELECT item_id FROM items WHERE drive_id = ? AND is_root = 1 AND deleted = 0",
        [drive_id],
    ).fetchone()
    return row[0] if row else None


def site_of_library(db: sqlite_utils.Database, drive_id: str) -> str | None:
    """The id of the site a library is in (an id: the feed's fan-out to a site's followers,
    who are trimmed again when they read)."""
    row = db.execute("SELECT site_id FROM drives WHERE id = ?", [drive_id]).fetchone()
    return row[0] if row else None


def ancestors(db: sqlite_utils.Database, drive_id: str, item_id: str) -> list[tuple[str, str]]:
    """(item_id, name) of the folders above an item, the root first: only for an item the
    caller may see, whose path already names them."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return db.execute(ANCESTORS_SQL, params).fetchall()


def ancestors_below_root(
    db: sqlite_utils.Database, drive_id: str, item_id: str
) -> list[tuple[str, str]]:
    """`ancestors` without the library's live root (`root_item_id`), in one statement: the
    folders a page's breadcrumbs name between the library and the item."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return db.execute(BELOW_ROOT_SQL, params).fetchall()


def sharepoint_ids(
    db: sqlite_utils.Database, drive_id: str, item_id: str
) -> tuple[str | None, str | None]:
    """The item's listItemUniqueId and its site's URL (for Office links of a visible item)."""
    row = db.execute(
        """SELECT i.list_item_unique_id, s.web_url FROM items AS i
           LEFT JOIN sites AS s ON s.id = i.site_id
           WHERE i.drive_id = ? AND i.item_id = ?""",
        [drive_id, item_id],
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def item_known(db: sqlite_utils.Database, drive_id: str, item_id: str) -> bool:
    """Whether the index holds the item at all, visible or not: for audit lines and admin
    commands only, never for an answer to a person."""
    query = "SELECT 1 FROM items WHERE drive_id = ? AND item_id = ?"
    return db.execute(query, [drive_id, item_id]).fetchone() is not None


def _document(row: tuple) -> Document:
    """A Document from the columns above, in field order (a listing's ten, or all)."""
    values = list(row)
    values[5] = bool(values[5])
    if len(values) > 10:
        values[14] = bool(values[14])
    return Document(*values)
