"""SharePoint REST comments and likes on a list item (PROTOCOL 6.1): the only API that has them.

Below `{item}`: `comments` / `GetComments()` (GET, POST), `comments(id)` (GET, DELETE),
`comments(id)/replies` (GET, POST), `comments(id)/like|unlike` (POST), `comments(id)/likedBy`,
`comments/DeleteAll`, `like` / `unlike`, `likedByInformation`, `likedBy`,
`SetCommentsDisabled(bool)`. `$expand=replies,likedBy,replies/likedBy` inlines what it names.
Everything here is as visible as the item itself: the caller already passed the item check.
Likes belong to a person, so liking needs a user token.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from connector.emulator import sharepoint_principals as principals
from connector.emulator import sharepoint_wire as wire
from connector.emulator.sharepoint_lists import ItemRef, SPContext
from connector.emulator.spstore import APP_AUTHOR, Comment, ItemSocial

COMMENT_TYPE = "Microsoft.SharePoint.Comments.comment"
IDENTITY_TYPE = "Microsoft.SharePoint.Comments.Client.Identity"
WRITE_ROLES = {"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}


def item_route(ctx: SPContext, ref: ItemRef, rest: list[wire.Segment], method: str) -> Response:
    head, tail = rest[0], rest[1:]
    if head.name in ("comments", "getcomments"):
        return _comments_route(ctx, ref, head, tail, method)
    if tail:
        raise wire.no_resource(tail[0].text)
    if head.name in ("like", "unlike"):
        _expect(method, "POST")
        set_item_like(ctx, ref, head.name == "like")
        return wire.operation_response(head.text, None)
    if head.name == "likedbyinformation":
        _expect(method, "GET")
        return wire.entity_response(_liked_by_information(ctx, ref))
    if head.name == "likedby":
        _expect(method, "GET")
        social = ctx.store.social(ref.list.id, ref.number)
        return wire.collection_response(_likers(ctx, social.likes))
    if head.name == "setcommentsdisabled" and head.args and isinstance(head.args[0], bool):
        _expect(method, "POST")
        _writer(ctx)
        ctx.store.set_comments_disabled(ref.list.id, ref.number, head.args[0])
        return wire.operation_response(head.text, None)
    raise wire.no_resource(head.text)


def _expect(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise wire.not_allowed()


def _comments_route(ctx, ref: ItemRef, head: wire.Segment, tail, method: str) -> Response:
    if head.args:
        comment = _find_comment(ctx, ref, head.args[0])
        return _comment_route(ctx, ref, comment, tail, method)
    if tail and tail[0].name == "deleteall" and len(tail) == 1:
        _expect(method, "POST")
        _writer(ctx)
        ctx.store.delete_all(ref.list.id, ref.number)
        return wire.operation_response(tail[0].text, None)
    if tail:
        raise wire.no_resource(tail[0].text)
    social = ctx.store.social(ref.list.id, ref.number)
    if method == "GET":
        comments = sorted(social.top_level(), key=lambda c: c.id, reverse=True)  # newest first
        return _comment_list(ctx, ref, social, comments)
    if method == "POST" and head.name == "comments":
        return _post_comment(ctx, ref, parent_id=0)
    raise wire.not_allowed()


def _comment_route(ctx, ref: ItemRef, comment: Comment, tail, method: str) -> Response:
    social = ctx.store.social(ref.list.id, ref.number)
    if not tail:
        if method == "DELETE":
            writer = _writer(ctx)
            if writer not in (comment.author, APP_AUTHOR):
                raise wire.access_denied()  # only the author (or an app) removes a comment
            ctx.store.delete_comment(ref.list.id, ref.number, comment.id)
            return Response("", status=200)
        _expect(method, "GET")
        return wire.entity_response(comment_entity(ctx, ref, social, comment, _expansions()))
    head = tail[0]
    if len(tail) > 1:
        raise wire.no_resource(tail[1].text)
    if head.name == "replies":
        if method == "POST":
            if comment.parent_id:
                raise wire.bad_argument("A reply cannot have replies of its own.")
            return _post_comment(ctx, ref, parent_id=comment.id)
        _expect(method, "GET")
        return _comment_list(ctx, ref, social, social.replies(comment.id))
    if head.name in ("like", "unlike"):
        _expect(method, "POST")
        ctx.store.set_comment_like(comment, _liker(ctx), head.name == "like")
        return wire.operation_response(head.text, None)
    if head.name == "likedby":
        _expect(method, "GET")
        return wire.collection_response(_likers(ctx, comment.likes))
    raise wire.no_resource(head.text)


def _find_comment(ctx: SPContext, ref: ItemRef, raw: Any) -> Comment:
    number = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
    social = ctx.store.social(ref.list.id, ref.number)
    comment = social.comments.get(number) if isinstance(number, int) else None
    if comment is None:
        raise wire.SPError(
            404, wire.SP_EXCEPTION, "The comment does not exist. It may have been deleted."
        )
    return comment


# -- who is writing ----------------------------------------------------------------------------


def _writer(ctx: SPContext) -> str:
    """Author id for a write: the signed-in user, or the app if it may write to sites."""
    if ctx.caller.user_id is not None:
        return ctx.caller.user_id
    if ctx.caller.roles & WRITE_ROLES:
        return APP_AUTHOR
    raise wire.access_denied()


def _liker(ctx: SPContext) -> str:
    if ctx.caller.user_id is None:
        raise wire.access_denied()  # a like is a person's; an app has no one to like as
    return ctx.caller.user_id


def set_item_like(ctx: SPContext, ref: ItemRef, like: bool) -> int:
    """Likes or unlikes the item as the signed-in user; the item's like count afterwards."""
    return ctx.store.set_item_like(ref.list.id, ref.number, _liker(ctx), like)


