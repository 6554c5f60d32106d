"""The OpenAPI description of follows, levels and notification settings."""

from __future__ import annotations

from overlay_app.follow.levels import CHANNELS, EVENTS, LEVELS
from overlay_app.follow.targets import KINDS, LEVEL_KINDS
from overlay_app.openapi_parts import (
    BOOLEAN,
    NULLABLE_STRING,
    STRING,
    array,
    error_responses,
    obj,
    ok,
    operation,
    query_param,
    ref,
)

TAG = "follow"
ERRORS = error_responses(
    {
        400: "The kind, target, level or settings are not valid (the message says which).",
        401: "Nobody is signed in.",
        404: "The target does not exist or the caller may not open it (the same answer).",
        429: "Too many changes this minute (see Retry-After).",
    }
)
KIND = {"type": "string", "enum": list(KINDS)}
TARGET_DESCRIPTION = (
    'What to follow: "driveId/itemId" for a document or folder (a library is its root'
    " folder), a site id, a person's id, a tag, or a channel's room id."
)
TARGET = {"type": "string", "minLength": 1, "maxLength": 300, "description": TARGET_DESCRIPTION}
DIGEST = {"type": "string", "enum": ["hourly", "daily", "weekly", "off"]}
BY_CHANNEL = obj({c.name: BOOLEAN for c in CHANNELS}, required=[])
SETTINGS = obj(
    {"events": obj({event: BY_CHANNEL for event in EVENTS}, required=[]), "digest": DIGEST},
    required=[],
)

API_SCHEMAS = {
    "Follow": obj(
        {
            "kind": KIND,
            "target": STRING,
            "label": STRING,
            "url": STRING,
            "level": NULLABLE_STRING,
            "followedAt": STRING,
        }
    ),
    "NotificationSettings": obj(
        {"events": obj({event: BY_CHANNEL for event in EVENTS}), "digest": DIGEST}
    ),
}

FOLLOWED = obj({"kind": KIND, "target": STRING, "url": STRING})
API_PATHS = {
    "/api/v1/follows": {
        "get": operation(
            TAG, "What the caller follows (only what they may still open).",
            {**ok("The follows, newest first.", obj({"follows": array(ref("Follow"))})),
             **ERRORS(401)},
            "listFollows",
        ),
        "put": operation(
            TAG, "Follows a document, folder, site, person, tag or channel.",
            {**ok("Followed (following twice is one follow).", FOLLOWED),
             **ERRORS(400, 401, 404, 429)},
            "follow", body=obj({"kind": KIND, "target": TARGET}),
        ),
        "delete": operation(
            TAG, "Stops following (no error when one did not follow).",
            {**ok("Not followed.", None, 204), **ERRORS(400, 401, 429)},
            "unfollow",
            parameters=[query_param("kind", "The kind of target", KIND, required=True),
                        query_param("target", TARGET_DESCRIPTION, TARGET, required=True)],
        ),
    },
    "/api/v1/levels": {
        "put": operation(
            TAG, "Sets the notification level on a document, folder, tag or channel.",
            {**ok("Set.", obj({"kind": KIND, "target": STRING, "level": NULLABLE_STRING})),
             **ERRORS(400, 401, 404, 429)},
            "setLevel",
            body=obj({"kind": {"type": "string", "enum": list(LEVEL_KINDS)}, "target": TARGET,
                      "level": {"type": "string", "enum": [*LEVELS, "default"]}}),
        ),
    },
    "/api/v1/settings/notifications": {
        "get": operation(
            TAG, "By which channels each kind of event reaches the caller, and their digest.",
            {**ok("The settings.", ref("NotificationSettings")), **ERRORS(401)},
            "getNotificationSettings",
        ),
        "put": operation(
            TAG, "Changes some of those settings (what is not sent stays as it was).",
            {**ok("The settings now.", ref("NotificationSettings")),
             **ERRORS(400, 401, 429)},
            "setNotificationSettings", body=SETTINGS,
        ),
    },
}  # fmt: skip
