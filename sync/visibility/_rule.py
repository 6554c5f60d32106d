"""The visibility rule as SQL: private to sync.visibility, which composes its queries from
these fragments (sync/visibility/__init__.py states the rule in words). In each fragment the
item is `i` and the principal set is bound as :principals (a JSON array)."""

from __future__ import annotations

ITEM_IS_VISIBLE = """
    i.deleted = 0
    AND EXISTS (
        SELECT 1 FROM items AS h
        JOIN acl AS a ON a.drive_id = h.drive_id AND a.item_id = h.item_id
        WHERE h.drive_id = i.drive_id AND h.item_id = i.acl_item_id
          AND h.perms_state = 'ok' AND h.deleted = 0
          AND a.principal IN (SELECT value FROM json_each(:principals))
    )"""

# An archived item (deleted in SharePoint, kept as a tombstone because social data refers to
# it) admits only those admitted both by its last known acl and by the current acl of its
# nearest ancestor still live in the index (sync re-reads that ancestor's permissions in the
# page that applies the deletion). A revocation on the item itself followed by its deletion
# leaves no trace in the change feed; the ancestor's acl bounds what the stale one can still
# grant. No live ancestor (the library gone): nobody. The walk goes through tombstones only.
NEAREST_LIVE_ANCESTOR_ADMITS = """
    EXISTS (
        WITH RECURSIVE lineage(item_id) AS (
            SELECT i.parent_id
            UNION
            SELECT p.parent_id FROM lineage
            JOIN items AS p ON p.drive_id = i.drive_id AND p.item_id = lineage.item_id
            WHERE p.deleted = 1
        )
        SELECT 1 FROM lineage
        JOIN items AS s ON s.drive_id = i.drive_id AND s.item_id = lineage.item_id
        JOIN items AS sh ON sh.drive_id = s.drive_id AND sh.item_id = s.acl_item_id
        JOIN acl AS sa ON sa.drive_id = sh.drive_id AND sa.item_id = sh.item_id
        WHERE s.deleted = 0 AND sh.deleted = 0 AND sh.perms_state = 'ok'
          AND sa.principal IN (SELECT value FROM json_each(:principals))
    )"""

# The same, also admitting archived items. An archived item's holder may be archived with it,
# but a live item never borrows a deleted holder.
ITEM_IS_VISIBLE_OR_ARCHIVED = f"""
    ((
    {ITEM_IS_VISIBLE.strip()}
    ) OR (
    i.deleted = 1
    AND EXISTS (
        SELECT 1 FROM items AS h
        JOIN acl AS a ON a.drive_id = h.drive_id AND a.item_id = h.item_id
        WHERE h.drive_id = i.drive_id AND h.item_id = i.acl_item_id AND h.perms_state = 'ok'
          AND a.principal IN (SELECT value FROM json_each(:principals))
    )
    AND {NEAREST_LIVE_ANCESTOR_ADMITS.strip()}
    ))"""

# Its set form, for a large batch: the holders whose acl admits the set (live or archived) are
# found once; each item `i` joined to them as `ad` then needs one lookup (a test compares the
# two forms).
HOLDERS_ADMITTING_OR_ARCHIVED = """
    admitting(drive_id, item_id, deleted) AS MATERIALIZED (
        SELECT DISTINCT a.drive_id, a.item_id, h.deleted
        FROM acl AS a
        JOIN items AS h ON h.drive_id = a.drive_id AND h.item_id = a.item_id
        WHERE a.principal IN (SELECT value FROM json_each(:principals))
          AND h.perms_state = 'ok'
    )"""
ADMITTED_OR_ARCHIVED = f"""(
    (ad.deleted = 0 AND i.deleted = 0)
    OR (i.deleted = 1 AND {NEAREST_LIVE_ANCESTOR_ADMITS.strip()}))"""

# The live set form, for queries over many items: the complete, live holders that admit the
# set, found once through acl_by_principal and checked in the small partial index of such
# holders (migration m008; without statistics the planner would take the primary key, four
# times slower at a million items).
HOLDERS_ADMITTING = """
        SELECT DISTINCT {columns}
        FROM acl AS a
        JOIN items AS h INDEXED BY items_ok_holders
          ON h.drive_id = a.drive_id AND h.item_id = a.item_id
        WHERE a.principal IN (SELECT value FROM json_each(:principals))
          AND h.perms_state = 'ok' AND h.deleted = 0"""
VISIBLE_HOLDERS = """
    visible_holders(drive_id, item_id) AS MATERIALIZED ({}
    )""".format(HOLDERS_ADMITTING.format(columns="a.drive_id, a.item_id"))
# The same holders by rowid, for joins through item_holders (schema m009).
VISIBLE_HOLDER_ROWIDS = """
    visible_holder_rowids(rowid) AS MATERIALIZED ({}
    )""".format(HOLDERS_ADMITTING.format(columns="h.rowid"))
