"""The admin console's part of the OpenAPI document (/api/v1/admin/...)."""

from __future__ import annotations

from typing import Any

from overlay_app.openapi_parts import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array,
    error_responses,
    json_response,
    obj,
    ref,
)

ERRORS = error_responses(
    {
        400: "The request is not valid (the message says what to change).",
        401: "Signed out, or the bearer token is not valid.",
        404: "Not found, or the caller is not an admin (the same answer).",
        409: "A job with that name already exists.",
    }
)
TAG = ["admin"]
NAME = {"name": "name", "in": "path", "required": True, "schema": STRING}
NULLABLE_INTEGER = {"type": ["integer", "null"]}

RUN = obj(
    {
        "id": INTEGER, "startedAt": STRING, "endedAt": NULLABLE_STRING, "outcome": STRING,
        "full": BOOLEAN, "added": INTEGER, "updated": INTEGER, "deleted": INTEGER,
        "permissionFailures": INTEGER, "throttledWaits": INTEGER,
        "throttledSeconds": {"type": "number"}, "error": NULLABLE_STRING,
    }
)  # fmt: skip
JOB = obj(
    {"name": STRING, "kind": STRING, "target": STRING, "schedule": STRING, "enabled": BOOLEAN}
)
PROGRESS = obj(
    {
        "job": STRING, "running": BOOLEAN, "pages": INTEGER, "items": INTEGER,
        "throttledWaits": INTEGER, "messages": STRINGS,
        "lastRun": {"oneOf": [ref("AdminRun"), {"type": "null"}]}, "at": STRING,
    }
)  # fmt: skip
JOB_HEALTH = obj(
    {
        "name": STRING, "kind": STRING, "enabled": BOOLEAN, "state": STRING,
        "lastSuccess": NULLABLE_STRING, "lagSeconds": NULLABLE_INTEGER,
        "nextRun": NULLABLE_STRING, "lastOutcome": NULLABLE_STRING, "lastError": NULLABLE_STRING,
    }
)  # fmt: skip
HEALTH = obj(
    {
        "checkedAt": STRING,
        "healthy": BOOLEAN,
        "problems": STRINGS,
        "jobs": array(JOB_HEALTH),
        "scheduler": obj({"alive": BOOLEAN, "until": NULLABLE_STRING}),
        "realtime": obj({"url": NULLABLE_STRING, "alive": {"type": ["boolean", "null"]}}),
        "throttling": obj(
            {"windowHours": INTEGER, "waits": INTEGER, "secondsWaited": {"type": "number"}}
        ),
        "budget": array({"type": "object"}),
        "sizes": obj({"bytes": {"type": "object"}, "items": INTEGER, "people": INTEGER}),
        "peopleLeft": array(obj({"id": STRING, "name": STRING, "reason": STRING})),
    }
)
JOB_BODY = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": STRING, "people": BOOLEAN, "all_sites": BOOLEAN, "sites": STRINGS,
        "site_search": STRING, "libraries": STRINGS, "include": STRINGS, "exclude": STRINGS,
        "file_types": STRINGS, "every": STRING, "cron": STRING, "tz": STRING,
    },
}  # fmt: skip

API_SCHEMAS: dict[str, Any] = {
    "AdminRun": RUN, "AdminJob": JOB, "AdminJobProgress": PROGRESS, "AdminHealth": HEALTH,
}  # fmt: skip


def _op(operation_id: str, summary: str, answer: dict, *errors: int, **extra: Any) -> dict:
    return {
        "operationId": operation_id, "summary": summary, "tags": TAG,
        "responses": {**answer, **ERRORS(401, 404, *errors)}, **extra,
    }  # fmt: skip


API_PATHS: dict[str, Any] = {
    "/api/v1/admin/jobs": {
        "get": _op(
            "listAdminJobs", "Sync jobs with their latest run (admins).",
            {"200": json_response(obj({"jobs": array({"type": "object"})}), "The jobs.")},
        ),
        "post": _op(
            "addAdminJob", "Adds a sync job, validated like `plaza sync add` (admins).",
            {"201": json_response(ref("AdminJob"), "The job added.")}, 400, 409,
            requestBody={"required": True, "content": {"application/json": {"schema": JOB_BODY}}},
        ),
    },
    "/api/v1/admin/jobs/{name}/progress": {
        "parameters": [NAME],
        "get": _op(
            "getAdminJobProgress", "A job's live progress and latest run (admins).",
            {"200": json_response(ref("AdminJobProgress"), "Progress.")},
        ),
    },
    "/api/v1/admin/jobs/{name}/run": {
        "parameters": [NAME],
        "post": _op(
            "runAdminJob", "Starts a run of the job now, in its own process (admins).",
            {"202": json_response(ref("AdminJobProgress"), "Started.")}, 400,
            requestBody={"required": False, "content": {"application/json": {
                "schema": {"type": "object", "properties": {"full": BOOLEAN}}}}},
        ),
    },
    "/api/v1/admin/health": {
        "get": _op(
            "getAdminHealth", "Sync, scheduler, real-time, throttling and store health (admins).",
            {"200": json_response(ref("AdminHealth"), "Health.")},
        ),
    },
}  # fmt: skip
