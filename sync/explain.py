"""Why a person may or may not see an item, in sentences an admin can act on.

The decision is sync.visibility's (`can_view`, asked here); this module retells it: which of the
person's principals the item's effective ACL names (and how they hold it: directly, through
nested groups, through a site group), which item that ACL comes from, and, when nothing
matches, who the ACL does admit. Unknown or failed permissions are said to be so: fail closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from sync import directory, visibility
from sync.principals import ANONYMOUS_LINK, EVERYONE, ORGANIZATION_LINK
from sync.trimming import Person

EVERYONE_NAME = "'Everyone except external users'"


@dataclass(frozen=True)
class Explanation:
    visible: bool
    reasons: list[str]


@dataclass(frozen=True)
class _Item:
    drive_id: str
    item_id: str
    name: str | None
    path: str | None
    is_folder: bool
    is_root: bool
    deleted: bool
    acl_item_id: str | None
    perms_state: str
    drive_name: str | None
    site_title: str | None


@dataclass(frozen=True)
class _Grant:
    principal: str
    role: str
    via: str


def explain_item(
    db: sqlite_utils.Database,
    asked: str,
    person: Person | None,
    principals: frozenset[str],
    drive_id: str,
    item_id: str,
) -> Explanation:
    """Explain the access predicate's answer for `person` (as `asked` for) and one item."""
    refusal = _person_refusal(asked, person)
    item = _load_item(db, drive_id, item_id)
    if refusal is None and item is None:
        refusal = f"no item {drive_id}/{item_id} in the index"
    if refusal is not None:
        return _not_visible(refusal)
    assert person is not None and item is not None
    if item.deleted:
        return _not_visible("the item has been deleted")
    holder = _load_item(db, drive_id, item.acl_item_id) if item.acl_item_id else None
    if holder is None or holder.deleted or holder.perms_state == "unknown":
        return _not_visible("its permissions have not been read yet")
    if holder.perms_state != "ok":
        return _not_visible(
            f"the permissions of {_where(holder)} could not be read "
            f"(state '{holder.perms_state}'), so it stays hidden until a sync reads them"
        )
    grants = _grants(db, holder)
    names = _Names(db, person, principals)
    source = f"{_where(holder)}{_inheritance_note(item, holder)}"
    reasons = [
        f"visible through {names.holding(g)}, granted {g.role} on {source}"
        for g in grants
        if g.principal in principals
    ]
    if reasons and visibility.can_view(db, principals, drive_id, item_id):
        return Explanation(True, reasons)
    return Explanation(False, _denial(item, holder, grants, names, person))


def _not_visible(why: str) -> Explanation:
    return Explanation(False, [f"not visible: {why}"])


def _person_refusal(asked: str, person: Person | None) -> str | None:
    if person is None:
        return f"no person '{asked}' in the index"
    if person.deleted:
        return f"{person.label} has been deleted, and deleted accounts see nothing"
    if not person.enabled:
        return f"{person.label} is disabled, and disabled accounts see nothing"
    return None


def _load_item(db: sqlite_utils.Database, drive_id: str, item_id: str) -> _Item | None:
    row = db.execute(
        """SELECT i.drive_id, i.item_id, i.name, i.path, i.is_folder, i.is_root, i.deleted,
                  i.acl_item_id, i.perms_state, d.name, coalesce(s.title, i.site_title)
           FROM items AS i
           LEFT JOIN drives AS d ON d.id = i.drive_id
           LEFT JOIN sites AS s ON s.id = d.site_id
           WHERE i.drive_id = ? AND i.item_id = ?""",
        [drive_id, item_id],
    ).fetchone()
    if row is None:
        return None
    drive, item, name, path, is_folder, is_root, deleted, acl_item_id, *rest = row
    return _Item(
        drive, item, name, path, bool(is_folder), bool(is_root), bool(deleted), acl_item_id, *rest
    )


def _grants(db: sqlite_utils.Database, holder: _Item) -> list[_Grant]:
    rows = db.execute(
        """SELECT principal, role, via FROM acl WHERE drive_id = ? AND item_id = ?
           ORDER BY principal, via, role""",
        [holder.drive_id, holder.item_id],
    )
    return [_Grant(*row) for row in rows]


def _where(item: _Item) -> str:
    """The item an ACL belongs to, as a noun phrase."""
    if item.is_root:
        return f"the library root of '{item.drive_name}' in site '{item.site_title}'"
    kind = "folder" if item.is_folder else "file"
    return f"{kind} {item.path or item.name}"


def _inheritance_note(item: _Item, holder: _Item) -> str:
    if holder.is_root:
        return "" if holder.item_id == item.item_id else ", from which the item inherits"
    if holder.item_id == item.item_id:
        return ", which has unique permissions"
    return ", which has unique permissions and from which the item inherits"


