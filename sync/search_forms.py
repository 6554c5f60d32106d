"""The SQL of sync.search's query forms: trimmed, ranked and paged in SQLite, one per size of
the search (sync/search.py says which runs when). Each is a template that
sync.visibility.trimmed_sql fills: {holders} (the CTE visible_holders), {holder_rowids} (the
CTE visible_holder_rowids) and {visible} (the per-item predicate) are its; {score} is the
row-local score (sync.search_rank: plaza_rank over the item's own name, path and site title),
{order} its tie-break and {filters} the SearchFilters conditions."""

from __future__ import annotations

# Trimmed matches are collected narrow (rowid, score and what breaks ties) so that ranking and
# counting stay cheap; equal scores go by name, then ids, a total order, so pages never
# overlap. The page's columns, highlights and snippets are read afterwards, for its rows only.
HOLDERS = """
    WITH {holders},
    hits(doc_rowid, score, name_key, drive_id, item_id) AS MATERIALIZED (
        SELECT i.rowid, {score}, {order}
        FROM items_fts AS f
        JOIN items AS i ON i.rowid = f.rowid
        JOIN visible_holders AS vh ON vh.drive_id = i.drive_id AND vh.item_id = i.acl_item_id
        WHERE items_fts MATCH :match AND i.deleted = 0 {filters}
    )
    SELECT doc_rowid, score, (SELECT count(*) FROM hits) FROM hits
    ORDER BY score DESC, name_key, drive_id, item_id
    LIMIT :limit OFFSET :offset"""

# The same with each match's access checked on its own (the per-item predicate): for a few
# matches, cheaper than finding every holder that admits the person.
FEW = """
    WITH hits(doc_rowid, score, name_key, drive_id, item_id) AS MATERIALIZED (
        SELECT i.rowid, {score}, {order}
        FROM items_fts AS f
        JOIN items AS i ON i.rowid = f.rowid
        WHERE items_fts MATCH :match AND {visible} {filters}
    )
    SELECT doc_rowid, score, (SELECT count(*) FROM hits) FROM hits
    ORDER BY score DESC, name_key, drive_id, item_id
    LIMIT :limit OFFSET :offset"""

# Past RANK_CAP matches: the newest-indexed matches the person may see, walked in descending
# rowid order until RANK_CAP + 1 of them are found, are ranked. Which items the window holds
# depends on visible items only (a hidden match is skipped, never counted), so neither its
# pages nor its total say anything about items the person may not see. Each match's holder
# comes from the narrow item_holders table; the items row is read only for the window's rows.
WINDOW = """
    WITH {holder_rowids},
    window_hits(doc_rowid, score, name_key, drive_id, item_id) AS MATERIALIZED (
        SELECT f.rowid, {score}, {order}
        FROM items_fts AS f
        CROSS JOIN item_holders AS ih ON ih.item_rowid = f.rowid
        CROSS JOIN items AS i ON i.rowid = f.rowid
        WHERE items_fts MATCH :match
          AND ih.holder_rowid IN visible_holder_rowids AND i.deleted = 0 {filters}
        ORDER BY f.rowid DESC
        LIMIT :cap
    )
    SELECT doc_rowid, score, (SELECT count(*) FROM window_hits) FROM window_hits
    ORDER BY score DESC, name_key, drive_id, item_id
    LIMIT :limit OFFSET :offset"""

# The same window for someone who sees at most sync.search.VISIBLE_SET_CAP items: their items'
# rowids are read first (from the holders index, without touching the rows), so each match
# costs a probe of that set instead of a row read (a guest's commonest word at 1M items: 370
# ms -> 70 ms).
# The unary + keeps SQLite from turning the IN into one FTS5 lookup per visible item.
WINDOW_SEEN = """
    WITH {holders},
    seen(doc_rowid) AS MATERIALIZED (
        SELECT i.rowid
        FROM visible_holders AS vh
        JOIN items AS i INDEXED BY items_by_acl
          ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
    ),
    window_hits(doc_rowid, score, name_key, drive_id, item_id) AS MATERIALIZED (
        SELECT i.rowid, {score}, {order}
        FROM items_fts AS f
        JOIN items AS i ON i.rowid = f.rowid
        WHERE items_fts MATCH :match AND +f.rowid IN seen AND i.deleted = 0 {filters}
        ORDER BY f.rowid DESC
        LIMIT :cap
    )
    SELECT doc_rowid, score, (SELECT count(*) FROM window_hits) FROM window_hits
    ORDER BY score DESC, name_key, drive_id, item_id
    LIMIT :limit OFFSET :offset"""

FORMS = {  # by name: sync.search.search_form picks one
    "few": FEW,
    "holders": HOLDERS,
    "window": WINDOW,
    "window_seen": WINDOW_SEEN,
}
# How many items someone sees, counted up to a cap (the window form's choice; both engines).
SEEN_COUNT = """
    WITH {holders}
    SELECT count(*) FROM (
        SELECT 1
        FROM visible_holders AS vh
        JOIN items AS i INDEXED BY items_by_acl
          ON i.drive_id = vh.drive_id AND i.acl_item_id = vh.item_id
        LIMIT :cap
    ) AS seen"""
