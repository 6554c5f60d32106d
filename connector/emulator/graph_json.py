"""Tenant objects as Microsoft Graph JSON: site, drive, driveItem, permission.

Shapes follow what OneDrive for Business and SharePoint document libraries return (PROTOCOL.md
1.1 and 2.1-2.2): ODB tag formats (`"{GUID},N"`), no `cTag` on folders, no `inheritedFrom` on
permissions, `sharepointIds` only when selected. Shared by the Graph files endpoints and the
SharePoint REST helper, so both describe an item the same way.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from connector.emulator.model import EVERYONE, GROUP, SITE_GROUP, USER, Drive, Grant, Item, Site
from connector.emulator.site_users import principal_key

if TYPE_CHECKING:
    from connector.emulator.tenant import Tenant

DRIVE_TYPE = "documentLibrary"
QUOTA_TOTAL = 27_487_790_694_400  # 25 TB, a SharePoint site's default storage
EVERYONE_NAME = "Everyone except external users"
DEPRECATED_GRANTED_TO = "GrantedTo has been deprecated. Refer to GrantedToV2"
DEPRECATED_IDENTITIES = "GrantedToIdentities has been deprecated. Refer to GrantedToIdentitiesV2"

# What Graph returns without $select; anything else (sharepointIds, ...) only when selected.
ITEM_DEFAULT_FIELDS = frozenset(
    {
        "createdby",
        "createddatetime",
        "etag",
        "id",
        "lastmodifiedby",
        "lastmodifieddatetime",
        "name",
        "parentreference",
        "weburl",
        "ctag",
        "file",
        "filesysteminfo",
        "folder",
        "root",
        "shared",
        "size",
        "deleted",
    }
)

OPENXML = "application/vnd.openxmlformats-officedocument."
MIME_TYPES = {
    "docx": OPENXML + "wordprocessingml.document",
    "xlsx": OPENXML + "spreadsheetml.sheet",
    "pptx": OPENXML + "presentationml.presentation",
    "pdf": "application/pdf",
    "msg": "application/vnd.ms-outlook",
    "txt": "text/plain",
    "csv": "text/csv",
    "png": "image/png",
    "jpg": "image/jpeg",
}


# -- identities ----------------------------------------------------------------------------


def user_identity(tenant: Tenant, user_id: str) -> dict[str, Any]:
    """Graph's identity of a user; deleted users keep their name, as on old items."""
    user = tenant.users.get(user_id)
    if user is None:
        return {"displayName": "System Account"}
    return {"email": user.mail, "id": user.id, "displayName": user.display_name}


def identity_set(tenant: Tenant, user_id: str) -> dict[str, Any]:
    return {"user": user_identity(tenant, user_id)}


def site_user_id(tenant: Tenant, site: Site, kind: str, principal_id: str) -> str:
    """The principal's id in the site's User Information List (what SharePoint REST shows too)."""
    return str(tenant.site_users(site).number(principal_key(kind, principal_id)))


def login_name(tenant: Tenant, kind: str, principal_id: str) -> str:
    """SharePoint's claims login name of a user, Entra group or everyone."""
    if kind == USER:
        user = tenant.users.get(principal_id)
        upn = user.user_principal_name.lower() if user else principal_id
        return f"i:0#.f|membership|{upn}"
    if kind == GROUP:
        group = tenant.groups.get(principal_id)
        if group is not None and group.unified:
            return f"c:0o.c|federateddirectoryclaimprovider|{principal_id}"
        return f"c:0t.c|tenant|{principal_id}"
    return f"c:0-.f|rolemanager|spo-grid-all-users/{tenant.tenant_id}"


# -- sites and drives ----------------------------------------------------------------------


def hostname(tenant: Tenant) -> str:
    return urlsplit(tenant.base_url).hostname or "localhost"


def site_json(tenant: Tenant, site: Site) -> dict[str, Any]:
    # Every generated site is the root web of its own site collection, hence `root` and
    # `siteCollection` on each (as GET /sites lists them).
    return {
        "createdDateTime": site.created_at,
        "description": site.description,
        "id": site.id,
        "lastModifiedDateTime": site.created_at,
        "name": site.name or site.display_name,
        "webUrl": tenant.site_web_url(site),
        "displayName": site.display_name,
        "root": {},
        "siteCollection": {"hostname": hostname(tenant)},
        "sharepointIds": {
            "siteId": site.collection_id,
            "siteUrl": tenant.site_web_url(site),
            "tenantId": tenant.tenant_id,
            "webId": site.web_id,
        },
    }


def drive_web_url(tenant: Tenant, site: Site, drive: Drive) -> str:
    return tenant.site_web_url(site) + "/" + quote(drive.url_name)


def drive_owner(tenant: Tenant, drive: Drive, site: Site) -> dict[str, Any]:
    group = tenant.groups.get(drive.owner_group_id or site.group_id or "")
    if group is not None:
        return {
            "group": {
                "email": f"{group.mail_nickname}@{tenant.domain}",
                "id": group.id,
                "displayName": group.display_name,
            }
        }
    return {"user": {"displayName": "System Account"}}