def _denial(
    item: _Item, holder: _Item, grants: list[_Grant], names: _Names, person: Person
) -> list[str]:
    if holder.item_id == item.item_id:
        subject = (
            f"{_where(holder)} grants"
            if holder.is_root
            else "the item has unique permissions, which grant"
        )
    elif holder.is_root:
        subject = f"the item inherits from {_where(holder)}, which grants"
    else:
        subject = f"the item inherits from {_where(holder)}, whose unique permissions grant"
    if not grants:
        return [f"not visible: {subject} nobody"]
    granted = _listing([f"{names.grantee(g)} ({g.role})" for g in grants])
    reasons = [f"not visible: {subject} only {granted}"]
    kinds = {g.principal for g in grants}
    if person.guest and any(names.admits_members(g.principal) for g in grants):
        reasons.append(
            f"{person.label} is a guest: {EVERYONE_NAME} and links for the organisation "
            "leave guests out"
        )
    if ANONYMOUS_LINK in kinds:
        reasons.append("an anonymous link counts for nobody: no one is known to hold it")
    return reasons


def _listing(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


class _Names:
    """Names of principals for sentences, and how the person holds each of theirs."""

    def __init__(self, db: sqlite_utils.Database, person: Person, principals: frozenset[str]):
        self.db, self.person, self.principals = db, person, principals

    def grantee(self, grant: _Grant) -> str:
        """Who a grant names, without saying how anyone holds it."""
        kind, _, key = grant.principal.partition(":")
        if grant.principal == EVERYONE:
            return EVERYONE_NAME
        if grant.principal == ORGANIZATION_LINK:
            return "a link for everyone in the organisation"
        if grant.principal == ANONYMOUS_LINK:
            return "an anonymous link"
        if kind == "user":
            who = self.person_name(key)
            return f"a link for specific people including {who}" if grant.via == "link" else who
        if kind == "group":
            return f"group '{self.group_name(key)}'"
        if kind == "sitegroup":
            return self.site_group_name(key)
        return grant.principal

    def holding(self, grant: _Grant) -> str:
        """Who a grant names and how the person holds it ("group 'X' (transitive via 'Y')")."""
        kind, _, key = grant.principal.partition(":")
        if kind == "group":
            return f"{self.grantee(grant)} ({self.membership(key)})"
        if kind == "sitegroup":
            return f"{self.grantee(grant)}, which holds {self.site_group_holding(key)}"
        if kind == "user" and grant.via != "link":
            return f"a direct grant to {self.person_name(key)}"
        return self.grantee(grant)

    def admits_members(self, principal: str) -> bool:
        """Whether a principal admits every member of the organisation (so never a guest)."""
        if principal in (EVERYONE, ORGANIZATION_LINK):
            return True
        if not principal.startswith("sitegroup:"):
            return False
        site_id, _, number = principal.removeprefix("sitegroup:").rpartition(":")
        row = self.db.execute(
            """SELECT 1 FROM site_group_members
               WHERE site_id = ? AND group_number = ? AND principal = ?""",
            [site_id, number, EVERYONE],
        ).fetchone()
        return row is not None

    def person_name(self, person_id: str) -> str:
        if person_id == self.person.id:
            return self.person.label
        found = directory.profile(self.db, person_id)
        if found is None or not (found.display_name or found.upn):
            return f"user {person_id}"
        if found.display_name and found.upn:
            return f"{found.display_name} ({found.upn})"
        return found.display_name or found.upn or ""

    def group_name(self, group_id: str) -> str:
        return directory.group_name(self.db, group_id) or group_id

    def site_group_name(self, key: str) -> str:
        site_id, _, number = key.rpartition(":")
        row = self.db.execute("SELECT title FROM sites WHERE id = ?", [site_id]).fetchone()
        site = row[0] if row and row[0] else site_id
        return f"site group {number} of site '{site}'"

    def membership(self, group_id: str) -> str:
        """How the person is in a group: directly, or through which nested groups."""
        chain = self._group_chain(group_id)
        if chain is None:
            return "a member"
        if not chain:
            return "a direct member"
        return "transitive via " + ", then ".join(f"'{self.group_name(g)}'" for g in chain)

    def _group_chain(self, group_id: str) -> list[str] | None:
        """Groups between the person and `group_id` on a shortest path (direct = [])."""
        paths: dict[str, list[str]] = {self.person.id: []}
        frontier = [self.person.id]
        while frontier:
            following = []
            for member in frontier:
                for parent in directory.groups_holding(self.db, member):
                    if parent in paths:
                        continue
                    via = paths[member] + ([member] if member != self.person.id else [])
                    if parent == group_id:
                        return via
                    paths[parent] = via
                    following.append(parent)
            frontier = following
        return None

    def site_group_holding(self, key: str) -> str:
        """Which of the person's principals the site group holds, named."""
        site_id, _, number = key.rpartition(":")
        rows = self.db.execute(
            """SELECT principal FROM site_group_members WHERE site_id = ? AND group_number = ?
               ORDER BY principal""",
            [site_id, number],
        )
        held = [p for (p,) in rows if p in self.principals]
        if f"user:{self.person.id}" in held:
            return f"{self.person.label} directly"
        groups = [p.partition(":")[2] for p in held if p.startswith("group:")]
        if groups:
            return f"group '{self.group_name(groups[0])}' ({self.membership(groups[0])})"
        return EVERYONE_NAME if EVERYONE in held else "one of their principals"
