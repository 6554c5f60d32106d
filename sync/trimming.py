"""Security trimming: who a person is to the index, and the one SQL predicate that trims items.

A person's *principal set* holds every principal key (see sync/schema.py) that admits them:
"user:{oid}", "group:{id}" for each group they are in (transitively, from `memberships`),
"everyone" and "link:organization" unless they are a guest (SharePoint's "everyone except
external users" and organisation-wide links leave guests out), and "sitegroup:{site}:{n}" for
every site group that holds any of those. Disabled, deleted and unknown people get the empty set.

An item is visible to a principal set when it is live, its acl holder (`acl_item_id`) is known,
live and has complete permissions (`perms_state = 'ok'`), and one of the holder's acl rows names
a principal in the set. Groups are never expanded into per-item rows: the set is passed to SQL
as one JSON array (`json_each(:principals)`) and joined at query time. Everything else (unknown
or failed permissions, an empty acl) is visible to nobody: fail closed. An archived item (a
tombstone, shown on request) is visible to those admitted both by its last known acl and by the
current acl of its nearest live ancestor (NEAREST_LIVE_ANCESTOR_ADMITS).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from sync.principals import EVERYONE, ORGANIZATION_LINK

# The per-item form of the predicate, for one item or a handful (a listing). `i` is the item.
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
# it) fails closed: it admits only those admitted both by its last known acl and by the
# current acl of its nearest ancestor still live in the index (the parent folder or the
# library root; sync re-reads that ancestor's permissions in the page that applies the
# deletion). A revocation on the item itself followed by its deletion leaves no trace in the
# change feed; the ancestor's acl bounds what the stale one can still grant. No live ancestor
# (the library gone): nobody. The walk up goes through tombstones only, by primary key.
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

# ITEM_IS_VISIBLE, also admitting archived items by the rule above. An archived item's holder
# may be archived with it, but a live item never borrows a deleted holder.
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

# ITEM_IS_VISIBLE_OR_ARCHIVED in set form, for a large batch of items: the holders whose
# acl admits the set (live or archived) are found once; each item then needs one lookup. The
# item `i` is visible when its holder is among them and either both are live or the item is
# archived and its nearest live ancestor admits the set too: exactly the per-item form's rule
# (a test compares them).
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

# The set form of the same predicate, for queries over many items (search, every visible key):
# the acl holders that admit the set, found once through acl_by_principal, then one lookup per
# item instead of one per item and principal. Holders are checked in the small partial index
# of complete, live holders (migration m008; the planner, without statistics, would take the
# primary key, four times slower at a million items).
_HOLDERS_ADMITTING = """
        SELECT DISTINCT {columns}
        FROM acl AS a
        JOIN items AS h INDEXED BY items_ok_holders
          ON h.drive_id = a.drive_id AND h.item_id = a.item_id
        WHERE a.principal IN (SELECT value FROM json_each(:principals))
          AND h.perms_state = 'ok' AND h.deleted = 0"""
VISIBLE_HOLDERS = """
    visible_holders(drive_id, item_id) AS MATERIALIZED ({}
    )""".format(_HOLDERS_ADMITTING.format(columns="a.drive_id, a.item_id"))
# The same holders by rowid, for joins through item_holders (schema m009).
VISIBLE_HOLDER_ROWIDS = """
    visible_holder_rowids(rowid) AS MATERIALIZED ({}
    )""".format(_HOLDERS_ADMITTING.format(columns="h.rowid"))


@dataclass(frozen=True)
class Person:
    """The index's view of a person: enough to decide what they may see and to name them."""

    id: str
    upn: str | None
    display_name: str | None
    enabled: bool
    guest: bool
    deleted: bool

    @property
    def sees_anything(self) -> bool:
        return self.enabled and not self.deleted

    @property
    def label(self) -> str:
        """The display name and UPN ("Ann Lee (ann@firm.com)"), or whichever is known."""
        if self.display_name and self.upn:
            return f"{self.display_name} ({self.upn})"
        return self.display_name or self.upn or self.id


def find_person(db: sqlite_utils.Database, person: str) -> Person | None:
    """The person with this object id or user principal name (any case), or None."""
    columns = "id, upn, display_name, enabled, guest, deleted"
    row = db.execute(f"SELECT {columns} FROM people WHERE id = ?", [person]).fetchone()
    if row is None:
        row = db.execute(
            f"SELECT {columns} FROM people WHERE upn = ? COLLATE NOCASE ORDER BY deleted, id",
            [person],
        ).fetchone()
    if row is None:
        return None
    person_id, upn, display_name, enabled, guest, deleted = row
    return Person(person_id, upn, display_name, bool(enabled), bool(guest), bool(deleted))


def group_ids_of(db: sqlite_utils.Database, person_id: str) -> list[str]:
    """Every live group the person is in, directly or through nested groups."""
    rows = db.execute(
        """SELECT m.group_id FROM memberships AS m
           LEFT JOIN groups AS g ON g.id = m.group_id
           WHERE m.user_id = ? AND coalesce(g.deleted, 0) = 0
           ORDER BY m.group_id""",
        [person_id],
    )
    return [group_id for (group_id,) in rows]


def site_groups_holding(db: sqlite_utils.Database, principals: Iterable[str]) -> set[str]:
    """Keys of the site groups that hold any of `principals` as a member."""
    rows = db.execute(
        """SELECT DISTINCT site_id, group_number FROM site_group_members
           WHERE principal IN (SELECT value FROM json_each(?))""",
        [principals_json(principals)],
    )
    return {f"sitegroup:{site_id}:{number}" for site_id, number in rows}


def principals_of(db: sqlite_utils.Database, person: Person) -> frozenset[str]:
    """The principal set of a known person (empty when they may see nothing)."""
    if not person.sees_anything:
        return frozenset()
    keys = {f"user:{person.id}"}
    keys.update(f"group:{group_id}" for group_id in group_ids_of(db, person.id))
    if not person.guest:
        keys.update((EVERYONE, ORGANIZATION_LINK))
    keys |= site_groups_holding(db, keys)
    return frozenset(keys)


def principal_set(db: sqlite_utils.Database, person: str) -> frozenset[str]:
    """Every principal key that admits `person` (oid or UPN); empty if unknown or disabled."""
    found = find_person(db, person)
    return frozenset() if found is None else principals_of(db, found)


def principals_json(principals: Iterable[str]) -> str:
    """The principal set as the JSON array that `json_each(:principals)` reads."""
    return json.dumps(sorted(principals))
