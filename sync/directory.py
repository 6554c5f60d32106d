"""The directory: the index's people, groups and memberships, read (sync/people.py writes them).

Every reader outside sync's own writes (the overlay's sign-in, people pages, mentions, chat
invitations, display names, the live check's claims; explain's sentences) asks here, so the SQL
on these tables and the meaning of their filters live in one module. Words:

- person: an Entra user, by object id (oid). Rows are never removed: a person gone from Entra
  is kept `deleted`, so old comments still have an author.
- active: enabled and not deleted (`ACTIVE`): who may use Plaza, members and guests alike, and
  so who the directory lists and who may be invited or offered as a mention.
- listed: not deleted, enabled or not: who a typed mention or a claim's UPN may still name (a
  disabled account then fails the access check, not the lookup).
- guest: an external user; where it decides access an unknown person counts as one (fail
  closed).
- membership: user -> group, transitive (`memberships`); `group_members` holds the direct edges.

The principal set's own read (sync/trimming.py: `person_and_principals`, one statement)
stays beside the trimming SQL that it feeds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import sqlite_utils

# Enabled members and guests: the one definition of who the directory offers.
ACTIVE = "enabled = 1 AND deleted = 0"

PROFILE_COLUMNS = (
    "id, upn, display_name, mail, job_title, department, office, business_phone, "
    "manager_id, guest, enabled, deleted"
)


@dataclass(frozen=True)
class Profile:
    """A person's synced profile, whatever the state of their account."""

    id: str
    upn: str | None
    display_name: str | None
    mail: str | None
    job_title: str | None
    department: str | None
    office: str | None
    business_phone: str | None
    manager_id: str | None
    guest: bool
    enabled: bool
    deleted: bool

    @property
    def active(self) -> bool:
        return self.enabled and not self.deleted


class Named(NamedTuple):
    """A listed person and the name to show for them (display name, else UPN, else oid); a
    tuple, so `person_id, name = entry` reads it too."""

    id: str
    name: str


@dataclass(frozen=True)
class Candidate:
    """An active person offered as a mention."""

    id: str
    name: str | None  # display name, else UPN
    upn: str | None
    job_title: str | None


def _profile(row: tuple) -> Profile:
    *fields, guest, enabled, deleted = row
    return Profile(*fields, bool(guest), bool(enabled), bool(deleted))


