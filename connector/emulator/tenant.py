"""The emulated tenant: directory, sites, drives, items, permissions, and their change journals.

Items are never all held in memory: a drive's generated items are a pure function of the
seed and their position (see generator.py); only what the control API changed since start is
stored, as overrides. So start-up time does not grow with size and a full enumeration pages
through positions with flat memory.

Every mutation takes the lock, bumps `seq`, and appends to a journal (per drive for items, one
for the directory), which is what delta queries read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from connector.emulator import generator, ids
from connector.emulator.model import (
    EVERYONE,
    GROUP,
    OWNER,
    READ,
    SITE_GROUP,
    USER,
    WRITE,
    App,
    Change,
    Drive,
    Grant,
    Group,
    Item,
    Link,
    Principal,
    Site,
    User,
)


@dataclass
class ItemOverride:
    """What the control API changed about one item; None means "as generated"."""

    name: str | None = None
    parent_index: int | None = None
    folder: bool | None = None
    size: int | None = None
    modified_at: str | None = None
    modified_by: str | None = None
    version_bump: int = 0
    content_bump: int = 0
    deleted: bool = False
    grants: list[Grant] | None = None  # set = unique permissions; None = as generated
    inherits: bool = False  # True = inheritance restored (generated unique perms dropped)
    created_at: str | None = None
    created_by: str | None = None


@dataclass
class DriveState:
    drive: Drive
    overrides: dict[int, ItemOverride] = field(default_factory=dict)
    extra_children: dict[int, set[int]] = field(default_factory=dict)  # moved/created, by parent
    next_index: int = 0
    journal: list[Change] = field(default_factory=list)


class Tenant:
    """One tenant, generated from (seed, size); safe to share between server threads."""

    def __init__(self, seed: int = 1, size: int | str = "small", base_url: str = "") -> None:
        self.lock = threading.RLock()
        self.spec = generator.TenantSpec.make(seed, size)
        self.base_url = base_url  # e.g. "https://localhost:8443"; set by the server
        self.seq = 0
        self.delta_epoch = 0  # delta tokens from an older epoch answer 410
        self.directory_journal: list[tuple[int, str, str]] = []  # (seq, "user"|"group", id)
        directory = generator.generate_directory(self.spec)
        self.tenant_id: str = directory.tenant_id
        self.domain: str = directory.domain
        self.users: dict[str, User] = {u.id: u for u in directory.users}
        self.groups: dict[str, Group] = {g.id: g for g in directory.groups}
        self.apps: dict[str, App] = {a.client_id: a for a in directory.apps}
        self.password: str = directory.password
        self.sites: dict[str, Site] = {}
        self.drives: dict[str, DriveState] = {}
        self._by_upn = {u.user_principal_name.lower(): u for u in directory.users}
        for site, drives in generator.generate_sites(self.spec, directory):
            self.sites[site.id] = site
            for drive in drives:
                self.drives[drive.id] = DriveState(drive, next_index=drive.base_count)
        self._drive_by_number = {s.drive.number: s for s in self.drives.values()}
        self._membership_cache: dict[str, frozenset[str]] = {}
        ids.configure(self.spec.seed)

    # -- directory ---------------------------------------------------------------------------

    def user(self, id_or_upn: str) -> User | None:
        """A user by object id or userPrincipalName (case-insensitive), deleted ones excluded."""
        user = self.users.get(id_or_upn) or self._by_upn.get(id_or_upn.lower())
        return user if user and not user.deleted else None

    def group(self, group_id: str) -> Group | None:
        group = self.groups.get(group_id)
        return group if group and not group.deleted else None

    def transitive_groups(self, user_id: str) -> frozenset[str]:
        """Ids of every group the user belongs to, directly or through nested groups."""
        with self.lock:
            cached = self._membership_cache.get(user_id)
            if cached is not None:
                return cached
            parents: dict[str, set[str]] = {}
            for group in self.groups.values():
                if group.deleted:
                    continue
                for member in group.member_ids:
                    parents.setdefault(member, set()).add(group.id)
            found: set[str] = set()
            todo = list(parents.get(user_id, ()))
            while todo:
                gid = todo.pop()
                if gid not in found:
                    found.add(gid)
                    todo.extend(parents.get(gid, ()))
            result = frozenset(found)
            self._membership_cache[user_id] = result
            return result

    def transitive_members(self, group_id: str) -> list[str]:
        """Ids of every user and group inside the group, nested groups expanded (no repeats)."""
        seen: list[str] = []
        todo = list(self.groups[group_id].member_ids)
        while todo:
            member = todo.pop(0)
            if member in seen:
                continue
            seen.append(member)
            if member in self.groups and not self.groups[member].deleted:
                todo.extend(self.groups[member].member_ids)
        return seen

    def photo(self, user_id: str) -> bytes | None:
        user = self.user(user_id)
        return generator.photo_bytes(self.spec, user) if user and user.has_photo else None

    # -- sites and drives --------------------------------------------------------------------

    def site_by_path(self, path: str) -> Site | None:
        """A site by server-relative path ("/sites/tax"), case-insensitive; "/" is the root site."""
        wanted = "/" + path.strip("/").lower()
        for site in self.sites.values():
            if site.path.lower() == wanted or (wanted == "/" and site.path == "/"):
                return site
        return None

    def site_web_url(self, site: Site) -> str:
        return self.base_url + (site.path if site.path != "/" else "")

    def drives_of(self, site_id: str, include_system: bool = False) -> list[Drive]:
        return [
            s.drive
            for s in self.drives.values()
            if s.drive.site_id == site_id and (include_system or not s.drive.system)
        ]

    def drive(self, drive_id: str) -> Drive | None:
        state = self.drives.get(drive_id)
        return state.drive if state else None

    # -- items -------------------------------------------------------------------------------

    def item(self, drive_id: str, item_id: str) -> Item | None:
        """Current state of an item, tombstones included (check .deleted); None if unknown."""
        raise NotImplementedError

    def item_at(self, drive_id: str, index: int) -> Item | None:
        """Current state of the item at a position (None past the end)."""
        raise NotImplementedError

    def root(self, drive_id: str) -> Item:
        raise NotImplementedError

    def children(self, drive_id: str, item_id: str) -> list[Item]:
        """Live children of a folder, in a stable order (folders and files mixed as generated)."""
        raise NotImplementedError

    def iter_items(self, drive_id: str, start: int = 0) -> Iterator[Item]:
        """Every live item of a drive by position from `start` (root first), for enumeration.

        Positions are stable: resume with `item.index + 1`.
        """
        raise NotImplementedError

    def end_position(self, drive_id: str) -> int:
        """One past the last position in use in the drive."""
        raise NotImplementedError

    def changes_since(self, drive_id: str, seq: int) -> list[Change]:
        """Journal entries after `seq`, one per item (its latest), oldest first."""
        raise NotImplementedError

    def path_of(self, item: Item) -> str:
        """Path below the drive root, e.g. "/Clients/Acme/Plan.docx" ("" for the root)."""
        raise NotImplementedError

    # -- permissions -------------------------------------------------------------------------

    def grants(self, drive_id: str, item_id: str) -> list[Grant]:
        """The item's effective grants (its own if unique, else its nearest such ancestor's)."""
        raise NotImplementedError

    def can_open(self, user_id: str, drive_id: str, item_id: str) -> bool:
        """Whether the user can open the item in SharePoint right now (the oracle's rule)."""
        raise NotImplementedError

    def visible_items(self, user_id: str) -> Iterator[tuple[str, str]]:
        """(drive_id, item_id) of every live item the user can open, roots included."""
        raise NotImplementedError

    def can_open_site(self, user_id: str, site: Site) -> bool:
        raise NotImplementedError

    # -- mutations (the control API) -----------------------------------------------------------

    def add_item(self, drive_id: str, parent_id: str, name: str, folder: bool, by: str) -> Item:
        raise NotImplementedError

    def edit_item(self, drive_id: str, item_id: str, by: str, size: int | None = None) -> Item:
        """A content edit: bumps eTag and cTag, modified by/at."""
        raise NotImplementedError

    def rename_item(self, drive_id: str, item_id: str, name: str) -> Item:
        raise NotImplementedError

    def move_item(self, drive_id: str, item_id: str, new_parent_id: str) -> Item:
        raise NotImplementedError

    def delete_item(self, drive_id: str, item_id: str) -> list[Item]:
        """Deletes the item and its descendants; returns the tombstones."""
        raise NotImplementedError

    def break_inheritance(
        self, drive_id: str, item_id: str, grants: list[Grant] | None = None
    ) -> list[Grant]:
        """Gives the item unique permissions: `grants`, or a copy of what it inherited."""
        raise NotImplementedError

    def restore_inheritance(self, drive_id: str, item_id: str) -> None:
        raise NotImplementedError

    def add_grant(self, drive_id: str, item_id: str, principal: Principal, roles: tuple[str, ...]) -> Grant:
        """Grants a principal access (breaking inheritance first, as SharePoint does)."""
        raise NotImplementedError

    def remove_grant(self, drive_id: str, item_id: str, grant_id: str) -> None:
        raise NotImplementedError

    def create_link(
        self, drive_id: str, item_id: str, scope: str, link_type: str, grantees: tuple[str, ...] = ()
    ) -> Grant:
        """A sharing link of scope anonymous | organization | users."""
        raise NotImplementedError

    def add_group_member(self, group_id: str, member_id: str) -> None:
        raise NotImplementedError

    def remove_group_member(self, group_id: str, member_id: str) -> None:
        raise NotImplementedError

    def update_user(self, user_id: str, **fields: object) -> User:
        """Changes profile fields (snake_case names of User), e.g. account_enabled=False."""
        raise NotImplementedError

    def expire_delta_tokens(self) -> None:
        """Every delta token handed out so far answers 410 from now on."""
        with self.lock:
            self.delta_epoch += 1


__all__ = [
    "EVERYONE", "GROUP", "OWNER", "READ", "SITE_GROUP", "USER", "WRITE",
    "Grant", "Link", "Principal", "Tenant", "replace",
]
