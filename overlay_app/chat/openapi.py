"""OpenAPI 3.1 path items and schemas of the chat API (chat.py exposes them as API_PATHS and
API_SCHEMAS). Every 4xx refers to the shared Error schema. /api/v1/events is realtime.py's."""

from __future__ import annotations

from functools import partial
from typing import Any

from overlay_app.chat.actions import MAX_MESSAGE_CHARS
from overlay_app.openapi_parts import (
    DOCUMENT_PARAMS,
    NULLABLE_STRING,
    STRING,
    error_response,
    error_responses,
    idempotency_header,
    ok,
    operation,
    path_param,
    query_param,
    ref,
)

ERROR_WORDS = {
    400: "The request is not valid (the message says what to change)",
    401: "Not signed in, or the bearer token is not valid",
    403: "Not allowed: not your message, not an owner of the channel, or a guest starting "
    "a conversation",
    404: "No such room, message or document, or the caller may not see it (indistinguishable)",
    409: "The document's chat is archived, the message was deleted, the members are fixed, "
    "the channel name is taken, or the client_key was used for another message",
    413: f"The message is longer than {MAX_MESSAGE_CHARS:,} characters",
    429: "Too many writes: retry after the Retry-After header's seconds",
}

ID = {
    "type": "string",
    "maxLength": 100,
    "description": "Random: it tells nothing about other messages (order by `seq`)",
}
NULLABLE_ID = {**ID, "type": ["string", "null"]}
SEQ = {"type": "integer", "minimum": 1, "description": "The message's place in its room: 1, 2, ..."}

_errors = error_responses(ERROR_WORDS)
_operation = partial(operation, "chat")

ROOM = [path_param("room_id", "The room's id")]
MESSAGE = [path_param("message_id", "The message's id", ID)]
IDEMPOTENCY_KEY = idempotency_header(
    "The message's client_key, as a header; if both are sent they must agree"
)
WRITE = (400, 401, 404, 409, 429)

NEW_ROOM = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["channel", "direct"]},
        "name": {"type": "string", "maxLength": 80, "description": "Channels: unique name"},
        "description": {"type": ["string", "null"], "maxLength": 500},
        "closed": {"type": "boolean", "description": "Channels: members only"},
        "members": {
            "type": "array",
            "items": STRING,
            "description": "Object ids: the other people of a direct room (1 to 7), or "
            "people to invite into a channel",
        },
    },
}
# What chat_actions.check_body takes: text that is not all whitespace (400), at most
# MAX_MESSAGE_CHARS characters (413).
MESSAGE_BODY = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_MESSAGE_CHARS,
    "pattern": r"\S",
    "description": f"Markdown, 1 to {MAX_MESSAGE_CHARS:,} characters, not only whitespace; "
    "mentions as @[Display Name](oid) or @upn",
}
NEW_MESSAGE = {
    "type": "object",
    "required": ["body"],
    "properties": {
        "body": MESSAGE_BODY,
        "client_key": {
            "type": "string",
            "maxLength": 200,
            "description": "A new random id per message: a retry with the same key answers "
            "the same message instead of sending a second one",
        },
    },
}
EDIT_MESSAGE = {"type": "object", "required": ["body"], "properties": {"body": MESSAGE_BODY}}
MEMBER = {
    "type": "object",
    "required": ["person_id"],
    "properties": {
        "person_id": {"type": "string", "description": "Object id; oneself joins an open channel"},
        "role": {"enum": ["member", "owner"], "default": "member"},
    },
}
READ = {
    "type": "object",
    "required": ["last_read_id"],
    "properties": {
        "last_read_id": {
            "type": ["string", "integer", "null"],
            "description": "The id of the last message read (null or 0: none)",
        }
    },
}

