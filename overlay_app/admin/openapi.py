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
        409: "A job with that name already exists; or it was reported or deleted already.",
        429: "Too many reports at once.",
    }
)
TAG = ["admin"]
NAME = {"name": "name", "in": "path", "required": True, "schema": STRING}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
# The `plaza scheduler` process that leads (sync/leader.py); null when none does.
LEADER = {**obj({"host": STRING, "pid": INTEGER, "since": NULLABLE_STRING}),
          "type": ["object", "null"]}  # fmt: skip

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
        "scheduler": obj({"alive": BOOLEAN, "until": NULLABLE_STRING, "leader": LEADER}),
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

REASON_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}},
    }}},
}  # fmt: skip
REPORTED = obj(
    {
        "kind": {"enum": ["comment", "message"]}, "targetId": STRING, "text": STRING,
        "author": obj({"id": STRING, "displayName": STRING}), "where": STRING,
        "link": NULLABLE_STRING, "state": {"enum": ["shown", "hidden", "deleted"]},
        "reports": array(obj({"reporter": STRING, "reason": STRING, "at": STRING})),
    }
)  # fmt: skip
ACT_BODY = {
    "type": "object",
    "required": ["kind", "targetId", "act", "reason"],
    "properties": {
        "kind": {"enum": ["comment", "message"]}, "targetId": STRING,
        "act": {"enum": ["hide", "restore", "delete", "dismiss"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 500},
    },
}  # fmt: skip
API_SCHEMAS["AdminReported"] = REPORTED
API_PATHS["/api/v1/admin/reports"] = {
    "get": _op(
        "listReports", "Open reports, one entry per reported text (moderators).",
        {"200": json_response(obj({"reported": array(ref("AdminReported"))}), "The queue.")},
    ),
}  # fmt: skip
API_PATHS["/api/v1/admin/moderation"] = {
    "post": _op(
        "moderate", "Hides, restores, deletes or dismisses, telling the author why (moderators).",
        {"200": json_response(obj({"kind": STRING, "targetId": STRING, "act": STRING}), "Done.")},
        400, requestBody={"required": True, "content": {"application/json": {"schema": ACT_BODY}}},
    ),
}  # fmt: skip

REPORT_ERRORS = error_responses(
    {
        400: "No reason, or one too long.",
        401: "Signed out, or the bearer token is not valid.",
        404: "No such comment or message, or one the caller cannot see (the same answer).",
        409: "Deleted, or reported by the caller already.",
        429: "Too many reports at once.",
    }
)
REPORT_MADE = {"201": json_response(obj({"id": STRING}), "Reported; moderators are told.")}
NOTICE = obj({"kind": STRING, "act": STRING, "reason": STRING, "at": STRING})
REPORT_SCHEMAS: dict[str, Any] = {}


def _report_op(operation_id: str, what: str, parameter: str) -> dict:
    return {
        "parameters": [{"name": parameter, "in": "path", "required": True, "schema": STRING}],
        "post": {
            "operationId": operation_id, "tags": ["moderation"],
            "summary": f"Reports a {what} the caller can see, with a reason, to the moderators.",
            "requestBody": REASON_BODY,
            "responses": {**REPORT_MADE, **REPORT_ERRORS(400, 401, 404, 409, 429)},
        },
    }  # fmt: skip


REPORT_PATHS: dict[str, Any] = {
    "/api/v1/comments/{comment_id}/report": _report_op("reportComment", "comment", "comment_id"),
    "/api/v1/messages/{message_id}/report": _report_op("reportMessage", "message", "message_id"),
    "/api/v1/moderation/notices": {
        "get": {
            "operationId": "listModerationNotices", "tags": ["moderation"],
            "summary": "What moderators did to the caller's words, and why.",
            "responses": {
                "200": json_response(obj({"notices": array(NOTICE)}), "Newest first."),
                **REPORT_ERRORS(401),
            },
        }
    },
}  # fmt: skip

SWITCHES = {"type": "object", "additionalProperties": BOOLEAN}
API_PATHS["/api/v1/admin/switches"] = {
    "get": _op("getSwitches", "Feature switches of this tenant (admins).",
               {"200": json_response(SWITCHES, "Each switch, on or off.")}),
    "patch": _op(
        "setSwitches", "Sets feature switches; data of a switched-off feature is kept (admins).",
        {"200": json_response(SWITCHES, "Each switch, on or off.")}, 400,
        requestBody={"required": True, "content": {"application/json": {"schema": SWITCHES}}},
    ),
}  # fmt: skip

TERMS = obj({"version": NULLABLE_INTEGER, "text": NULLABLE_STRING, "publishedAt": NULLABLE_STRING,
             "accepted": BOOLEAN})  # fmt: skip
TERMS_SCHEMAS: dict[str, Any] = {"Terms": TERMS}
TERMS_ERRORS = error_responses(
    {401: "Signed out, or the bearer token is not valid.",
     409: "No terms, or another version is in force now."}
)  # fmt: skip
TERMS_PATHS: dict[str, Any] = {
    "/api/v1/terms": {
        "get": {
            "operationId": "getTerms", "tags": ["terms"],
            "summary": "The terms of use in force, and whether the caller accepted them.",
            "responses": {"200": json_response(ref("Terms"), "The terms."), **TERMS_ERRORS(401)},
        }
    },
    "/api/v1/terms/accept": {
        "post": {
            "operationId": "acceptTerms", "tags": ["terms"],
            "summary": "Accepts the version in force (writes need it once terms exist).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["version"],
                "properties": {"version": INTEGER}}}}},
            "responses": {"200": json_response(obj({"accepted": INTEGER}), "Accepted."),
                          **TERMS_ERRORS(401, 409)},
        }
    },
}  # fmt: skip

PERSON = {"name": "person_id", "in": "path", "required": True, "schema": STRING}
API_PATHS["/api/v1/admin/people/{person_id}/export"] = {
    "parameters": [PERSON],
    "get": _op("exportPerson", "Everything Plaza holds of one person's, as a JSON archive.",
               {"200": json_response({"type": "object"}, "The archive (an attachment).")}),
}  # fmt: skip
API_PATHS["/api/v1/admin/people/{person_id}/erase"] = {
    "parameters": [PERSON],
    "post": _op(
        "erasePerson", "Erases a person per PLAZA_ERASE_MODE; others' replies keep their place.",
        {"200": json_response(obj({"comments": INTEGER, "messages": INTEGER}), "Erased.")}, 400,
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["confirm"], "properties": {"confirm": BOOLEAN}}}}},
    ),
}  # fmt: skip

AUDIT_ENTRY = obj(
    {
        "id": INTEGER,
        "at": STRING,
        "actorId": NULLABLE_STRING,
        "actor": STRING,
        "action": STRING,
        "target": NULLABLE_STRING,
        "detail": NULLABLE_STRING,
    }
)
FILTERS = [
    {"name": name, "in": "query", "required": False, "schema": STRING, "description": words}
    for name, words in (
        ("who", "UPN or object id"),
        ("what", "action, or how it starts"),
        ("from", "first day, YYYY-MM-DD"),
        ("to", "last day, YYYY-MM-DD"),
    )
]
API_PATHS["/api/v1/admin/audit"] = {
    "get": _op(
        "listAudit",
        "The newest 200 audit entries matching the filters (admins).",
        {"200": json_response(obj({"entries": array(AUDIT_ENTRY)}), "Newest first.")},
        400,
        parameters=FILTERS,
    ),
}