def drive_json(
    tenant: Tenant, drive: Drive, site: Site, used: int, with_system: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "createdDateTime": drive.created_at,
        "description": "",
        "id": drive.id,
        "lastModifiedDateTime": drive.created_at,
        "name": drive.name,
        "webUrl": drive_web_url(tenant, site, drive),
        "driveType": DRIVE_TYPE,
        "createdBy": {"user": {"displayName": "System Account"}},
        "owner": drive_owner(tenant, drive, site),
        "quota": {
            "deleted": 0,
            "remaining": QUOTA_TOTAL - used,
            "state": "normal",
            "total": QUOTA_TOTAL,
            "used": used,
        },
    }
    if with_system and drive.system:
        body["system"] = {}
    return body


# -- driveItems ----------------------------------------------------------------------------


def item_guid(tenant: Tenant, drive: Drive, item: Item) -> str:
    return tenant.spec.ids.item_guid(drive.number, item.index)


def etag(tenant: Tenant, drive: Drive, item: Item) -> str:
    return f'"{{{item_guid(tenant, drive, item)}}},{item.version}"'


def ctag(tenant: Tenant, drive: Drive, item: Item) -> str:
    return f'"c:{{{item_guid(tenant, drive, item)}}},{item.content_version}"'


def quick_xor_hash(tenant: Tenant, drive: Drive, item: Item) -> str:
    """A stable stand-in for the content's quickXorHash (base64 of 20 bytes) per content version."""
    seed = f"{tenant.spec.seed}|{drive.number}|{item.index}|{item.content_version}|{item.size}"
    return base64.b64encode(hashlib.sha1(seed.encode()).digest()).decode()


def mime_type(item: Item) -> str:
    return MIME_TYPES.get(item.extension, "application/octet-stream")


def item_web_url(tenant: Tenant, site: Site, drive: Drive, item: Item) -> str:
    return drive_web_url(tenant, site, drive) + quote(tenant.path_of(item))


def sharepoint_ids(tenant: Tenant, site: Site, drive: Drive, item: Item) -> dict[str, Any]:
    ids: dict[str, Any] = {"listId": drive.list_id}
    if not item.is_root:  # the library root is no list item
        ids["listItemId"] = str(item.list_item_id)
        ids["listItemUniqueId"] = item_guid(tenant, drive, item).lower()
    ids.update(
        siteId=site.collection_id,
        siteUrl=tenant.site_web_url(site),
        tenantId=tenant.tenant_id,
        webId=site.web_id,
    )
    return ids


def parent_reference(
    site: Site, drive: Drive, item: Item, parent_path: str | None
) -> dict[str, Any]:
    """itemReference to the parent, with its `path` (below the root) when given: delta leaves
    `path` out, because renaming a folder does not re-emit its descendants."""
    ref: dict[str, Any] = {"driveType": DRIVE_TYPE, "driveId": drive.id}
    if item.is_root:
        return ref
    ref["id"] = item.parent_id
    if parent_path is not None:
        ref["name"] = parent_path.rsplit("/", 1)[-1] or "root"
        ref["path"] = f"/drives/{drive.id}/root:{quote(parent_path)}"
    ref["siteId"] = site.id
    return ref


def item_json(
    tenant: Tenant,
    site: Site,
    drive: Drive,
    item: Item,
    *,
    child_count: int,
    shared: dict[str, Any] | None,
    in_delta: bool = False,
    path: str | None = None,
) -> dict[str, Any]:
    """A live driveItem in ODB's shape (the caller decides `shared` and counts children).

    `path` is the item's path below the root when the caller already knows it.
    """
    path = tenant.path_of(item) if path is None else path
    parent_path = None if in_delta else path.rsplit("/", 1)[0]
    body: dict[str, Any] = {
        "createdBy": identity_set(tenant, item.created_by),
        "createdDateTime": item.created_at,
        "eTag": etag(tenant, drive, item),
        "id": item.id,
        "lastModifiedBy": identity_set(tenant, item.modified_by),
        "lastModifiedDateTime": item.modified_at,
        "name": item.name,
        "parentReference": parent_reference(site, drive, item, parent_path),
        "webUrl": drive_web_url(tenant, site, drive) + quote(path),
    }
    if not item.folder:
        # ODB: no cTag on folders; delta on ODB omits cTag altogether (driveitem-delta.md).
        if not in_delta:
            body["cTag"] = ctag(tenant, drive, item)
        body["file"] = {
            "hashes": {"quickXorHash": quick_xor_hash(tenant, drive, item)},
            "mimeType": mime_type(item),
        }
    body["fileSystemInfo"] = {
        "createdDateTime": item.created_at,
        "lastModifiedDateTime": item.modified_at,
    }
    if item.folder:
        body["folder"] = {"childCount": child_count}
    if item.is_root:
        body["root"] = {}
    if shared is not None:
        body["shared"] = shared
    body["size"] = item.size
    body["sharepointIds"] = sharepoint_ids(tenant, site, drive, item)
    return body


