"""The OpenAPI parts of /api/v1/insights (openapi.py assembles them from views.py)."""

from __future__ import annotations

from overlay_app.browse.listing import UNAUTHENTICATED
from overlay_app.openapi_parts import (
    INTEGER,
    NULLABLE_STRING,
    STRING,
    array,
    error_response,
    json_response,
    obj,
    path_param,
    query_param,
    ref,
)

UNIT_KINDS = ("department", "office")
MAX_WORDS = 200
NUMBER_OR_NULL = {"type": ["number", "null"]}
INTEGER_OR_NULL = {"type": ["integer", "null"]}

FORBIDDEN = error_response("Guests, or person-level views asked for by someone not an admin.")
BAD_INPUT = error_response("A parameter is not one the API takes.")

DAYS = query_param(
    "days",
    "The period in whole UTC days (the last one today, so far).",
    {"type": "string", "enum": ["7", "28", "90"]},
)
SCOPE = query_param(
    "scope",
    "all, or channel:<room id>, site:<site id>, library:<drive id>, tag:<tag>,"
    " department:<name> or office:<name>.",
    {"type": "string", "maxLength": 220},
)
AS_OF = query_param("asOf", "End of the period (ISO 8601); now when absent.")
UNIT = query_param("unit", "Units of people.", {"type": "string", "enum": list(UNIT_KINDS)})

FIGURES = obj(
    {
        "posting": INTEGER,
        "onlyReading": INTEGER,
        "contributions": INTEGER,
        "perActivePerson": NUMBER_OR_NULL,
        "threads": INTEGER,
        "replies": INTEGER,
        "answeredShare": NUMBER_OR_NULL,
        "medianHoursToFirstReply": NUMBER_OR_NULL,
    }
)
NULLABLE_FIGURES = {"oneOf": [ref("InsightsFigures"), {"type": "null"}]}
THREAD = obj(
    {
        "commentId": STRING,
        "driveId": STRING,
        "itemId": STRING,
        "name": NULLABLE_STRING,
        "createdAt": STRING,
    }
)
TOP_DOCUMENT = obj(
    {"driveId": STRING, "itemId": STRING, "name": NULLABLE_STRING, "comments": INTEGER}
)
EVIDENCE = obj(
    {
        "kind": {"type": "string", "enum": ["comment", "reply", "like", "authored"]},
        "driveId": STRING,
        "itemId": STRING,
        "commentId": NULLABLE_STRING,
        "name": NULLABLE_STRING,
    }
)
SCOPE_ENTRY = obj({"scope": STRING, "label": NULLABLE_STRING})

API_SCHEMAS = {
    "InsightsFigures": FIGURES,
    "InsightsKpis": obj(
        {
            "label": NULLABLE_STRING,
            "scope": STRING,
            "days": INTEGER,
            "from": STRING,
            "until": STRING,
            "current": NULLABLE_FIGURES,
            "previous": NULLABLE_FIGURES,
            "withheld": NULLABLE_STRING,
            "trend": {"type": ["object", "null"]},
            "daily": {"type": ["array", "null"], "items": INTEGER},
            "unanswered": array(THREAD),
            "topDocuments": array(TOP_DOCUMENT),
        }
    ),
    "InsightsNetwork": obj(
        {
            "unitKind": STRING,
            "days": INTEGER,
            "withheld": NULLABLE_STRING,
            "computedAt": STRING,
            "people": INTEGER,
            "ties": INTEGER,
            "silos": {"type": "object"},
            "threadsWaitingOnOnePerson": INTEGER,
            "personLevel": {"type": "object"},
        },
        required=["unitKind", "days", "withheld", "computedAt"],
    ),
    "InsightsExpert": obj(
        {
            "id": STRING,
            "displayName": STRING,
            "score": INTEGER,
            "counts": {"type": "object", "additionalProperties": INTEGER},
            "evidence": array(EVIDENCE),
        }
    ),
}

KPI_PARAMS = [SCOPE, DAYS, AS_OF]
API_PATHS = {
    "/api/v1/insights/scopes": {
        "get": {
            "summary": "The scopes the caller may pick: channels, sites, libraries, tags, units.",
            "operationId": "listInsightsScopes",
            "responses": {
                "200": json_response({"type": "object"}, "Scopes by kind."),
                "401": UNAUTHENTICATED,
                "403": FORBIDDEN,
            },
        }
    },
    "/api/v1/insights/kpis": {
        "get": {
            "summary": "Engagement KPIs of a scope over a period and the one before it.",
            "description": "Computed only over what the caller may open; figures of a group"
            " under the threshold (at least 5 people) are withheld as 'too few people'.",
            "operationId": "getInsightsKpis",
            "parameters": KPI_PARAMS,
            "responses": {
                "200": json_response(ref("InsightsKpis"), "The KPIs."),
                "400": BAD_INPUT,
                "401": UNAUTHENTICATED,
                "403": FORBIDDEN,
            },
        }
    },
    "/api/v1/insights/network": {
        "get": {
            "summary": "Who discusses with whom between units: E-I index, units that never talk.",
            "description": "Person-level views (includePeople=true) are for admins and audited.",
            "operationId": "getInsightsNetwork",
            "parameters": [
                UNIT,
                DAYS,
                query_param(
                    "includePeople",
                    "Admins: brokers, key-person risk, choke points.",
                    {"type": "string", "enum": ["true", "false"]},
                ),
            ],
            "responses": {
                "200": json_response(ref("InsightsNetwork"), "The analysis."),
                "400": BAD_INPUT,
                "401": UNAUTHENTICATED,
                "403": FORBIDDEN,
            },
        }
    },
    "/api/v1/insights/experts": {
        "get": {
            "summary": "Who knows about a tag or some words, ranked by evidence.",
            "operationId": "getInsightsExperts",
            "parameters": [
                query_param("tag", "A tag.", {"type": "string", "maxLength": 40}),
                query_param("q", "Search words.", {"type": "string", "maxLength": MAX_WORDS}),
            ],
            "responses": {
                "200": json_response(
                    obj(
                        {
                            "tag": NULLABLE_STRING,
                            "q": NULLABLE_STRING,
                            "value": array(ref("InsightsExpert")),
                        }
                    ),
                    "The experts, best first.",
                ),
                "400": BAD_INPUT,
                "401": UNAUTHENTICATED,
                "403": FORBIDDEN,
                "429": error_response("Too many searches this minute (see Retry-After)."),
            },
        }
    },
    "/api/v1/insights/evidence/{person_id}": {
        "get": {
            "summary": "A person's evidence of expertise, by tag, as the caller may see it.",
            "operationId": "getInsightsEvidence",
            "parameters": [path_param("person_id", "Entra object id.")],
            "responses": {
                "200": json_response(
                    obj(
                        {
                            "id": STRING,
                            "value": array(obj({"tag": STRING, "evidence": array(EVIDENCE)})),
                        }
                    ),
                    "Evidence by tag.",
                ),
                "401": UNAUTHENTICATED,
                "403": FORBIDDEN,
            },
        }
    },
}
