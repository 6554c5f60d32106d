"""Who may open what: the emulator's own permission model, as SharePoint evaluates it.

A user opens an item when any of its effective grants admits them: granted to them, to a group
they are in (nested groups count), to a site group holding either, to "everyone except
external users" (members, not guests), or through a sharing link for the organisation
(members) or for specific people (those people). An anonymous link admits nobody here: it
works for whoever holds the URL, and the emulator cannot know who that is. Disabled and
deleted accounts open nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from connector.emulator.model import EVERYONE, GROUP, SITE_GROUP, USER, Grant, Principal, Site

if TYPE_CHECKING:
    from connector.emulator.drive_state import DriveState
    from connector.emulator.tenant import Tenant


def groups_containing(tenant: Tenant, member_id: str) -> frozenset[str]:
    parents: dict[str, set[str]] = {}
    for group in tenant.groups.values():
        if not group.deleted:
            for member in group.member_ids:
                parents.setdefault(member, set()).add(group.id)
    found: set[str] = set()
    todo = list(parents.get(member_id, ()))
    while todo:
        group_id = todo.pop()
        if group_id not in found:
            found.add(group_id)
            todo.extend(parents.get(group_id, ()))
    return frozenset(found)


def effective_grants(state: DriveState, index: int) -> list[Grant]:
    """Own grants if unique (plus the parent's when the item copied them), else the parent's."""
    sharing = state.own_sharing(index)
    if sharing is None:
        parent = state.parent_index(index)
        return effective_grants(state, parent) if parent is not None else []
    copies_parent, own = sharing
    if not copies_parent:
        return list(own)
    parent = state.parent_index(index)
    inherited = effective_grants(state, parent) if parent is not None else []
    ids = {g.id for g in own}
    return [g for g in inherited if g.id not in ids] + list(own)


def _holder(tenant: Tenant, user_id: str) -> tuple[str, frozenset[str], bool] | None:
    user = tenant.user(user_id)
    if user is None or not user.account_enabled:
        return None
    return user.id, tenant.transitive_groups(user.id), user.user_type == "Member"


def _principal_admits(principal: Principal, holder: tuple[str, frozenset[str], bool]) -> bool:
    user_id, groups, member = holder
    if principal.kind == USER:
        return principal.id == user_id
    if principal.kind == GROUP:
        return principal.id in groups
    return principal.kind == EVERYONE and member


def _grant_admits(site: Site, grant: Grant, holder) -> bool:
    if grant.link is not None:
        if grant.link.scope == "organization":
            return holder[2]
        return grant.link.scope == "users" and holder[0] in grant.link.grantees
    principal = grant.principal
    if principal is None:
        return False
    if principal.kind == SITE_GROUP:
        group = next((g for g in site.groups if str(g.id) == principal.id), None)
        return bool(group) and any(_principal_admits(p, holder) for p in group.members)
    return _principal_admits(principal, holder)


def admits(tenant: Tenant, user_id: str, state: DriveState, grants: list[Grant]) -> bool:
    holder = _holder(tenant, user_id)
    site = state.ctx.site
    return holder is not None and any(_grant_admits(site, g, holder) for g in grants)


def admits_site(tenant: Tenant, user_id: str, site: Site, grant: Grant) -> bool:
    holder = _holder(tenant, user_id)
    return holder is not None and _grant_admits(site, grant, holder)


def visible_in_drive(tenant: Tenant, user_id: str, state: DriveState) -> Iterator[tuple[str, str]]:
    """Every live item of one drive the user can open, deciding each folder only once."""
    holder = _holder(tenant, user_id)
    if holder is None:
        return
    site, decided = state.ctx.site, {}

    def visible(index: int) -> bool:
        if index in decided:
            return decided[index]
        sharing = state.own_sharing(index)
        parent = state.parent_index(index)
        if sharing is None:
            answer = parent is not None and visible(parent)
        else:
            copies_parent, own = sharing
            answer = any(_grant_admits(site, g, holder) for g in own) or (
                copies_parent and parent is not None and visible(parent)
            )
        if item_is_folder.get(index, True):
            decided[index] = answer
        return answer

    item_is_folder: dict[int, bool] = {}
    for item in tenant.iter_items(state.drive.id):
        item_is_folder[item.index] = item.folder
        if visible(item.index):
            yield state.drive.id, item.id
        item_is_folder.pop(item.index, None)
