"""The emulated tenant: directory, sites, drives, items, permissions, and their change journals.

Items are never all held in memory: a drive's generated items are a pure function of the
seed and their position (see documents.py); only what the control API changed since start is
stored, as overrides (drive_state.py). So start-up time does not grow with size and a full
enumeration pages through positions with flat memory.

Every mutation takes the lock, bumps `seq`, and appends to a journal (per drive for items, one
for the directory), which is what delta queries read.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

from connector.emulator import access, documents, generator
from connector.emulator.drive_state import DriveState
from connector.emulator.model import App, Change, Drive, Grant, Group, Item, Site, User
from connector.emulator.mutations import TenantMutations
from connector.emulator.site_users import SiteUsers


class Tenant(TenantMutations):
    """One tenant, generated from (seed, size); safe to share between server threads."""

    def __init__(self, seed: int = 1, size: int | str = "small", base_url: str = "") -> None:
        self.lock = threading.RLock()
        self.spec = generator.TenantSpec.make(seed, size)
        self.ids = self.spec.ids  # ids.IdMaker: guid(), item_id(), item_guid(), ...
        self.base_url = base_url  # e.g. "https://localhost:8443"; set by the server
        self.seq = 0
        self.delta_epoch = 0  # delta tokens from an older epoch answer 410
        # Delta tokens of another emulator process (started again, same firm) answer 410 too:
        # its change journal is not this one's, so resuming from its seq would miss changes.
        self.instance = secrets.token_hex(4)
        self.directory_journal: list[tuple[int, str, str]] = []  # (seq, "user"|"group", id)
        # (seq, group id, member id, added?) for members@delta
        self.membership_log: list[tuple[int, str, str, bool]] = []
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
                web_url = self.site_web_url(site) + "/" + drive.url_name
                ctx = generator.drive_context(self.spec, directory, site, drive, web_url)
                self.drives[drive.id] = DriveState(self.spec, ctx)
        self._membership_cache: dict[str, frozenset[str]] = {}
        self._site_users: dict[str, SiteUsers] = {}

    @property
    def main_app(self) -> App:
        return next(iter(self.apps.values()))

    # -- directory ---------------------------------------------------------------------------

    def user(self, id_or_upn: str) -> User | None:
        """A user by object id or userPrincipalName (case-insensitive), deleted ones excluded."""
        user = self.users.get(id_or_upn) or self._by_upn.get(id_or_upn.lower())
        return user if user and not user.deleted else None

    def group(self, group_id: str) -> Group | None:
        group = self.groups.get(group_id)
        return group if group and not group.deleted else None

    def transitive_groups(self, user_id: str) -> frozenset[str]:
        """Ids of every group the user (or group) belongs to, directly or through nesting."""
        with self.lock:
            cached = self._membership_cache.get(user_id)
            if cached is None:
                cached = self._membership_cache[user_id] = access.groups_containing(self, user_id)
            return cached

    def transitive_members(self, group_id: str) -> list[str]:
        """Ids of every user and group inside the group, nested groups expanded (no repeats)."""
        seen: dict[str, None] = {}
        todo = list(self.groups[group_id].member_ids)
        while todo:
            member = todo.pop(0)
            if member in seen:
                continue
            seen[member] = None
            nested = self.group(member)
            if nested:
                todo.extend(nested.member_ids)
        return list(seen)

    def photo(self, user_id: str) -> bytes | None:
        user = self.user(user_id)
        return documents.photo_bytes(self.spec, user) if user and user.has_photo else None

    # -- sites and drives --------------------------------------------------------------------

    def site_by_path(self, path: str) -> Site | None:
        """A site by server-relative path ("/sites/tax"), case-insensitive; "/" is the root site."""
        wanted = "/" + path.strip("/").lower()
        return next((s for s in self.sites.values() if s.path.lower() == wanted), None)

    def site_web_url(self, site: Site) -> str:
        return self.base_url + (site.path if site.path != "/" else "")

    def site_users(self, site: Site) -> SiteUsers:
        """The site's User Information List: the ids Graph and SharePoint REST give principals."""
        with self.lock:
            found = self._site_users.get(site.id)
            if found is None:
                found = self._site_users[site.id] = SiteUsers(self, site)
            return found

    def drives_of(self, site_id: str, include_system: bool = False) -> list[Drive]:
        return [
            s.drive
            for s in self.drives.values()
            if s.drive.site_id == site_id and (include_system or not s.drive.system)
        ]

    def drive(self, drive_id: str) -> Drive | None:
        state = self.drives.get(drive_id)
        return state.drive if state else None

    def site_of(self, drive_id: str) -> Site:
        return self.sites[self.drives[drive_id].drive.site_id]

    # -- items -------------------------------------------------------------------------------

    def _locate(self, drive_id: str, item_id: str) -> tuple[DriveState, int] | None:
        state = self.drives.get(drive_id)
        index = state.index_of(item_id) if state else None
        return None if state is None or index is None else (state, index)

    def item(self, drive_id: str, item_id: str) -> Item | None:
        """Current state of an item, tombstones included (check .deleted); None if unknown.

        `item_id` may be "root".
        """
        with self.lock:
            found = self._locate(drive_id, item_id)
            return found[0].item_at(found[1]) if found else None

    def item_at(self, drive_id: str, index: int) -> Item | None:
        """Current state of the item at a position (None past the end)."""
        with self.lock:
            return self.drives[drive_id].item_at(index)

    def root(self, drive_id: str) -> Item:
        return self.item_at(drive_id, 0)  # type: ignore[return-value]

    def children(self, drive_id: str, item_id: str) -> list[Item]:
        """Live children of a folder, in a stable order (generated first, then added)."""
        with self.lock:
            found = self._locate(drive_id, item_id)
            if not found:
                return []
            state, index = found
            return [state.item_at(i) for i in state.children_indexes(index)]  # type: ignore[misc]

    def child_count(self, drive_id: str, item_id: str) -> int:
        """How many live children a folder has (`folder.childCount`), without building them."""
        with self.lock:
            found = self._locate(drive_id, item_id)
            return len(found[0].children_indexes(found[1])) if found else 0

    def iter_items(self, drive_id: str, start: int = 0) -> Iterator[Item]:
        """Every live item of a drive by position from `start` (root first), for enumeration.

        Positions are stable: resume with `item.index + 1`. The lock is not held across yields.
        """
        state = self.drives[drive_id]
        position = start
        while True:
            with self.lock:
                batch = []
                for item in state.iter_items(position):
                    batch.append(item)
                    if len(batch) == 256:
                        break
            if not batch:
                return
            yield from batch
            position = batch[-1].index + 1

    def end_position(self, drive_id: str) -> int:
        """One past the last position in use in the drive."""
        return self.drives[drive_id].next_index

    def changes_since(self, drive_id: str, seq: int) -> list[Change]:
        """Journal entries after `seq`, one per item (its latest), oldest first."""
        with self.lock:
            return self.drives[drive_id].changes_since(seq)

    def path_of(self, item: Item) -> str:
        """Path below the drive root, e.g. "/Clients/Acme/Plan.docx" ("" for the root)."""
        with self.lock:
            names = self.drives[item.drive_id].path_names(item.index)
        return "".join("/" + n for n in names)

    # -- permissions -------------------------------------------------------------------------

    def grants(self, drive_id: str, item_id: str) -> list[Grant]:
        """The item's effective grants (its own if unique, else its nearest such ancestor's)."""
        with self.lock:
            found = self._locate(drive_id, item_id)
            return access.effective_grants(found[0], found[1]) if found else []

    def can_open(self, user_id: str, drive_id: str, item_id: str) -> bool:
        """Whether the user can open the item in SharePoint right now (the oracle's rule)."""
        with self.lock:
            found = self._locate(drive_id, item_id)
            if not found:
                return False
            state, index = found
            item = state.item_at(index)
            if item is None or item.deleted:
                return False
            return access.admits(self, user_id, state, access.effective_grants(state, index))

    def can_open_site(self, user_id: str, site: Site) -> bool:
        """Whether the user may open the site (its root web), through any of its site groups."""
        with self.lock:
            grants = documents.site_grants(site)
            return any(access.admits_site(self, user_id, site, g) for g in grants)

    def visible_items(self, user_id: str) -> Iterator[tuple[str, str]]:
        """(drive_id, item_id) of every live item the user can open, roots included."""
        for drive_id in list(self.drives):
            yield from access.visible_in_drive(self, user_id, self.drives[drive_id])
