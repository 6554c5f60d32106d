"""Changes to the tenant made through the control API, each journaled for delta queries.

Errors are ValueError (bad input) and KeyError (unknown id), which the control API turns into
400 and 404. Like SharePoint, granting access or creating a link on an item that inherits first
breaks inheritance, copying what the item inherited.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connector.emulator import access
from connector.emulator.model import Grant, Item, Link, Principal, User

if TYPE_CHECKING:
    from connector.emulator.drive_state import DriveState

LINK_SCOPES = ("anonymous", "organization", "users")
LINK_TYPES = ("view", "edit")
ROLES_BY_LINK = {"view": ("read",), "edit": ("write",)}
INVALID_NAME_CHARACTERS = set('"*:<>?/\\|')


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PHOTO_FIELDS = {"has_photo", "photo_version"}


class TenantMutations:
    """Mixed into Tenant; relies on its lock, seq, drives, users and groups."""

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _live(self, drive_id: str, item_id: str) -> tuple[DriveState, int, Item]:
        found = self._locate(drive_id, item_id)
        item = found[0].item_at(found[1]) if found else None
        if item is None or item.deleted:
            raise KeyError(f"no item {item_id} in drive {drive_id}")
        return found[0], found[1], item

    def _check_name(self, state: DriveState, parent: int, name: str) -> None:
        if not name or name.strip() != name or set(name) & INVALID_NAME_CHARACTERS:
            raise ValueError(f"invalid item name {name!r}")
        wanted = name.lower()
        for child in state.children_indexes(parent):
            if state.name_at(child).lower() == wanted:
                raise ValueError(f"an item named {name!r} already exists in that folder")

    def add_item(self, drive_id: str, parent_id: str, name: str, folder: bool, by: str) -> Item:
        with self.lock:
            state, parent, parent_item = self._live(drive_id, parent_id)
            if not parent_item.folder:
                raise ValueError("the parent is a file, not a folder")
            if self.user(by) is None:
                raise KeyError(f"no user {by}")
            self._check_name(state, parent, name)
            index = state.next_index
            state.next_index += 1
            now = _now()
            override = state.override(index)
            override.name, override.folder, override.size = name, folder, 0 if folder else 1024
            override.created_at, override.created_by = now, self.user(by).id
            state.attach(index, parent)
            state.record(self._next_seq(), index)
            return state.item_at(index)

    def edit_item(self, drive_id: str, item_id: str, by: str, size: int | None = None) -> Item:
        """A content edit: bumps eTag and cTag, modified by/at."""
        with self.lock:
            state, index, item = self._live(drive_id, item_id)
            user = self.user(by)
            if user is None:
                raise KeyError(f"no user {by}")
            override = state.override(index)
            override.version_bump += 1
            override.content_bump += 0 if item.folder else 1
            override.size = item.size if size is None else size
            override.modified_at, override.modified_by = _now(), user.id
            state.record(self._next_seq(), index)
            return state.item_at(index)

    def update_fields(self, drive_id: str, item_id: str, by: str | None = None) -> Item:
        """A list item's column values changed: the eTag changes and the change shows in
        delta. `by` None is a system update (SharePoint's ValidateUpdateListItem with
        bNewDocumentUpdate): Modified and Editor stay; otherwise they become now and `by`."""
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            override = state.override(index)
            override.version_bump += 1
            if by is not None:
                override.modified_at, override.modified_by = _now(), by
            state.record(self._next_seq(), index)
            return state.item_at(index)

    def rename_item(self, drive_id: str, item_id: str, name: str) -> Item:
        with self.lock:
            state, index, item = self._live(drive_id, item_id)
            if index == 0:
                raise ValueError("the root cannot be renamed")
            self._check_name(state, item.parent_index, name)
            override = state.override(index)
            override.name = name
            override.version_bump += 1
            state.record(self._next_seq(), index)
            return state.item_at(index)

    def move_item(self, drive_id: str, item_id: str, new_parent_id: str) -> Item:
        with self.lock:
            state, index, item = self._live(drive_id, item_id)
            _, parent, parent_item = self._live(drive_id, new_parent_id)
            if index == 0 or not parent_item.folder:
                raise ValueError("only a non-root item can move, and only into a folder")
            if parent == index or parent in state.descendants(index):
                raise ValueError("an item cannot move into itself or its own descendants")
            self._check_name(state, parent, item.name)
            self._freeze_copies(state, index)
            state.attach(index, parent)
            state.override(index).version_bump += 1
            state.record(self._next_seq(), index)
            return state.item_at(index)

    def delete_item(self, drive_id: str, item_id: str) -> list[Item]:
        """Deletes the item and its descendants (they go to the recycle bin one by one)."""
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            if index == 0:
                raise ValueError("the root cannot be deleted")
            doomed = [*state.descendants(index), index]
            for position in doomed:
                state.override(position).deleted = True
                state.record(self._next_seq(), position)
            return [state.item_at(p) for p in doomed]

    def _freeze_copies(self, state: DriveState, index: int) -> None:
        """Snapshots generated grants that copy their parent's, at and below `index`.

        SharePoint copies the parent's permissions when sharing breaks inheritance, and the copy
        does not follow later changes to the parent; a generated item computes its copy on the
        fly, so before anything above it changes, the copy is frozen as it stands.
        """
        todo = [index]
        while todo:
            position = todo.pop()
            sharing = state.own_sharing(position)
            override = state.overrides.get(position)
            if sharing and sharing[0] and (override is None or override.grants is None):
                state.override(position).grants = access.effective_grants(state, position)
                continue
            if sharing and position != index:
                continue  # its own permissions: nothing below depends on what changes here
            todo.extend(state.children_indexes(position))

    def break_inheritance(
        self, drive_id: str, item_id: str, grants: list[Grant] | None = None
    ) -> list[Grant]:
        """Gives the item unique permissions: `grants`, or a copy of what it inherited."""
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            self._freeze_copies(state, index)
            own = list(grants) if grants is not None else access.effective_grants(state, index)
            override = state.override(index)
            override.grants, override.inherits = own, False
            override.version_bump += 1
            state.record(self._next_seq(), index, sharing_changed=True)
            return own

    def restore_inheritance(self, drive_id: str, item_id: str) -> None:
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            if index == 0:
                raise ValueError("a library root always has its own permissions")
            self._freeze_copies(state, index)
            override = state.override(index)
            override.grants, override.inherits = None, True
            override.version_bump += 1
            state.record(self._next_seq(), index, sharing_changed=True)

    def _unique_grants(self, state: DriveState, index: int) -> list[Grant]:
        override = state.overrides.get(index)
        if override is None or override.grants is None:
            return list(access.effective_grants(state, index))
        return list(override.grants)

    def _set_grants(self, state: DriveState, index: int, grants: list[Grant]) -> None:
        self._freeze_copies(state, index)
        override = state.override(index)
        override.grants, override.inherits = grants, False
        override.version_bump += 1
        state.record(self._next_seq(), index, sharing_changed=True)

    def add_grant(
        self, drive_id: str, item_id: str, principal: Principal, roles: tuple[str, ...]
    ) -> Grant:
        """Grants a principal access (breaking inheritance first, as SharePoint does)."""
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            self._check_principal(principal)
            if not roles or set(roles) - {"read", "write", "owner"}:
                raise ValueError("roles must be some of read, write, owner")
            grant = Grant(f"{principal.kind}-{principal.id}", tuple(roles), principal)
            current = [g for g in self._unique_grants(state, index) if g.id != grant.id]
            self._set_grants(state, index, [*current, grant])
            return grant

    def _check_principal(self, principal: Principal) -> None:
        known = {
            "user": lambda: self.user(principal.id) is not None,
            "group": lambda: self.group(principal.id) is not None,
            "everyone": lambda: True,
            "siteGroup": lambda: principal.id in {"3", "4", "5"},
        }
        if principal.kind not in known:
            raise ValueError(f"principal kind must be one of {', '.join(known)}")
        if not known[principal.kind]():
            raise KeyError(f"no {principal.kind} {principal.id}")

    def remove_grant(self, drive_id: str, item_id: str, grant_id: str) -> None:
        with self.lock:
            state, index, _ = self._live(drive_id, item_id)
            current = self._unique_grants(state, index)
            if grant_id not in {g.id for g in current}:
                raise KeyError(f"no permission {grant_id} on item {item_id}")
            self._set_grants(state, index, [g for g in current if g.id != grant_id])

    def create_link(
        self,
        drive_id: str,
        item_id: str,
        scope: str,
        link_type: str,
        grantees: tuple[str, ...] = (),
    ) -> Grant:
        """A sharing link of scope anonymous | organization | users."""
        with self.lock:
            if scope not in LINK_SCOPES or link_type not in LINK_TYPES:
                raise ValueError(f"scope must be one of {LINK_SCOPES}, type one of {LINK_TYPES}")
            people = tuple(self._user_id(g) for g in grantees)
            if scope == "users" and not people:
                raise ValueError("a link for specific people needs at least one grantee")
            state, index, _ = self._live(drive_id, item_id)
            link_id = self.ids.guid("link", drive_id, item_id, self.seq + 1)
            url = f"{self.site_web_url(self.site_of(drive_id))}/:f:/r/{link_id[:13]}"
            grant = Grant(
                link_id, ROLES_BY_LINK[link_type], link=Link(link_type, scope, url, people)
            )
            self._set_grants(state, index, [*self._unique_grants(state, index), grant])
            return grant

    def _user_id(self, id_or_upn: str) -> str:
        user = self.user(id_or_upn)
        if user is None:
            raise KeyError(f"no user {id_or_upn}")
        return user.id

    def _record_directory(self, kind: str, object_id: str) -> int:
        seq = self._next_seq()
        self.directory_journal.append((seq, kind, object_id))
        self._membership_cache.clear()
        return seq

    def add_group_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            group = self.group(group_id)
            if group is None or (self.user(member_id) is None and self.group(member_id) is None):
                raise KeyError(f"no group {group_id} or no member {member_id}")
            member = self.user(member_id).id if self.user(member_id) else member_id
            # A cycle: the new member is the group itself or already (transitively) holds it.
            # Adding a user or group already inside through nesting is allowed, as in Entra.
            if member == group_id or member in self.transitive_groups(group_id):
                raise ValueError("a group cannot contain itself")
            if member not in group.member_ids:
                group.member_ids.append(member)
                seq = self._record_directory("group", group_id)
                self.membership_log.append((seq, group_id, member, True))

    def remove_group_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            group = self.group(group_id)
            user = self.user(member_id)
            member = user.id if user else member_id
            if group is None or member not in group.member_ids:
                raise KeyError(f"{member_id} is not a direct member of group {group_id}")
            group.member_ids.remove(member)
            seq = self._record_directory("group", group_id)
            self.membership_log.append((seq, group_id, member, False))

    def update_user(self, user_id: str, **fields: object) -> User:
        """Changes profile fields (snake_case names of User), e.g. account_enabled=False."""
        with self.lock:
            user = self.user(user_id)
            if user is None:
                raise KeyError(f"no user {user_id}")
            unknown = set(fields) - set(User.__dataclass_fields__) - {"id"}
            if unknown or "id" in fields:
                raise ValueError(f"cannot change {', '.join(sorted(unknown or {'id'}))}")
            updated = replace(user, **fields)
            user.__dict__.update(updated.__dict__)
            # A photo is not a property users delta tracks: a new one shows in no delta.
            if set(fields) - PHOTO_FIELDS:
                self._record_directory("user", user.id)
            return user

    def set_app_roles(self, client_id: str, roles: list[str]) -> None:
        """What an admin consented for an app (revoking consent = fewer roles)."""
        with self.lock:
            if client_id not in self.apps:
                raise KeyError(f"no app {client_id}")
            self.apps[client_id].roles = set(roles)

    def expire_delta_tokens(self) -> None:
        """Every delta token handed out so far answers 410 from now on."""
        with self.lock:
            self.delta_epoch += 1
