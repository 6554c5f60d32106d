"""Typed, frozen views of what Graph and SharePoint return; raw JSON stops here.

Each `from_graph(dict)` accepts every shape Microsoft documents: full service answers and the
abbreviated documentation examples (a missing property becomes None, never a KeyError), both
spellings Microsoft itself uses (`hostname`/`hostName`, `grantedToV2`/`grantedTo`,
`innerError`/`innererror`), and ignores properties it does not know.

Glossary: an *identity* is who did or may do something (Entra user or group, app, SharePoint
site user or site group); a *grantee* is an identity named on a permission; a *changes page*
is one HTTP page of a delta round: changed objects, ids of removed ones, and the cursor to
continue (`next_link`) or to start the next round from (`delta_link`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from connector._parse import Json, as_int, as_str, facet, first
from connector.models_directory import Group, Member, Photo, User
from connector.models_sharepoint import Comment, Like, Likes, Person

T = TypeVar("T")

# Preference order when an identity set names several kinds (Entra objects first).
IDENTITY_KINDS = ("user", "group", "application", "device", "siteGroup", "siteUser")
EVERYONE_CLAIM = "spo-grid-all-users"  # loginName of "Everyone except external users"


@dataclass(frozen=True)
class Identity:
    """A user, group, app, device, SharePoint site user or site group."""

    kind: str  # one of IDENTITY_KINDS
    id: str | None
    display_name: str | None = None
    email: str | None = None
    login_name: str | None = None  # SharePoint claim, e.g. "i:0#.f|membership|ada@contoso.com"

    @property
    def is_everyone_except_external(self) -> bool:
        return EVERYONE_CLAIM in (self.login_name or "")

    @classmethod
    def from_graph(cls, identity_set: Json | None) -> Identity | None:
        """The most specific identity in an identitySet / sharePointIdentitySet, or None."""
        if not isinstance(identity_set, dict):
            return None
        site_user = facet(identity_set, "siteUser")
        for kind in IDENTITY_KINDS:
            entry = identity_set.get(kind)
            if isinstance(entry, dict):
                login = entry.get("loginName") or (
                    site_user.get("loginName") if kind in ("user", "group") else None
                )
                return cls(
                    kind,
                    as_str(entry.get("id")),
                    entry.get("displayName"),
                    first(entry, "email", "mail"),
                    login,
                )
        return None


@dataclass(frozen=True)
class Site:
    id: str | None
    name: str | None
    display_name: str | None
    description: str | None
    web_url: str | None
    hostname: str | None
    site_collection_id: str | None
    web_id: str | None
    is_root: bool
    created_at: str | None
    modified_at: str | None

    @classmethod
    def from_graph(cls, raw: Json) -> Site:
        site_id = raw.get("id")
        parts = site_id.split(",") if isinstance(site_id, str) else []
        collection = facet(raw, "siteCollection")
        ids = facet(raw, "sharepointIds")
        return cls(
            id=site_id,
            name=raw.get("name"),
            display_name=raw.get("displayName"),
            description=raw.get("description"),
            web_url=raw.get("webUrl"),
            hostname=first(collection, "hostname", "hostName") or (parts[0] if parts else None),
            site_collection_id=ids.get("siteId") or (parts[1] if len(parts) == 3 else None),
            web_id=ids.get("webId") or (parts[2] if len(parts) == 3 else None),
            is_root="root" in raw,
            created_at=raw.get("createdDateTime"),
            modified_at=raw.get("lastModifiedDateTime"),
        )


@dataclass(frozen=True)
class Drive:
    id: str | None
    name: str | None
    description: str | None
    drive_type: str | None  # "documentLibrary" | "business" | "personal"
    web_url: str | None
    owner: Identity | None
    created_at: str | None
    modified_at: str | None
    quota_total: int | None
    quota_used: int | None
    system: bool

    @classmethod
    def from_graph(cls, raw: Json) -> Drive:
        quota = facet(raw, "quota")
        return cls(
            id=raw.get("id"),
            name=raw.get("name"),
            description=raw.get("description"),
            drive_type=raw.get("driveType"),
            web_url=raw.get("webUrl"),
            owner=Identity.from_graph(raw.get("owner")),
            created_at=raw.get("createdDateTime"),
            modified_at=raw.get("lastModifiedDateTime"),
            quota_total=as_int(quota.get("total")),
            quota_used=as_int(quota.get("used")),
            system="system" in raw,
        )


@dataclass(frozen=True)
class DriveItem:
    """A file, folder or package in a document library, as delta or GET describes it."""

    id: str | None
    drive_id: str | None
    name: str | None
    parent_id: str | None
    is_folder: bool
    is_package: bool
    is_root: bool
    deleted: bool
    size: int | None
    etag: str | None
    ctag: str | None  # content tag; never present on folders in SharePoint
    web_url: str | None
    created_at: str | None
    modified_at: str | None
    created_by: Identity | None
    modified_by: Identity | None
    mime_type: str | None
    quick_xor_hash: str | None
    child_count: int | None
    site_id: str | None
    list_id: str | None  # with list_item_id: the bridge to SharePoint REST comments/likes
    list_item_id: int | None
    list_item_unique_id: str | None
    site_url: str | None
    shared: bool  # a `shared` facet is present (with hierarchicalsharing: unique permissions)
    shared_scope: str | None
    sharing_changed: bool  # "@microsoft.graph.sharedChanged": "True" (deltashowsharingchanges)

    @property
    def is_file(self) -> bool:
        return not (self.is_folder or self.is_root or self.deleted)

    @classmethod
    def from_graph(cls, raw: Json, drive_id: str | None = None) -> DriveItem:
        parent = facet(raw, "parentReference")
        ids = facet(raw, "sharepointIds")
        file = facet(raw, "file")
        changed = first(raw, "@microsoft.graph.sharedChanged", "@oneDrive.sharedChanged")
        return cls(
            id=raw.get("id"),
            drive_id=parent.get("driveId") or drive_id,
            name=raw.get("name"),
            parent_id=parent.get("id"),
            is_folder="folder" in raw or "root" in raw,
            is_package="package" in raw,
            is_root="root" in raw,
            deleted="deleted" in raw,
            size=as_int(raw.get("size")),
            etag=raw.get("eTag"),
            ctag=raw.get("cTag"),
            web_url=raw.get("webUrl"),
            created_at=raw.get("createdDateTime"),
            modified_at=raw.get("lastModifiedDateTime"),
            created_by=Identity.from_graph(raw.get("createdBy")),
            modified_by=Identity.from_graph(raw.get("lastModifiedBy")),
            mime_type=file.get("mimeType"),
            quick_xor_hash=facet(file, "hashes").get("quickXorHash"),
            child_count=as_int(facet(raw, "folder").get("childCount")),
            site_id=ids.get("siteId") or parent.get("siteId"),
            list_id=ids.get("listId"),
            list_item_id=as_int(ids.get("listItemId")),
            list_item_unique_id=ids.get("listItemUniqueId"),
            site_url=ids.get("siteUrl"),
            shared="shared" in raw,
            shared_scope=facet(raw, "shared").get("scope"),
            sharing_changed=str(changed).lower() == "true",
        )


@dataclass(frozen=True)
class SharingLink:
    type: str | None  # "view" | "edit" | "embed" | ...
    scope: str | None  # "anonymous" | "organization" | "users" | "existingAccess"
    web_url: str | None
    prevents_download: bool


@dataclass(frozen=True)
class Permission:
    """One entry of an item's permissions: roles for grantees, directly or via a link."""

    id: str | None
    roles: tuple[str, ...]
    grantees: tuple[Identity, ...]
    link: SharingLink | None
    inherited_from_id: str | None
    expires_at: str | None
    has_password: bool
    invitation_email: str | None

    @classmethod
    def from_graph(cls, raw: Json) -> Permission:
        grantees: list[Identity] = []
        single = first(raw, "grantedToV2", "grantedTo")
        many = first(raw, "grantedToIdentitiesV2", "grantedToIdentities") or []
        for identity_set in [single, *many]:
            identity = Identity.from_graph(identity_set)
            if identity and identity not in grantees:
                grantees.append(identity)
        link = facet(raw, "link")
        return cls(
            id=raw.get("id"),
            roles=tuple(raw.get("roles") or ()),
            grantees=tuple(grantees),
            link=SharingLink(
                link.get("type"),
                link.get("scope"),
                link.get("webUrl"),
                bool(link.get("preventsDownload")),
            )
            if link
            else None,
            inherited_from_id=facet(raw, "inheritedFrom").get("id"),
            expires_at=raw.get("expirationDateTime"),
            has_password=bool(raw.get("hasPassword")),
            invitation_email=facet(raw, "invitation").get("email"),
        )


