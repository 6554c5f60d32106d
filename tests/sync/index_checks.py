"""Invariants of the index that several tests check after changing it."""

from __future__ import annotations

# Rows of item_holders that differ from what items says (the triggers' job, schema m009):
# a missing or extra row, or a holder that is not the live item's acl holder.
STALE_ITEM_HOLDERS = """
    SELECT i.drive_id, i.item_id, ih.holder_rowid, CASE WHEN i.deleted = 0 THEN h.rowid END
    FROM items AS i
    LEFT JOIN item_holders AS ih ON ih.item_rowid = i.rowid
    LEFT JOIN items AS h ON h.drive_id = i.drive_id AND h.item_id = i.acl_item_id
    WHERE ih.item_rowid IS NULL
       OR ih.holder_rowid IS DISTINCT FROM (CASE WHEN i.deleted = 0 THEN h.rowid END)
    UNION ALL
    SELECT 'no item', CAST(ih.item_rowid AS TEXT), ih.holder_rowid, NULL
    FROM item_holders AS ih
    WHERE NOT EXISTS (SELECT 1 FROM items WHERE rowid = ih.item_rowid)"""


def stale_item_holders(db) -> list[tuple]:
    return db.execute(STALE_ITEM_HOLDERS).fetchall()