def _like_escaped(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- one person ------------------------------------------------------------------------------


def profile(db: sqlite_utils.Database, person_id: str) -> Profile | None:
    """The person with this oid, active or not; None if the index never saw them."""
    row = db.execute(f"SELECT {PROFILE_COLUMNS} FROM people WHERE id = ?", [person_id]).fetchone()
    return None if row is None else _profile(row)


def active_profile(db: sqlite_utils.Database, person_id: str) -> Profile | None:
    """The person if they may use Plaza (ACTIVE), else None."""
    found = profile(db, person_id)
    return found if found is not None and found.active else None


class Photo(NamedTuple):
    etag: str
    content_type: str
    data: bytes


def photo(db: sqlite_utils.Database, person_id: str) -> Photo | None:
    """The listed person's stored profile photo (sync/photos.py keeps them), if any."""
    row = db.execute(
        "SELECT ph.etag, ph.content_type, ph.data FROM photos ph"
        " JOIN people p ON p.id = ph.person_id AND p.deleted = 0 WHERE ph.person_id = ?",
        [person_id],
    ).fetchone()
    return None if row is None else Photo(*row)


def is_guest(db: sqlite_utils.Database, person_id: str) -> bool:
    """Whether the person is an external user; unknown people count as guests (fail closed)."""
    found = profile(db, person_id)
    return found is None or found.guest


def active_profile_in(
    db: sqlite_utils.Database, person_id: str, group_ids: Iterable[str]
) -> tuple[Profile | None, frozenset[str]]:
    """`active_profile`, and which of `group_ids` the person is in, directly or through
    nested groups (`memberships`, as the last people sync saw it): one statement for what
    every signed-in request asks (its person and their admin roles)."""
    rows = db.execute(
        f"SELECT {PROFILE_COLUMNS}, m.group_id FROM people LEFT JOIN ("
        " SELECT user_id, group_id FROM memberships"
        " WHERE user_id = :id AND group_id IN (SELECT value FROM json_each(:groups))"
        ") AS m ON m.user_id = people.id WHERE people.id = :id",
        {"id": person_id, "groups": json.dumps(sorted(set(group_ids)))},
    ).fetchall()
    found = _profile(rows[0][:-1]) if rows else None
    if found is None or not found.active:
        return None, frozenset()
    return found, frozenset(row[-1] for row in rows if row[-1] is not None)


def _listed(db: sqlite_utils.Database, column: str, key: str) -> Named | None:
    row = db.execute(
        f"SELECT id, coalesce(display_name, upn, id) FROM people"
        f" WHERE {column} = ? COLLATE NOCASE AND deleted = 0 ORDER BY id LIMIT 1",
        [key],
    ).fetchone()
    return None if row is None else Named(row[0], row[1])


def listed_by_id(db: sqlite_utils.Database, person_id: str) -> Named | None:
    """The listed person with this oid (any case), named."""
    return _listed(db, "id", person_id)


def listed_by_upn(db: sqlite_utils.Database, upn: str) -> Named | None:
    """The listed person signing in as `upn` (any case), named."""
    return _listed(db, "upn", upn)


def active_by_address(db: sqlite_utils.Database, address: str) -> str | None:
    """The oid of the active person whose oid, UPN or mail (any case) is `address`."""
    row = db.execute(
        f"SELECT id FROM people WHERE {ACTIVE}"
        " AND (id = ? OR upn = ? COLLATE NOCASE OR mail = ? COLLATE NOCASE)"
        " ORDER BY id LIMIT 1",
        [address, address, address],
    ).fetchone()
    return None if row is None else row[0]


# -- many people -----------------------------------------------------------------------------


def active_ids(db: sqlite_utils.Database, person_ids: Iterable[str]) -> set[str]:
    """Those of `person_ids` that are active people."""
    rows = db.execute(
        f"SELECT id FROM people WHERE {ACTIVE} AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(person_ids))],
    )
    return {row[0] for row in rows}


def display_names(db: sqlite_utils.Database, person_ids: Iterable[str]) -> dict[str, str]:
    """Display names by oid ("" when the directory has none); unknown ids are left out."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = db.execute(
        "SELECT id, display_name FROM people WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(ids)],
    )
    return {person_id: name or "" for person_id, name in rows}


SEARCH_WHERE = f"""{ACTIVE} AND (
    CAST(:q AS TEXT) IS NULL OR display_name LIKE :q ESCAPE '\\' OR job_title LIKE :q ESCAPE '\\'
    OR department LIKE :q ESCAPE '\\' OR office LIKE :q ESCAPE '\\' OR upn LIKE :q ESCAPE '\\')"""


def search(
    db: sqlite_utils.Database, text: str, page: int, per_page: int
) -> tuple[list[Profile], int]:
    """One page of active people whose name, job title, department, office or UPN contains
    `text` (everyone when it is empty), by name; and how many match in all."""
    params = {
        "q": f"%{_like_escaped(text)}%" if text else None,
        "limit": per_page,
        "offset": (page - 1) * per_page,
    }
    total = db.execute(f"SELECT count(*) FROM people WHERE {SEARCH_WHERE}", params).fetchone()[0]
    rows = db.execute(
        f"""SELECT {PROFILE_COLUMNS} FROM people WHERE {SEARCH_WHERE}
            ORDER BY display_name COLLATE NOCASE, id LIMIT :limit OFFSET :offset""",
        params,
    )
    return [_profile(row) for row in rows], total


MENTION_CANDIDATES_SQL = f"""
    SELECT id, coalesce(display_name, upn), upn, job_title FROM people
    WHERE {ACTIVE} AND id != :me
      AND (display_name LIKE :prefix ESCAPE '\\' OR upn LIKE :prefix ESCAPE '\\'
           OR given_name LIKE :prefix ESCAPE '\\' OR surname LIKE :prefix ESCAPE '\\'
           OR display_name LIKE :word ESCAPE '\\')
    ORDER BY display_name COLLATE NOCASE, id
    LIMIT :scan"""


def mention_candidates(
    db: sqlite_utils.Database, viewer_id: str, typed: str, scan: int
) -> Iterator[Candidate]:
    """Active people other than the viewer whose name, given name, surname, UPN or a later
    word of the name starts with `typed`, by name, at most `scan` of them (read lazily: the
    caller checks each one's access and stops early)."""
    prefix = _like_escaped(typed) + "%"
    rows = db.execute(
        MENTION_CANDIDATES_SQL,
        {"me": viewer_id, "prefix": prefix, "word": "% " + prefix, "scan": scan},
    )
    for person_id, name, upn, job_title in rows:
        yield Candidate(person_id, name, upn, job_title)


# -- groups ----------------------------------------------------------------------------------


def group_name(db: sqlite_utils.Database, group_id: str) -> str | None:
    """The group's display name, if the index knows one."""
    row = db.execute("SELECT display_name FROM groups WHERE id = ?", [group_id]).fetchone()
    return row[0] if row else None


def groups_holding(db: sqlite_utils.Database, member_id: str) -> list[str]:
    """The groups that hold a person or a group as a direct member, by id."""
    rows = db.execute(
        "SELECT group_id FROM group_members WHERE member_id = ? ORDER BY group_id", [member_id]
    )
    return [group_id for (group_id,) in rows]


def left_since(db: sqlite_utils.Database, since: datetime) -> list[tuple[str, str, str]]:
    """People a people sync found disabled or deleted at or after `since`, as (id, name,
    "disabled" | "deleted"), by name: what the admin's health page lists after a sync."""
    rows = db.execute(
        "SELECT id, coalesce(display_name, upn, id), deleted FROM people"
        " WHERE (enabled = 0 OR deleted = 1) AND synced_at >= ? ORDER BY 2, 1",
        [since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
    )
    return [(pid, name, "deleted" if deleted else "disabled") for pid, name, deleted in rows]


def active_members(db: sqlite_utils.Database, group_id: str) -> list[str]:
    """The active people in the group, directly or through nested groups (oids, sorted)."""
    rows = db.execute(
        "SELECT p.id FROM memberships AS m JOIN people AS p ON p.id = m.user_id"
        " WHERE m.group_id = ? AND p.enabled = 1 AND p.deleted = 0 ORDER BY p.id",
        [group_id],
    )
    return [person_id for (person_id,) in rows]


# -- units, for aggregate analytics ------------------------------------------------------------


def units(db: sqlite_utils.Database) -> dict[str, tuple[str | None, str | None]]:
    """(department, office) of every listed person who is not a guest, by oid: the units that
    the overlay's insights group people by (in the emulator's firm, a department is a practice)."""
    rows = db.execute("SELECT id, department, office FROM people WHERE deleted = 0 AND guest = 0")
    return {person_id: (department, office) for person_id, department, office in rows}


def members_of_groups(db: sqlite_utils.Database, group_ids: Iterable[str]) -> set[str]:
    """Every person in any of the groups, directly or through nested groups."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return set()
    rows = db.execute(
        "SELECT DISTINCT user_id FROM memberships"
        " WHERE group_id IN (SELECT value FROM json_each(?))",
        [json.dumps(wanted)],
    )
    return {user_id for (user_id,) in rows}


def colleagues(
    db: sqlite_utils.Database, person_id: str, limit: int = 100
) -> tuple[list[str], list[str]]:
    """(team, practice) of an active person, themselves excluded: the team is their manager,
    those who share that manager and their own reports; the practice, others of their
    department (at most `limit`, by id). Empty for an unknown person or a missing field."""
    me = profile(db, person_id)
    if me is None:
        return [], []
    team = db.execute(
        f"SELECT id FROM people WHERE {ACTIVE} AND id != :me AND ("
        " (CAST(:manager AS TEXT) IS NOT NULL AND (id = :manager OR manager_id = :manager))"
        " OR manager_id = :me) ORDER BY id",
        {"me": person_id, "manager": me.manager_id},
    ).fetchall()
    practice = (
        db.execute(
            f"SELECT id FROM people WHERE {ACTIVE} AND id != ? AND department = ?"
            " ORDER BY id LIMIT ?",
            [person_id, me.department, limit],
        ).fetchall()
        if me.department
        else []
    )
    return [row[0] for row in team], [row[0] for row in practice]


# around()'s one statement (ACTIVE people only): the person's team and, when they are among
# the first :limit + 1 of their department by id, the department. Each arm scans people, as
# colleagues' queries do; the feed's fan-out runs it inside a comment's write transaction.
AROUND_SQL = """
    WITH me AS (SELECT id, manager_id, department FROM people WHERE id = :me),
    ahead AS (
        SELECT count(*) AS n FROM people AS a JOIN me ON a.department = me.department
        WHERE a.enabled = 1 AND a.deleted = 0 AND a.id < me.id)
    SELECT p.id FROM people AS p JOIN me ON p.id != me.id CROSS JOIN ahead
    WHERE p.enabled = 1 AND p.deleted = 0 AND (
        p.id = me.manager_id OR p.manager_id = me.manager_id OR p.manager_id = me.id
        OR (p.department = me.department AND me.department != '' AND ahead.n <= :limit))
    ORDER BY p.id"""


def around(db: sqlite_utils.Database, person_id: str, limit: int = 100) -> list[str]:
    """Those whose `colleagues(.., limit)` may name the person (a feed's fan-out; a superset,
    by id): their team (a mutual relation), and their department when the person is among
    its first `limit` + 1 by id (a practice lists the first `limit` of the others)."""
    rows = db.execute(AROUND_SQL, {"me": person_id, "limit": limit})
    return [row[0] for row in rows]
