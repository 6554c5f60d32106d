"""Directory objects as Graph describes them: users, groups, members, profile photos.

Part of connector.models (which re-exports these); same parsing rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector._parse import Json, odata_kind
from connector._parse import removed_reason as parse_removed_reason


@dataclass(frozen=True)
class User:
    id: str | None
    user_principal_name: str | None
    display_name: str | None
    given_name: str | None
    surname: str | None
    mail: str | None
    job_title: str | None
    department: str | None
    office_location: str | None
    business_phones: tuple[str, ...]
    mobile_phone: str | None
    preferred_language: str | None
    account_enabled: bool | None
    user_type: str | None  # "Member" | "Guest"
    removed_reason: str | None  # delta's "@removed": "changed" (soft) or "deleted" (hard)

    @property
    def removed(self) -> bool:
        return self.removed_reason is not None

    @classmethod
    def from_graph(cls, raw: Json) -> User:
        return cls(
            id=raw.get("id"),
            user_principal_name=raw.get("userPrincipalName"),
            display_name=raw.get("displayName"),
            given_name=raw.get("givenName"),
            surname=raw.get("surname"),
            mail=raw.get("mail"),
            job_title=raw.get("jobTitle"),
            department=raw.get("department"),
            office_location=raw.get("officeLocation"),
            business_phones=tuple(raw.get("businessPhones") or ()),
            mobile_phone=raw.get("mobilePhone"),
            preferred_language=raw.get("preferredLanguage"),
            account_enabled=raw.get("accountEnabled"),
            user_type=raw.get("userType"),
            removed_reason=parse_removed_reason(raw),
        )


@dataclass(frozen=True)
class Member:
    """A member reference from members@delta: who, and what kind of directory object."""

    id: str
    kind: str | None  # "user" | "group" | "device" | ... (from @odata.type)


@dataclass(frozen=True)
class Group:
    id: str | None
    display_name: str | None
    description: str | None
    mail: str | None
    mail_nickname: str | None
    mail_enabled: bool | None
    security_enabled: bool | None
    group_types: tuple[str, ...]
    visibility: str | None
    created_at: str | None
    removed_reason: str | None
    members_added: tuple[Member, ...] = ()  # from members@delta
    members_removed: tuple[Member, ...] = ()

    @property
    def removed(self) -> bool:
        return self.removed_reason is not None

    @property
    def is_microsoft365(self) -> bool:
        return "Unified" in self.group_types

    @classmethod
    def from_graph(cls, raw: Json) -> Group:
        added: list[Member] = []
        removed: list[Member] = []
        for entry in raw.get("members@delta") or ():
            if isinstance(entry, dict) and entry.get("id"):
                member = Member(entry["id"], odata_kind(entry))
                (removed if "@removed" in entry else added).append(member)
        return cls(
            id=raw.get("id"),
            display_name=raw.get("displayName"),
            description=raw.get("description"),
            mail=raw.get("mail"),
            mail_nickname=raw.get("mailNickname"),
            mail_enabled=raw.get("mailEnabled"),
            security_enabled=raw.get("securityEnabled"),
            group_types=tuple(raw.get("groupTypes") or ()),
            visibility=raw.get("visibility"),
            created_at=raw.get("createdDateTime"),
            removed_reason=parse_removed_reason(raw),
            members_added=tuple(added),
            members_removed=tuple(removed),
        )


@dataclass(frozen=True)
class Photo:
    content_type: str
    data: bytes
