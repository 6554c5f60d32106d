"""The OpenAPI description of the feed."""

from __future__ import annotations

from overlay_app import access
from overlay_app.openapi_parts import (
    INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array,
    error_responses,
    obj,
    ok,
    operation,
    query_param,
    ref,
)

ERRORS = error_responses(
    {400: "The cursor or limit is not valid.", 401: "Nobody is signed in.",
     429: "Too many reads this minute (see Retry-After)."}
)  # fmt: skip
API_SCHEMAS = {
    "FeedEntry": obj(
        {
            "kind": {"type": "string", "enum": ["document", "channel"]},
            "title": STRING,
            "url": STRING,
            "lastActivityAt": STRING,
            "lastActivity": {"type": "string", "enum": ["comment", "message", "like", "tag"],
                             "description": "What the last activity was (a message: in the "
                                            "document's chat or the channel)."},
            "lastActor": obj({"id": STRING, "displayName": STRING}),
            "excerpt": STRING,
            "why": STRINGS,
            "document": {
                "oneOf": [obj({"driveId": STRING, "itemId": STRING, "name": STRING}),
                          {"type": "null"}]
            },
        }
    )
}  # fmt: skip
API_PATHS = {
    "/api/v1/feed": {
        "get": operation(
            "feed",
            "The caller's feed: one entry per conversation, newest activity first.",
            {**ok("A page of the feed.", obj({"entries": array(ref("FeedEntry")),
                                             "nextCursor": NULLABLE_STRING})),
             **ERRORS(400, 401)},
            "getFeed",
            parameters=[
                query_param("cursor", "nextCursor of the previous page"),
                query_param("limit", "Entries per page (1-50)",
                            {**INTEGER, "minimum": 1, "maximum": 50}),
            ],
        )
    }
}  # fmt: skip
API_PATHS["/api/v1/feed"]["get"]["description"] = access.DISCOVERY_RULE
