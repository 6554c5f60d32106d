"""Who a person is to the index: their principal set, which sync.visibility trims by.

A person's *principal set* holds every principal key (see sync/schema.py) that admits them:
"user:{oid}", "group:{id}" for each group they are in (transitively, from `memberships`),
"everyone" and "link:organization" unless they are a guest (SharePoint's "everyone except
external users" and organisation-wide links leave guests out), and "sitegroup:{site}:{n}" for
every site group that holds any of those. Disabled, deleted and unknown people get the empty set,
which sees nothing. The set is read in one statement on both engines (PRINCIPALS). It reaches
SQL as one JSON array (`principals_json`), joined with the acl at query time: groups are never
expanded into per-item rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

from sync.principals import EVERYONE, ORGANIZATION_LINK

# Who may see anything at all (Person.sees_anything), on `person AS p`.
_SEES = "p.enabled <> 0 AND p.deleted = 0"


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


# The person `:person` names: by object id, else by UPN in any case (the live row before a
# deleted one, then the lowest id), at most one row.
PERSON = """
    SELECT id, upn, display_name, enabled, guest, deleted FROM (
        SELECT 0 AS by_upn, id, upn, display_name, enabled, guest, deleted
        FROM people WHERE id = :person
        UNION ALL
        SELECT 1, id, upn, display_name, enabled, guest, deleted
        FROM people WHERE upn = :person COLLATE NOCASE
    ) AS named
    ORDER BY by_upn, deleted, id
    LIMIT 1"""

# The person's fields with each principal key, one row per key (one row with a NULL key when
# they may see nothing, no row when nobody is named): a single statement, since on PostgreSQL
# each round trip costs more than these reads (a search of a few items paid four of them
# before its own, issue 17). Memberships are already transitive (sync/people.py); a deleted
# group admits nobody, a group the directory has not listed yet still does. Site groups are
# matched on the person's own keys only.
PRINCIPALS = f"""
    WITH person AS MATERIALIZED ({PERSON}),
    own(principal) AS MATERIALIZED (
        SELECT 'user:' || p.id FROM person AS p WHERE {_SEES}
        UNION ALL
        SELECT 'group:' || m.group_id
        FROM memberships AS m
        JOIN person AS p ON p.id = m.user_id
        LEFT JOIN groups AS g ON g.id = m.group_id
        WHERE {_SEES} AND coalesce(g.deleted, 0) = 0
        UNION ALL
        SELECT everyone.principal
        FROM person AS p
        CROSS JOIN (SELECT '{EVERYONE}' AS principal UNION ALL SELECT '{ORGANIZATION_LINK}')
            AS everyone
        WHERE {_SEES} AND p.guest = 0
    ),
    keys(principal) AS (
        SELECT principal FROM own
        UNION
        SELECT 'sitegroup:' || s.site_id || ':' || CAST(s.group_number AS TEXT)
        FROM site_group_members AS s
        WHERE s.principal IN (SELECT principal FROM own)
    )
    SELECT p.id, p.upn, p.display_name, p.enabled, p.guest, p.deleted, k.principal
    FROM person AS p LEFT JOIN keys AS k ON 1 = 1"""


def find_person(db: sqlite_utils.Database, person: str) -> Person | None:
    """The person with this object id or user principal name (any case), or None."""
    row = db.execute(PERSON, {"person": person}).fetchone()
    return None if row is None else _person(row)


def person_and_principals(
    db: sqlite_utils.Database, person: str
) -> tuple[Person | None, frozenset[str]]:
    """The person (oid or UPN; None if unknown) and their principal set, read in one
    statement; the set is empty for anyone who may see nothing."""
    rows = db.execute(PRINCIPALS, {"person": person}).fetchall()
    if not rows:
        return None, frozenset()
    found = _person(rows[0][:6])
    keys = frozenset(row[6] for row in rows if row[6] is not None)
    # Fail closed: the SQL already leaves them out, this holds even if it did not.
    return found, keys if found.sees_anything else frozenset()


def principals_of(db: sqlite_utils.Database, person: Person) -> frozenset[str]:
    """The principal set of a known person (empty when they may see nothing)."""
    if not person.sees_anything:
        return frozenset()
    found, keys = person_and_principals(db, person.id)
    return keys if found is not None and found.id == person.id else frozenset()


def principal_set(db: sqlite_utils.Database, person: str) -> frozenset[str]:
    """Every principal key that admits `person` (oid or UPN); empty if unknown or disabled."""
    return person_and_principals(db, person)[1]


def _person(row: tuple) -> Person:
    person_id, upn, display_name, enabled, guest, deleted = row
    return Person(person_id, upn, display_name, bool(enabled), bool(guest), bool(deleted))


def principals_json(principals: Iterable[str]) -> str:
    """The principal set as the JSON array that `json_each(:principals)` reads."""
    return json.dumps(sorted(principals))
