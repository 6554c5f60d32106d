"""Who a person is to the index: their principal set, which sync.visibility trims by.

A person's *principal set* holds every principal key (see sync/schema.py) that admits them:
"user:{oid}", "group:{id}" for each group they are in (transitively, from `memberships`),
"everyone" and "link:organization" unless they are a guest (SharePoint's "everyone except
external users" and organisation-wide links leave guests out), and "sitegroup:{site}:{n}" for
every site group that holds any of those. Disabled, deleted and unknown people get the empty set,
which sees nothing. The set reaches SQL as one JSON array (`principals_json`), joined with the
acl at query time: groups are never expanded into per-item rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from sync.principals import EVERYONE, ORGANIZATION_LINK


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
