"""SharePoint REST social objects: comments (with replies) and likes of pages and list items.

Part of connector.models (which re-exports these). Parsers accept the plain JSON of
`odata=nometadata` and the verbose `{"d": ...}` form with `{"results": [...]}` collections;
field names follow SharePoint's Microsoft.SharePoint.Comments.comment and
Microsoft.SharePoint.Likes.userEntity (PROTOCOL.md 6.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector._parse import Json, as_int, as_str, first


def unwrap(raw: Any) -> Any:
    """Strips the verbose envelope: {"d": x} -> x and {"results": [...]} -> [...]."""
    if isinstance(raw, dict) and set(raw) == {"d"}:
        raw = raw["d"]
    if isinstance(raw, dict) and "results" in raw and isinstance(raw["results"], list):
        return raw["results"]
    return raw


def collection(raw: Any) -> list[Json]:
    """The elements of a SharePoint collection in any of its JSON forms."""
    raw = unwrap(raw)
    if isinstance(raw, dict):
        raw = unwrap(raw.get("value", []))
    return [entry for entry in raw or () if isinstance(entry, dict)]


@dataclass(frozen=True)
class Person:
    """Someone named by SharePoint: a comment author, a liker, a mention."""

    name: str | None
    email: str | None
    login_name: str | None  # "i:0#.f|membership|ada@contoso.com"
    site_user_id: int | None  # the user's id in the site's user list

    @classmethod
    def from_sharepoint(cls, raw: Any) -> Person | None:
        raw = unwrap(raw)
        if not isinstance(raw, dict):
            return None
        return cls(
            name=first(raw, "name", "Title"),
            email=first(raw, "email", "Email"),
            login_name=first(raw, "loginName", "LoginName"),
            site_user_id=as_int(first(raw, "id", "Id", "userId")),
        )


@dataclass(frozen=True)
class Like:
    person: Person
    liked_at: str | None

    @classmethod
    def from_sharepoint(cls, raw: Json) -> Like | None:
        person = Person.from_sharepoint(raw)
        return cls(person, first(raw, "creationDate", "CreationDate")) if person else None


@dataclass(frozen=True)
class Likes:
    """Who liked a page or list item (likedByInformation)."""

    count: int
    liked_by: tuple[Like, ...]
    is_liked_by_user: bool | None

    @classmethod
    def from_sharepoint(cls, raw: Any) -> Likes:
        raw = unwrap(raw) or {}
        likes = tuple(
            like
            for entry in collection(first(raw, "likedBy", "LikedBy") or [])
            if (like := Like.from_sharepoint(entry))
        )
        count = as_int(first(raw, "likeCount", "LikeCount"))
        return cls(len(likes) if count is None else count, likes, raw.get("isLikedByUser"))


@dataclass(frozen=True)
class Comment:
    """A comment on a page or list item, with its replies and likers when expanded."""

    id: str | None
    text: str | None
    author: Person | None
    created_at: str | None
    modified_at: str | None
    is_reply: bool
    parent_id: str | None  # "0" in SharePoint for top-level comments
    item_id: int | None
    list_id: str | None
    like_count: int
    reply_count: int
    liked_by: tuple[Person, ...]
    replies: tuple[Comment, ...]
    mentions: tuple[Person, ...]

    @classmethod
    def from_sharepoint(cls, raw: Any) -> Comment:
        raw = unwrap(raw)
        liked_by = tuple(
            p for e in collection(raw.get("likedBy") or []) if (p := Person.from_sharepoint(e))
        )
        mentions = tuple(
            p for e in collection(raw.get("mentions") or []) if (p := Person.from_sharepoint(e))
        )
        replies = tuple(cls.from_sharepoint(e) for e in collection(raw.get("replies") or []))
        return cls(
            id=as_str(raw.get("id")),
            text=raw.get("text"),
            author=Person.from_sharepoint(raw.get("author")),
            created_at=raw.get("createdDate"),
            modified_at=raw.get("modifiedDate"),
            is_reply=bool(raw.get("isReply")),
            parent_id=as_str(raw.get("parentId")),
            item_id=as_int(raw.get("itemId")),
            list_id=as_str(raw.get("listId")),
            like_count=as_int(raw.get("likeCount")) or len(liked_by),
            reply_count=as_int(raw.get("replyCount")) or len(replies),
            liked_by=liked_by,
            replies=replies,
            mentions=mentions,
        )
