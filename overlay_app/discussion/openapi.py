"""OpenAPI 3.1 path items and schemas of the discussion API (comments, likes, notifications).

Kept beside, not inside, the view modules so that those stay short; comments.py, likes.py and
notifications/views.py expose these as their API_PATHS, and comments.py's API_SCHEMAS carries the
schemas. Every 4xx refers to the shared Error schema.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from overlay_app.discussion.rendering import MAX_BODY_CHARS
from overlay_app.openapi_parts import (
    DOCUMENT_PARAMS,
    STRING,
    error_response,
    error_responses,
    idempotency_header,
    ok,
    operation,
    path_param,
    ref,
)

ERROR_WORDS = {
    400: "The request is not valid (the message says what to change)",
    401: "Not signed in, or the bearer token is not valid",
    403: "Not your comment",
    404: "No such document or comment, or the caller may not see it (indistinguishable)",
    409: "The discussion is archived, the comment was deleted, or the Idempotency-Key was "
    "used for another request",
    413: f"The comment is longer than {MAX_BODY_CHARS:,} characters",
    429: "Too many writes: retry after the Retry-After header's seconds",
}

_errors = error_responses(ERROR_WORDS)
_operation = partial(operation, "discussion")

COMMENT_PARAMS = [path_param("comment_id", "The comment's id")]

# What rendering.check_body(body, COMMENT) takes: text that is not all whitespace (400), at
# most MAX_BODY_CHARS characters (413).
COMMENT_BODY = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_BODY_CHARS,
    "pattern": r"\S",
    "description": f"Markdown, 1 to {MAX_BODY_CHARS:,} characters, not only whitespace; "
    "mentions as @[Display Name](oid) or @upn",
}
NEW_COMMENT = {
    "type": "object",
    "required": ["body"],
    "properties": {
        "body": COMMENT_BODY,
        "parent_id": {"type": ["string", "null"], "description": "The comment replied to"},
    },
}
EDIT_COMMENT = {"type": "object", "required": ["body"], "properties": {"body": COMMENT_BODY}}
# Empty ids are refused (400) like missing ones.
ID_QUERY = {"type": "string", "minLength": 1}
IDEMPOTENCY_KEY = idempotency_header(
    "Retrying with the same key and body answers the original response "
    "without a second comment; the same key with another body is a 409."
)

COMMENT_PATHS: dict[str, Any] = {
    "/api/v1/documents/{drive_id}/{item_id}/comments": {
        "get": _operation(
            "The document's comment threads, oldest first, replies nested",
            {**ok("The threads", ref("CommentList")), **_errors(401, 404)},
            parameters=DOCUMENT_PARAMS,
            operation_id="listComments",
        ),
        "post": _operation(
            "Comment on the document, or reply to one of its comments",
            {
                **ok(
                    "The new comment (or, for a retried key, the original answer)",
                    ref("Comment"),
                    201,
                ),
                **_errors(400, 401, 404, 409, 413, 429),
            },
            parameters=[*DOCUMENT_PARAMS, IDEMPOTENCY_KEY],
            body=NEW_COMMENT,
            operation_id="createComment",
        ),
    },
    "/api/v1/comments/{comment_id}": {
        "get": _operation(
            "One comment with its replies",
            {**ok("The comment", ref("Comment")), **_errors(401, 404)},
            parameters=COMMENT_PARAMS,
            operation_id="getComment",
        ),
        "patch": _operation(
            "Edit one's own comment",
            {
                **ok("The edited comment", ref("Comment")),
                **_errors(400, 401, 403, 404, 409, 413, 429),
            },
            parameters=COMMENT_PARAMS,
            body=EDIT_COMMENT,
            operation_id="editComment",
        ),
        "delete": _operation(
            "Delete one's own comment (shown as deleted while it has replies)",
            {**ok("Deleted", None, 204), **_errors(401, 403, 404, 409, 429)},
            parameters=COMMENT_PARAMS,
            operation_id="deleteComment",
        ),
    },
    "/api/v1/mentions/suggest": {
        "get": _operation(
            "People who can open the document, for @mention autocomplete (at most 10)",
            {
                **ok("Matching people", ref("MentionSuggestions")),
                **_errors(400, 401, 404),
                "429": error_response("Too many people lookups this minute (see Retry-After)."),
            },
            parameters=[
                {"name": "drive_id", "in": "query", "required": True, "schema": ID_QUERY},
                {"name": "item_id", "in": "query", "required": True, "schema": ID_QUERY},
                {
                    "name": "q",
                    "in": "query",
                    "required": False,
                    "schema": STRING,
                    "description": "Start of a name or user principal name",
                },
            ],
            operation_id="suggestMentions",
        ),
    },
}


def _like_paths(prefix: str, params: list[dict[str, Any]], noun: str, kind: str) -> dict[str, Any]:
    write_errors = _errors(401, 404, 409, 429)
    return {
        f"{prefix}/like": {
            "put": _operation(
                f"Like the {noun} (idempotent)",
                {**ok("The count after the change", ref("LikeSummary")), **write_errors},
                parameters=params,
                operation_id=f"like{kind}",
            ),
            "delete": _operation(
                f"Take back one's like of the {noun} (idempotent)",
                {**ok("The count after the change", ref("LikeSummary")), **write_errors},
                parameters=params,
                operation_id=f"unlike{kind}",
            ),
        },
        f"{prefix}/likes": {
            "get": _operation(
                f"Who liked the {noun}, earliest first",
                {**ok("The likers", ref("Likers")), **_errors(401, 404)},
                parameters=params,
                operation_id=f"likersOf{kind}",
            ),
        },
    }


LIKE_PATHS: dict[str, Any] = {
    **_like_paths(
        "/api/v1/documents/{drive_id}/{item_id}", DOCUMENT_PARAMS, "document", "Document"
    ),
    **_like_paths("/api/v1/comments/{comment_id}", COMMENT_PARAMS, "comment", "Comment"),
}

NOTIFICATION_PATHS: dict[str, Any] = {
    "/api/v1/notifications": {
        "get": _operation(
            "One's notifications about documents one can still see, newest first",
            {**ok("The notifications", ref("NotificationList")), **_errors(400, 401)},
            parameters=[
                {
                    "name": "unread",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "boolean"},
                    "description": "Only unread ones",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
            ],
            operation_id="listNotifications",
        ),
    },
    "/api/v1/notifications/read": {
        "post": _operation(
            "Mark notifications read: the given ids, or all",
            {**ok("The unread count after the change", ref("UnreadCount")), **_errors(400, 401)},
            body={
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["ids"],
                        "properties": {
                            "ids": {"type": "array", "maxItems": 500, "items": {"type": "string"}}
                        },
                    },
                    {"type": "object", "required": ["all"], "properties": {"all": {"const": True}}},
                ]
            },
            operation_id="markNotificationsRead",
        ),
    },
}

PERSON_REF = {
    "type": "object",
    "required": ["id", "displayName"],
    "properties": {"id": STRING, "displayName": STRING},
}

API_SCHEMAS: dict[str, Any] = {
    "PersonRef": PERSON_REF,
    "Comment": {
        "type": "object",
        "required": [
            "id",
            "documentId",
            "parentId",
            "author",
            "bodyHtml",
            "body",
            "createdAt",
            "editedAt",
            "deleted",
            "likeCount",
            "likedByMe",
            "replies",
        ],
        "properties": {
            "id": STRING,
            "documentId": {
                "type": "object",
                "required": ["driveId", "itemId"],
                "properties": {"driveId": STRING, "itemId": STRING},
            },
            "parentId": {"type": ["string", "null"]},
            "author": {
                "oneOf": [ref("PersonRef"), {"type": "null"}],
                "description": "null when the comment was deleted",
            },
            "bodyHtml": {"type": "string", "description": "Sanitised HTML"},
            "body": {"type": "string", "description": "The Markdown as written"},
            "createdAt": {"type": "string", "format": "date-time"},
            "editedAt": {"type": ["string", "null"], "format": "date-time"},
            "deleted": {"type": "boolean"},
            "likeCount": {"type": "integer"},
            "likedByMe": {"type": "boolean"},
            "replies": {"type": "array", "items": ref("Comment")},
        },
    },
    "CommentList": {
        "type": "object",
        "required": ["commentCount", "comments"],
        "properties": {
            "commentCount": {"type": "integer"},
            "comments": {"type": "array", "items": ref("Comment")},
        },
    },
    "LikeSummary": {
        "type": "object",
        "required": ["likeCount", "likedByMe"],
        "properties": {"likeCount": {"type": "integer"}, "likedByMe": {"type": "boolean"}},
    },
    "Likers": {
        "type": "object",
        "required": ["likeCount", "likedByMe", "people"],
        "properties": {
            "likeCount": {"type": "integer"},
            "likedByMe": {"type": "boolean"},
            "people": {"type": "array", "items": ref("PersonRef")},
        },
    },
    "MentionSuggestions": {
        "type": "object",
        "required": ["people"],
        "properties": {
            "people": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": STRING,
                        "displayName": STRING,
                        "upn": STRING,
                        "jobTitle": {"type": ["string", "null"]},
                        "mention": {
                            "type": "string",
                            "description": "Text to insert: @[Name](oid)",
                        },
                    },
                },
            }
        },
    },
    "Notification": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "Random: it tells nothing of others"},
            "kind": {"enum": ["mention", "reply", "like", "report", "moderation"]},
            "read": {"type": "boolean"},
            "createdAt": {"type": "string", "format": "date-time"},
            "actor": ref("PersonRef"),
            "document": {
                "type": ["object", "null"],
                "description": "null for a mention in a channel or direct conversation",
                "properties": {
                    "driveId": STRING,
                    "itemId": STRING,
                    "name": STRING,
                },
            },
            "commentId": {"type": ["string", "null"]},
            "roomId": {"type": ["string", "null"], "description": "Chat mentions: the room"},
            "messageId": {"type": ["string", "null"], "description": "Chat mentions"},
            "excerpt": STRING,
            "url": STRING,
        },
    },
    "NotificationList": {
        "type": "object",
        "required": ["unreadCount", "notifications"],
        "properties": {
            "unreadCount": {"type": "integer"},
            "notifications": {"type": "array", "items": ref("Notification")},
        },
    },
    "UnreadCount": {
        "type": "object",
        "required": ["unreadCount"],
        "properties": {"unreadCount": {"type": "integer"}},
    },
}