# -- reading -----------------------------------------------------------------------------------


def _expansions() -> set[str]:
    raw = request.args.get("$expand") or request.args.get("expand") or ""
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def _comment_list(ctx, ref: ItemRef, social: ItemSocial, comments: list[Comment]) -> Response:
    raw_top = request.args.get("$top") or request.args.get("top")
    if raw_top is not None:
        if not raw_top.isdigit():
            raise wire.bad_argument(f"Invalid value '{raw_top}' for $top.")
        comments = comments[: int(raw_top)]
    expand = _expansions()
    return wire.collection_response([comment_entity(ctx, ref, social, c, expand) for c in comments])


def comment_entity(
    ctx: SPContext, ref: ItemRef, social: ItemSocial, comment: Comment, expand: set[str]
) -> wire.Entity:
    uri = f"{ctx.item_uri(ref)}/Comments({comment.id})"
    replies = social.replies(comment.id)
    mentions = [wire.Complex(IDENTITY_TYPE, dict(m)) for m in comment.mentions]
    inner = {e.removeprefix("replies/") for e in expand if e.startswith("replies/")}
    props: dict[str, Any] = {
        "author": principals.author(ctx, comment.author),
        "createdDate": comment.created_at,
        "id": str(comment.id),
        "isLikedByUser": ctx.caller.user_id in comment.likes,
        "isReply": comment.parent_id != 0,
        "itemId": comment.item_id,
        "likeCount": len(comment.likes),
        "listId": comment.list_id,
        "mentions": wire.Many(mentions, f"Collection({IDENTITY_TYPE})"),
        "modifiedDate": None,
        "parentId": str(comment.parent_id),
        "replyCount": len(replies),
        "text": comment.text,
        "likedBy": wire.Many(_likers(ctx, comment.likes))
        if "likedby" in expand
        else wire.Deferred(f"{uri}/likedBy"),
        "replies": wire.Many([comment_entity(ctx, ref, social, r, inner) for r in replies])
        if "replies" in expand
        else wire.Deferred(f"{uri}/replies"),
    }
    return wire.Entity(COMMENT_TYPE, uri, props)


def _likers(ctx: SPContext, likes: dict[str, str]) -> list[wire.Complex]:
    ordered = sorted(likes.items(), key=lambda pair: pair[1])
    return [principals.like_entry(ctx, oid, when) for oid, when in ordered]


def _liked_by_information(ctx: SPContext, ref: ItemRef) -> wire.Entity:
    uri = f"{ctx.item_uri(ref)}/likedByInformation"
    likes = ctx.store.social(ref.list.id, ref.number).likes
    expand = _expansions() | {
        f.strip().lower() for f in (request.args.get("$select") or "").split(",")
    }
    return wire.Entity(
        "Microsoft.SharePoint.Likes.likedByInformation",
        uri,
        {
            "isLikedByUser": ctx.caller.user_id in likes,
            "likeCount": len(likes),
            "likedBy": wire.Many(_likers(ctx, likes))
            if "likedby" in expand
            else wire.Deferred(f"{uri}/likedBy"),
        },
    )


# -- writing -----------------------------------------------------------------------------------


def _post_comment(ctx: SPContext, ref: ItemRef, parent_id: int) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise wire.bad_argument("The request body must be a JSON object with 'text'.")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise wire.bad_argument("A comment needs non-empty 'text'.")
    mentions = _mentions(body.get("mentions"))
    author = _writer(ctx)
    social = ctx.store.social(ref.list.id, ref.number)
    if social.comments_disabled:
        raise wire.SPError(403, wire.SP_EXCEPTION, "Comments are disabled on this item.")
    comment = ctx.store.add_comment(ref.list.id, ref.number, author, text, mentions, parent_id)
    return wire.entity_response(comment_entity(ctx, ref, social, comment, set()), status=201)


def _mentions(raw: Any) -> list[dict[str, str]]:
    """Mentions as sent: a list, or verbose {"results": [...]}; each {loginName, email, name}."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = raw.get("results")
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise wire.bad_argument("'mentions' must be a list of {loginName, email, name}.")
    keep = ("email", "loginName", "name")
    return [{k: str(m[k]) for k in keep if m.get(k) is not None} for m in raw]
