"""The emulated tenant's objects, as plain dataclasses.

Glossary:
- *principal*: who a permission is granted to: a user (Entra object id), an Entra group, a
  SharePoint site group (an integer id within its site), or "everyone except external users".
- *grant*: one permission entry on an item (what Graph lists under /permissions): roles plus
  either a principal or a sharing link.
- *unique permissions*: an item that stopped inheriting from its parent keeps its own grants;
  every other item takes the grants of its nearest ancestor with unique permissions, and the
  drive root takes its site's groups.
- *seq*: the tenant-wide change counter; every mutation gets the next seq and delta tokens
  remember the last seq a client has seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

USER = "user"
GROUP = "group"
SITE_GROUP = "siteGroup"
EVERYONE = "everyone"  # "Everyone except external users"

READ, WRITE, OWNER = "read", "write", "owner"


@dataclass(frozen=True)
class Principal:
    kind: str  # USER | GROUP | SITE_GROUP | EVERYONE
    id: str = ""  # oid, group id, or site group number as text; empty for EVERYONE


@dataclass(frozen=True)
class Link:
    type: str  # "view" | "edit"
    scope: str  # "anonymous" | "organization" | "users"
    web_url: str
    grantees: tuple[str, ...] = ()  # user oids, for scope "users"


@dataclass(frozen=True)
class Grant:
    id: str
    roles: tuple[str, ...]
    principal: Principal | None = None
    link: Link | None = None


@dataclass
class User:
    id: str
    user_principal_name: str
    display_name: str
    given_name: str
    surname: str
    mail: str
    job_title: str | None
    department: str | None
    office_location: str | None
    business_phones: list[str]
    mobile_phone: str | None
    manager_id: str | None
    account_enabled: bool = True
    user_type: str = "Member"  # "Member" | "Guest"
    has_photo: bool = False
    photo_version: int = 0  # a new photo uploaded: new bytes, new mediaEtag
    created_at: str = "2020-01-01T00:00:00Z"
    preferred_language: str = "en-GB"
    deleted: bool = False


@dataclass
class Group:
    id: str
    display_name: str
    mail_nickname: str
    description: str
    unified: bool  # a Microsoft 365 group (groupTypes ["Unified"]) rather than a security group
    member_ids: list[str] = field(default_factory=list)  # direct members: user or group ids
    owner_ids: list[str] = field(default_factory=list)
    visibility: str = "Private"
    created_at: str = "2020-01-01T00:00:00Z"
    deleted: bool = False


@dataclass
class SiteGroup:
    """A SharePoint site group such as "Tax Members"; its members are principals."""

    id: int
    title: str
    role: str  # OWNER | WRITE | READ
    members: list[Principal] = field(default_factory=list)


@dataclass
class App:
    """An Entra app registration with the application permissions (roles) an admin consented."""

    client_id: str
    display_name: str
    secret: str
    roles: set[str]
    cert_sha1_thumbprint: str = ""  # hex, upper case; empty when no certificate registered
    cert_pem: bytes = b""
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class Site:
    id: str  # "{hostname},{site collection guid},{web guid}"
    collection_id: str
    web_id: str
    name: str  # last path segment, e.g. "tax"
    path: str  # server-relative, e.g. "/sites/tax"
    display_name: str
    description: str
    created_at: str
    groups: list[SiteGroup]
    group_id: str | None = None  # the Microsoft 365 group behind a team site


@dataclass
class Drive:
    id: str  # "b!..."
    site_id: str
    number: int  # position in the tenant; part of every item id in the drive
    name: str  # "Documents"
    list_id: str  # the document library's list guid
    list_title: str  # "Documents" (library title; its URL segment is url_name)
    url_name: str  # "Shared Documents"
    base_count: int  # generated items, root included (index 0)
    system: bool = False
    created_at: str = "2020-01-01T00:00:00Z"
    owner_group_id: str | None = None


@dataclass(frozen=True)
class Item:
    """The current state of one driveItem (root at index 0)."""

    drive_id: str
    id: str
    index: int
    name: str
    parent_index: int | None
    parent_id: str | None
    folder: bool
    size: int
    created_at: str
    created_by: str  # user oid
    modified_at: str
    modified_by: str
    version: int  # bumps on any change (eTag)
    content_version: int  # bumps on content change only (cTag)
    unique_permissions: bool
    deleted: bool = False

    @property
    def is_root(self) -> bool:
        return self.index == 0

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name and not self.folder else ""

    @property
    def list_item_id(self) -> int:
        """SharePoint list item id: the generated position, 1-based (the root is no list item)."""
        return self.index


@dataclass(frozen=True)
class Change:
    """One entry of a drive's change journal."""

    seq: int
    item_index: int
    sharing_changed: bool = False