@dataclass(frozen=True)
class ChangesPage(Generic[T]):
    """One page of a delta round; exactly one of next_link / delta_link is set."""

    items: tuple[T, ...]
    deleted_ids: tuple[str, ...]
    next_link: str | None
    delta_link: str | None

    @property
    def last(self) -> bool:
        return self.delta_link is not None

    @classmethod
    def from_objects(
        cls, objects: Iterable[T], page: Json, removed: Callable[[T], bool]
    ) -> ChangesPage[T]:
        """A page from its parsed objects: the last occurrence of an id wins (delta feeds may
        repeat an object), and removed objects become `deleted_ids`. An object without an id
        (the abbreviated documentation examples) is kept as it is, never merged or dropped."""
        latest: dict[object, tuple[str | None, T]] = {}
        for position, obj in enumerate(objects):
            obj_id = getattr(obj, "id", None)
            key = ("no id", position) if obj_id is None else obj_id
            latest.pop(key, None)  # re-insert so the order follows the last occurrence
            latest[key] = (obj_id, obj)
        return cls(
            items=tuple(obj for _, obj in latest.values() if not removed(obj)),
            deleted_ids=tuple(i for i, obj in latest.values() if i is not None and removed(obj)),
            next_link=page.get("@odata.nextLink"),
            delta_link=page.get("@odata.deltaLink"),
        )


