"""Reading a document's discussion: its comment threads, likes and who wrote what.

The caller has already passed the access check for the document (access.require_document or
access.require_comment): everything here is about one visible document. Threads nest to any
depth in the store; what is shown nests at most MAX_NESTING levels and deeper replies are listed
under their ancestor at that level (each keeps its true parentId), so a very long chain of
replies can never exhaust the template engine's or the JSON encoder's recursion.

A deleted comment that still has (visible) replies shows as "comment deleted" with its body and
author removed; without replies it disappears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from overlay_app import db
from overlay_app.access import Document
from overlay_app.discussion import store
from overlay_app.identity import ERASED_PERSON
from sync import directory

MAX_NESTING = 24


def now() -> str:
    """The time of a write, as stored: UTC, ISO 8601 with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class CommentNode:
    id: str
    drive_id: str
    item_id: str
    parent_id: str | None
    author_id: str | None
    author_name: str | None
    body: str
    body_html: str
    created_at: str
    edited_at: str | None
    deleted: bool
    like_count: int
    liked_by_me: bool
    likers: list[PersonRef] = field(default_factory=list)  # earliest like first
    replies: list[CommentNode] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        author = None
        if self.author_id is not None:
            author = {"id": self.author_id, "displayName": self.author_name}
        return {
            "id": self.id,
            "documentId": {"driveId": self.drive_id, "itemId": self.item_id},
            "parentId": self.parent_id,
            "author": author,
            "bodyHtml": self.body_html,
            "body": self.body,
            "createdAt": self.created_at,
            "editedAt": self.edited_at,
            "deleted": self.deleted,
            "likeCount": self.like_count,
            "likedByMe": self.liked_by_me,
            "replies": [reply.to_json() for reply in self.replies],
        }


@dataclass(frozen=True)
class PersonRef:
    id: str
    display_name: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "displayName": self.display_name}


@dataclass
class Discussion:
    """What templates/_discussion.html needs besides `document` (see comments.py)."""

    drive_id: str
    item_id: str
    viewer_id: str
    read_only: bool  # archived: deleted in SharePoint
    comments: list[CommentNode]  # top-level comments, oldest first, replies nested
    comment_count: int  # live (not deleted) comments, replies included
    like_count: int
    liked_by_me: bool
    likers: list[PersonRef]

    def live(self, comment_id: Any) -> CommentNode | None:
        """A shown, not deleted comment of this discussion by id (None for anything else)."""
        node = find(self.comments, comment_id) if isinstance(comment_id, str) else None
        return node if node is not None and not node.deleted else None


def display_names(person_ids: Iterable[str]) -> dict[str, str]:
    """Directory names of people by object id (from the index); unknown ids are left out."""
    return directory.display_names(db.index(), person_ids)


def name_of(person_id: str, names: dict[str, str]) -> str:
    if person_id == ERASED_PERSON:
        return "Deleted person"
    return names.get(person_id) or "Former colleague"


def load_nodes(viewer_id: str, drive_id: str, item_id: str) -> list[CommentNode]:
    """Every comment of the document (deleted ones too), oldest first, not yet nested."""
    return _fetch(viewer_id, drive_id, item_id, with_document_likes=False)[0]


def _fetch(
    viewer_id: str, drive_id: str, item_id: str, with_document_likes: bool
) -> tuple[list[CommentNode], list[PersonRef]]:
    """The comments (see load_nodes) and, if asked, who liked the document: a handful of
    queries however long the discussion (comments, every like on them and on the document,
    and one lookup of everyone's name)."""
    social = db.social()
    rows = store.document_comments(social, drive_id, item_id)
    if with_document_likes:
        likes, fans = store.every_like(social, drive_id, item_id)
    else:
        likes, fans = store.document_comment_likes(social, drive_id, item_id), []
    names = display_names([row[2] for row in rows] + [pid for _, pid in likes] + fans)
    likers: dict[str, list[PersonRef]] = {}
    for comment_id, person_id in likes:
        likers.setdefault(comment_id, []).append(PersonRef(person_id, name_of(person_id, names)))
    nodes = []
    for cid, parent, author, body, html, created, edited, deleted in rows:
        liked = likers.get(cid, [])
        node = CommentNode(
            cid,
            drive_id,
            item_id,
            parent,
            author,
            name_of(author, names),
            body,
            html,
            created,
            edited,
            bool(deleted),
            len(liked),
            bool(liked) and any(p.id == viewer_id for p in liked),
            liked,
        )
        nodes.append(node)
    return nodes, [PersonRef(pid, name_of(pid, names)) for pid in fans]


def build_threads(nodes: list[CommentNode]) -> list[CommentNode]:
    """Nests replies under their parents and prunes deleted comments without live replies."""
    by_id = {node.id: node for node in nodes}
    live_below: dict[str, bool] = {}
    # Replies are newer than their parents, so walking newest first settles children first.
    for node in reversed(nodes):
        shown = not node.deleted or live_below.get(node.id, False)
        live_below[node.id] = shown
        if shown and node.parent_id in by_id:
            live_below[node.parent_id] = True
    roots: list[CommentNode] = []
    depth: dict[str, int] = {}
    for node in nodes:
        if not live_below[node.id]:
            continue
        if node.deleted:
            _blank(node)
        parent = by_id.get(node.parent_id) if node.parent_id else None
        if parent is None:
            depth[node.id] = 0
            roots.append(node)
            continue
        anchor = parent
        while depth[anchor.id] >= MAX_NESTING:  # too deep to nest further: list beside
            anchor = by_id[anchor.parent_id]
        depth[node.id] = depth[anchor.id] + 1
        anchor.replies.append(node)
    return roots


def _blank(node: CommentNode) -> None:
    node.author_id = node.author_name = None
    node.body = node.body_html = ""
    node.like_count, node.liked_by_me, node.likers = 0, False, []


def find(roots: list[CommentNode], comment_id: str) -> CommentNode | None:
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node.id == comment_id:
            return node
        stack.extend(node.replies)
    return None


def threads(viewer_id: str, drive_id: str, item_id: str) -> list[CommentNode]:
    return build_threads(load_nodes(viewer_id, drive_id, item_id))


def comment_view(
    viewer_id: str, drive_id: str, item_id: str, comment_id: str
) -> CommentNode | None:
    """One comment with its replies as the viewer sees it (None when it is not shown)."""
    return find(threads(viewer_id, drive_id, item_id), comment_id)


def document_likers(drive_id: str, item_id: str) -> list[PersonRef]:
    """Who liked the document, oldest like first."""
    return _people(store.document_likers(db.social(), drive_id, item_id))


def comment_likers(comment_id: str) -> list[PersonRef]:
    """Who liked the comment, oldest like first."""
    return _people(store.comment_likers(db.social(), comment_id))


def _people(person_ids: list[str]) -> list[PersonRef]:
    names = display_names(person_ids)
    return [PersonRef(pid, name_of(pid, names)) for pid in person_ids]


def load(viewer_id: str, document: Document) -> Discussion:
    """The whole discussion of a visible document, as the viewer sees it."""
    nodes, likers = _fetch(viewer_id, document.drive_id, document.item_id, True)
    live = sum(1 for node in nodes if not node.deleted)
    return Discussion(
        drive_id=document.drive_id,
        item_id=document.item_id,
        viewer_id=viewer_id,
        read_only=bool(document.archived),
        comments=build_threads(nodes),
        comment_count=live,
        like_count=len(likers),
        liked_by_me=any(liker.id == viewer_id for liker in likers),
        likers=likers,
    )
