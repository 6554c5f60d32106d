"""Who a permission admits, as the index's principal keys (sync/schema.py lists them).

Pure functions: Graph permissions (connector.models.Permission) and SharePoint claims become
keys like "user:{oid}", "group:{id}", "sitegroup:{site id}:{n}", "everyone",
"link:organization", "link:anonymous". Anything that cannot be mapped to a known principal is
dropped: dropping a grant can only hide an item from someone, never show it (fail closed).

`resolve_upn(upn) -> oid | None` turns a person's claim (`i:0#.f|membership|{upn}`) into their
Entra object id; an unknown person is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from connector.models import EVERYONE_CLAIM, Identity, Permission

ResolveUpn = Callable[[str], "str | None"]

GRANT, LINK = "grant", "link"
EVERYONE = "everyone"
ORGANIZATION_LINK, ANONYMOUS_LINK = "link:organization", "link:anonymous"
ROLE_RANK = {"read": 1, "write": 2, "owner": 3}
USER_CLAIM = "i:0#.f|membership|"
SECURITY_GROUP_CLAIM = "c:0t.c|tenant|"
UNIFIED_GROUP_CLAIM = "c:0o.c|federateddirectoryclaimprovider|"
# "Everyone" (members and guests). Mapped to "everyone" (members only): a guest admitted only
# this way is not shown the item, which errs on the closed side.
EVERYONE_INCLUDING_GUESTS_CLAIM = "c:0(.s|true"


@dataclass(frozen=True)
class AclEntry:
    """One row of an item's ACL: a principal, its strongest role, and how it was granted."""

    principal: str
    role: str
    via: str = GRANT  # GRANT (direct or site group) | LINK (a sharing link)


def user_key(oid: str) -> str:
    return f"user:{oid}"


def group_key(group_id: str) -> str:
    return f"group:{group_id}"


def site_group_key(site_id: str, number: int | str) -> str:
    return f"sitegroup:{site_id}:{number}"


def principal_of_claim(login_name: str | None, resolve_upn: ResolveUpn) -> str | None:
    """The principal key for a SharePoint claim (a site user's or group member's LoginName)."""
    if not login_name:
        return None
    claim = login_name.strip()
    lowered = claim.lower()
    if EVERYONE_CLAIM in lowered or lowered == EVERYONE_INCLUDING_GUESTS_CLAIM:
        return EVERYONE
    if lowered.startswith(USER_CLAIM):
        oid = resolve_upn(claim[len(USER_CLAIM) :])
        return user_key(oid) if oid else None
    if lowered.startswith(SECURITY_GROUP_CLAIM):
        return group_key(claim[len(SECURITY_GROUP_CLAIM) :])
    if lowered.startswith(UNIFIED_GROUP_CLAIM):
        group_id = claim[len(UNIFIED_GROUP_CLAIM) :]
        # "{id}_o" names the group's owners, which the index does not track: dropped.
        return None if group_id.endswith("_o") else group_key(group_id)
    return None


def principal_of_identity(identity: Identity, site_id: str, resolve_upn: ResolveUpn) -> str | None:
    """The principal key for a grantee named by a Graph permission."""
    if identity.kind == "user" and identity.id:
        return user_key(identity.id)
    if identity.kind == "group" and identity.id:
        return group_key(identity.id)
    if identity.kind == "siteGroup" and identity.id:
        return site_group_key(site_id, identity.id)
    if identity.kind in ("user", "group", "siteUser"):
        return principal_of_claim(identity.login_name, resolve_upn)
    return None  # applications and devices open nothing for a person


def entries_of_permission(
    permission: Permission, site_id: str, resolve_upn: ResolveUpn
) -> list[AclEntry]:
    role = strongest_role(permission.roles)
    link = permission.link
    if link is not None:
        if link.scope == "organization":
            return [AclEntry(ORGANIZATION_LINK, role, LINK)]
        if link.scope == "anonymous":
            return [AclEntry(ANONYMOUS_LINK, role, LINK)]
        if link.scope != "users":  # existingAccess and unknown scopes admit nobody new
            return []
        via = LINK
    else:
        via = GRANT
    keys = (principal_of_identity(g, site_id, resolve_upn) for g in permission.grantees)
    return [AclEntry(key, role, via) for key in keys if key]


def acl_of(
    permissions: Iterable[Permission], site_id: str, resolve_upn: ResolveUpn
) -> list[AclEntry]:
    """An item's ACL from its permissions: one entry per (principal, via), strongest role."""
    best: dict[tuple[str, str], AclEntry] = {}
    for permission in permissions:
        for entry in entries_of_permission(permission, site_id, resolve_upn):
            key = (entry.principal, entry.via)
            held = best.get(key)
            if held is None or _rank(entry.role) > _rank(held.role):
                best[key] = entry
    return sorted(best.values(), key=lambda e: (e.principal, e.via))


def strongest_role(roles: Iterable[str]) -> str:
    ranked = sorted((r.lower() for r in roles), key=_rank, reverse=True)
    return ranked[0] if ranked else "read"


def _rank(role: str) -> int:
    return ROLE_RANK.get(role.lower().removeprefix("sp."), 0)