@dataclass(frozen=True)
class ErrorInfo:
    """Graph's error envelope: {"error": {"code", "message", "innerError": {...}}}."""

    code: str | None
    message: str | None
    request_id: str | None
    detailed_code: str | None  # the innermost innerError code (drive APIs nest them)

    @classmethod
    def from_graph(cls, raw: Any) -> ErrorInfo:
        if not isinstance(raw, dict):
            return cls(None, None, None, None)
        error = first(raw, "error", "odata.error")  # SharePoint nometadata: "odata.error"
        if not isinstance(error, dict):  # OAuth style: {"error": "invalid_client", ...}
            description = raw.get("error_description")  # SharePoint 401s carry only this
            return cls(as_str(error), description, raw.get("correlation_id"), None)
        inner = error
        detailed = None
        request_id = None
        while isinstance(inner := first(inner, "innerError", "innererror"), dict):
            request_id = request_id or first(inner, "request-id", "requestId")
            detailed = inner.get("code") or detailed
        message = error.get("message")
        if isinstance(message, dict):  # SharePoint: {"lang": "en-US", "value": "..."}
            message = message.get("value")
        return cls(error.get("code"), message, request_id, detailed)


__all__ = [
    "ChangesPage",
    "Comment",
    "Drive",
    "DriveItem",
    "ErrorInfo",
    "Group",
    "Identity",
    "Like",
    "Likes",
    "Member",
    "Permission",
    "Person",
    "Photo",
    "SharingLink",
    "Site",
    "User",
]