CHAT_PATHS: dict[str, Any] = {
    "/api/v1/rooms": {
        "get": _operation(
            "The rooms one is in (with unread counts), and open channels one could join",
            {**ok("The rooms", ref("RoomList")), **_errors(401)},
            "listRooms",
        ),
        "post": _operation(
            "Create a channel, or open the direct room of some people (the existing one if any)",
            {
                **ok("The direct room that already existed", ref("Room")),
                **ok("The new room", ref("Room"), 201),
                **_errors(400, 401, 403, 409, 429),
            },
            "createRoom",
            body=NEW_ROOM,
        ),
    },
    "/api/v1/rooms/{room_id}": {
        "get": _operation(
            "One room",
            {**ok("The room", ref("Room")), **_errors(401, 404)},
            "getRoom",
            parameters=ROOM,
        ),
    },
    "/api/v1/documents/{drive_id}/{item_id}/room": {
        "post": _operation(
            "Open the document's room (made on first open) and put it in one's list",
            {
                **ok("The existing room", ref("Room")),
                **ok("The new room", ref("Room"), 201),
                **_errors(401, 404, 409, 429),
            },
            "openDocumentRoom",
            parameters=DOCUMENT_PARAMS,
        ),
    },
    "/api/v1/rooms/{room_id}/messages": {
        "get": _operation(
            "A page of the room's messages, oldest first",
            {**ok("The page", ref("MessagePage")), **_errors(400, 401, 404)},
            "listMessages",
            parameters=[
                *ROOM,
                query_param("before", "Only messages before this one (scrolling back)", ID),
                query_param(
                    "after",
                    "Only messages after this one, or after 0: from the start (catching up)",
                    ID,
                ),
                query_param(
                    "limit",
                    "Page size",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                ),
            ],
        ),
        "post": _operation(
            "Send a message; answered only once it is committed",
            {
                **ok(
                    "The message (for a retried client_key, the original one)", ref("Message"), 201
                ),
                **_errors(*WRITE, 413),
            },
            "sendMessage",
            parameters=[*ROOM, IDEMPOTENCY_KEY],
            body=NEW_MESSAGE,
        ),
    },
    "/api/v1/messages/{message_id}": {
        "patch": _operation(
            "Edit one's own message",
            {**ok("The edited message", ref("Message")), **_errors(*WRITE, 403, 413)},
            "editMessage",
            parameters=MESSAGE,
            body=EDIT_MESSAGE,
        ),
        "delete": _operation(
            "Delete one's own message (it keeps its place, without its words)",
            {**ok("Deleted", None, 204), **_errors(*WRITE, 403)},
            "deleteMessage",
            parameters=MESSAGE,
        ),
    },
    "/api/v1/rooms/{room_id}/read": {
        "put": _operation(
            "Move one's read marker forward to a message of the room",
            {**ok("The marker and unread count", ref("ReadMarker")), **_errors(400, 401, 404)},
            "markRoomRead",
            parameters=ROOM,
            body=READ,
        ),
    },
    "/api/v1/rooms/{room_id}/members": {
        "post": _operation(
            "Join an open channel (oneself), or, as an owner, add someone or make them owner",
            {**ok("The room", ref("Room")), **_errors(*WRITE, 403)},
            "addRoomMember",
            parameters=ROOM,
            body=MEMBER,
        ),
        "delete": _operation(
            "Leave a channel (oneself), or, as an owner, remove someone",
            {**ok("Removed (or was not a member)", None, 204), **_errors(*WRITE, 403)},
            "removeRoomMember",
            parameters=[*ROOM, query_param("person_id", "Object id of who leaves", STRING, True)],
        ),
    },
    "/api/v1/chat/search": {
        "get": _operation(
            "Messages matching the words, newest first, in rooms one may see",
            {
                **ok("The hits", ref("ChatSearch")),
                **_errors(400, 401, 404),
                "429": error_response("Too many searches this minute (see Retry-After)."),
            },
            "searchChat",
            parameters=[
                query_param("q", "Words to look for (the last one as a prefix)", STRING, True),
                query_param("room_id", "Only this room", STRING),
                query_param(
                    "limit",
                    "At most this many",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                ),
            ],
        ),
    },
}

PERSON = {
    "type": "object",
    "required": ["id", "displayName"],
    "properties": {"id": STRING, "displayName": STRING},
}
MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["id", "seq", "roomId", "author", "body", "bodyHtml", "createdAt", "deleted"],
    "properties": {
        "id": ID,
        "seq": SEQ,
        "roomId": STRING,
        "author": PERSON,
        "body": {"type": "string", "description": "Markdown as written; '' once deleted"},
        "bodyHtml": {"type": "string", "description": "Sanitised HTML; '' once deleted"},
        "createdAt": {"type": "string", "format": "date-time"},
        "editedAt": {"type": ["string", "null"], "format": "date-time"},
        "deleted": {"type": "boolean"},
        "clientKey": NULLABLE_STRING,
    },
}
ROOM_SCHEMA = {
    "type": "object",
    "required": ["id", "kind", "closed", "createdBy", "createdAt"],
    "properties": {
        "id": STRING,
        "kind": {"enum": ["document", "channel", "direct"]},
        "name": NULLABLE_STRING,
        "description": NULLABLE_STRING,
        "closed": {"type": "boolean"},
        "document": {
            "type": ["object", "null"],
            "properties": {"driveId": STRING, "itemId": STRING},
        },
        "createdBy": STRING,
        "createdAt": {"type": "string", "format": "date-time"},
        "members": {
            "type": ["array", "null"],
            "description": "null for a document's room (its members are who can open it)",
            "items": {
                "type": "object",
                "properties": {
                    "id": STRING,
                    "displayName": STRING,
                    "role": {"enum": ["member", "owner"]},
                },
            },
        },
        "title": {"type": "string"},
        "archived": {"type": "boolean"},
        "myRole": {"enum": ["member", "owner", None]},
        "unreadCount": {"type": "integer"},
        "lastReadId": NULLABLE_ID,
        "lastReadSeq": {"type": "integer", "minimum": 0, "description": "0: nothing read"},
        "lastMessageId": NULLABLE_ID,
    },
}

API_SCHEMAS: dict[str, Any] = {
    "Message": MESSAGE_SCHEMA,
    "Room": ROOM_SCHEMA,
    "RoomList": {
        "type": "object",
        "required": ["rooms", "openChannels"],
        "properties": {
            "rooms": {"type": "array", "items": ref("Room")},
            "openChannels": {"type": "array", "items": ref("Room")},
        },
    },
    "MessagePage": {
        "type": "object",
        "required": ["messages", "hasMore"],
        "properties": {
            "messages": {"type": "array", "items": ref("Message")},
            "hasMore": {"type": "boolean", "description": "More messages beyond this page"},
        },
    },
    "ReadMarker": {
        "type": "object",
        "required": ["roomId", "lastReadId", "lastReadSeq", "unreadCount"],
        "properties": {
            "roomId": STRING,
            "lastReadId": NULLABLE_ID,
            "lastReadSeq": {"type": "integer", "minimum": 0},
            "unreadCount": {"type": "integer"},
        },
    },
    "ChatSearch": {
        "type": "object",
        "required": ["messages"],
        "properties": {
            "messages": {
                "type": "array",
                "items": {
                    "allOf": [
                        ref("Message"),
                        {
                            "type": "object",
                            "properties": {
                                "snippetHtml": STRING,
                                "room": {
                                    "type": "object",
                                    "properties": {"id": STRING, "kind": STRING, "title": STRING},
                                },
                            },
                        },
                    ]
                },
            }
        },
    },
}