def tombstone_json(drive: Drive, item: Item) -> dict[str, Any]:
    """A deleted item as ODB's delta reports it: no name, no cTag, size 0 (PROTOCOL 1.1)."""
    body: dict[str, Any] = {
        "id": item.id,
        "parentReference": {"driveId": drive.id, "driveType": DRIVE_TYPE},
    }
    if item.parent_id:
        body["parentReference"]["id"] = item.parent_id
    body["folder" if item.folder else "file"] = {}
    body["deleted"] = {"state": "deleted"}
    body["size"] = 0
    return body


def select_item(body: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Apply $select: default properties without it; `*` means the defaults plus named extras."""
    if not fields:
        wanted = ITEM_DEFAULT_FIELDS
    else:
        wanted = {f.lower() for f in fields}
        if "*" in wanted:
            wanted |= ITEM_DEFAULT_FIELDS
    return {k: v for k, v in body.items() if k.startswith("@") or k == "id" or k.lower() in wanted}


# -- sharing -------------------------------------------------------------------------------


def sharing_scope(grants: list[Grant]) -> str | None:
    """The `shared.scope` of an item with these effective grants, or None if not shared.

    Emulator rule: an item is shared when anything beyond the site's own groups can open it,
    i.e. a sharing link or a direct grant to a user, an Entra group or everyone. The widest
    audience wins: anonymous > organization > users.
    """
    scopes = set()
    for grant in grants:
        if grant.link is not None:
            scopes.add(grant.link.scope)
        elif grant.principal is not None and grant.principal.kind == EVERYONE:
            scopes.add("organization")
        elif grant.principal is not None and grant.principal.kind in (USER, GROUP):
            scopes.add("users")
    for scope in ("anonymous", "organization", "users"):
        if scope in scopes:
            return scope
    return None


# -- permissions ---------------------------------------------------------------------------


def site_user(
    tenant: Tenant, site: Site, kind: str, principal_id: str, display_name: str
) -> dict[str, Any]:
    return {
        "displayName": display_name,
        "id": site_user_id(tenant, site, kind, principal_id),
        "loginName": login_name(tenant, kind, principal_id),
    }


def user_identity_set_v2(tenant: Tenant, site: Site, user_id: str) -> dict[str, Any]:
    identity = user_identity(tenant, user_id)
    name = identity["displayName"]
    return {"user": identity, "siteUser": site_user(tenant, site, USER, user_id, name)}


def permission_json(tenant: Tenant, site: Site, grant: Grant) -> dict[str, Any]:
    """One entry of /permissions; ODB leaves out `inheritedFrom` (permission list remarks)."""
    body: dict[str, Any] = {"id": grant.id}
    if grant.link is not None:
        link = grant.link
        body["roles"] = list(grant.roles)
        encoded = base64.urlsafe_b64encode(link.web_url.encode()).decode().rstrip("=")
        body["shareId"] = "u!" + encoded
        body["hasPassword"] = False
        if link.scope == "users":
            body["@deprecated.GrantedToIdentities"] = DEPRECATED_IDENTITIES
            body["grantedToIdentities"] = [identity_set(tenant, u) for u in link.grantees]
            body["grantedToIdentitiesV2"] = [
                user_identity_set_v2(tenant, site, u) for u in link.grantees
            ]
        body["link"] = {
            "scope": link.scope,
            "type": link.type,
            "webUrl": link.web_url,
            "preventsDownload": False,
        }
        return body
    principal = grant.principal
    body["roles"] = list(grant.roles)
    if principal is None:
        return body
    if principal.kind == SITE_GROUP:
        group = next((g for g in site.groups if str(g.id) == principal.id), None)
        title = group.title if group else f"Group {principal.id}"
        body["grantedToV2"] = {
            "siteGroup": {"displayName": title, "id": principal.id, "loginName": title}
        }
    elif principal.kind == USER:
        body["@deprecated.GrantedTo"] = DEPRECATED_GRANTED_TO
        body["grantedTo"] = identity_set(tenant, principal.id)
        body["grantedToV2"] = user_identity_set_v2(tenant, site, principal.id)
    elif principal.kind == GROUP:
        group = tenant.groups.get(principal.id)
        name = group.display_name if group else principal.id
        email = f"{group.mail_nickname}@{tenant.domain}" if group else None
        body["grantedToV2"] = {
            "group": {"email": email, "id": principal.id, "displayName": name},
            "siteUser": site_user(tenant, site, GROUP, principal.id, name),
        }
    elif principal.kind == EVERYONE:
        body["grantedToV2"] = {"siteUser": site_user(tenant, site, EVERYONE, "", EVERYONE_NAME)}
    return body
