"""/api/v1/openapi.json: a valid OpenAPI 3.1 document that tells the truth about the API.

- Valid: OpenAPI 3.1's own JSON Schema (openapi-spec-validator when installed; always the copy
  of the OAS 3.1 schema that schemathesis ships), and every schema in it a valid JSON Schema.
- True: every /api/v1 route of app.url_map (the document's own included) is documented with
  its method and path parameters, and every documented operation is a route; every feature's
  paths are in it; the documented rules for tags, comment and message bodies and mention
  suggestions take exactly the values the app takes.
- Robust: schemathesis generates requests from the document and sends them over HTTP to the app
  served on loopback, with a real bearer token: no answer is a 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import hypothesis
import jsonschema_rs
import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from openapi_spec_validator import validate
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from overlay_app import openapi
from overlay_app.chat.actions import MAX_MESSAGE_CHARS
from overlay_app.discussion.rendering import MAX_BODY_CHARS
from overlay_app.features import FEATURES
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.conftest import Api, PlazaEnv

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
FLASK_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
ID_QUERY = ("drive_id", "item_id")  # ids passed in the query (mention suggestions)
EXAMPLES_PER_OPERATION = 6  # the whole run stays well under a minute on 2 cores
# Admin operations are fuzzed as an admin (the author only meets the console's 404), except
# those that would change the world under the other operations (erasing people, switching
# features off, moderating the seeded comment) or start a process per example (runs): those
# go as the author, and only need never to fail.
AS_AUTHOR_ONLY = {
    ("POST", "/api/v1/admin/people/{person_id}/erase"), ("PATCH", "/api/v1/admin/switches"),
    ("POST", "/api/v1/admin/moderation"), ("POST", "/api/v1/admin/jobs/{name}/run"),
}  # fmt: skip


@pytest.fixture
def spec(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def routes(app: Flask) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every /api/v1 route the app serves."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = FLASK_PARAM.sub(r"{\1}", rule.rule)
            found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate(spec)  # openapi-spec-validator (dev extra)
    problems = [
        f"{error.instance_path}: {error.message}"
        for error in OPENAPI_31_VALIDATOR.iter_errors(spec)
    ]
    assert problems == []
    schemathesis.openapi.from_dict(spec).validate()


def test_every_schema_in_it_is_valid_json_schema(spec: dict[str, Any]) -> None:
    schemas = dict(spec["components"]["schemas"])
    for (method, path), operation in operations(spec).items():
        for parameter in operation.get("parameters", []):
            schemas[f"{method} {path} {parameter['name']}"] = parameter["schema"]
        for media in operation.get("requestBody", {}).get("content", {}).values():
            schemas[f"{method} {path} body"] = media["schema"]
        for status, answer in operation["responses"].items():
            for media in answer.get("content", {}).values():
                schemas[f"{method} {path} {status}"] = media["schema"]
    invalid = [name for name, schema in schemas.items() if not jsonschema_rs.meta.is_valid(schema)]
    assert invalid == []


def test_every_api_route_is_documented_and_nothing_else(app: Flask, spec: dict[str, Any]) -> None:
    served = routes(app)
    assert ("get", "/api/v1/openapi.json") in served
    documented = set(operations(spec))
    assert sorted(served - documented) == [], "routes missing from the document"
    assert sorted(documented - served) == [], "documented operations the app does not serve"


def test_path_parameters_are_declared(spec: dict[str, Any]) -> None:
    undeclared = []
    for (method, path), operation in operations(spec).items():
        declared = {
            p["name"]
            for p in spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
            if p["in"] == "path" and p.get("required") is True
        }
        named = set(re.findall(r"{([^}]+)}", path))
        if named != declared:
            undeclared.append((method, path, sorted(named ^ declared)))
    assert undeclared == []


def test_every_operation_answers_401_and_uses_the_error_envelope(spec: dict[str, Any]) -> None:
    wrong = []
    for (method, path), operation in operations(spec).items():
        if path == "/api/v1/openapi.json":
            continue
        responses = operation["responses"]
        if "401" not in responses:
            wrong.append((method, path, "no 401"))
        for status, answer in responses.items():
            if status.startswith("4"):
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": "#/components/schemas/Error"}:
                    wrong.append((method, path, status))
    assert wrong == []


def test_every_feature_documents_its_paths_in_it(spec: dict[str, Any]) -> None:
    """The document is built from the app's own feature list: a feature with an API cannot be
    registered yet left out (overlay_app.openapi once kept a second list)."""
    expected: dict[str, set[str]] = {}
    for module in (*FEATURES, openapi):
        for path, item in getattr(module, "API_PATHS", {}).items():
            expected.setdefault(path, set()).update(m for m in item if m in METHODS)
    found = {path: {m for m in item if m in METHODS} for path, item in spec["paths"].items()}
    assert found == expected
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []  # public


def test_the_document_describes_itself_and_anyone_may_read_it(app: Flask) -> None:
    response = app.test_client().get("/api/v1/openapi.json")  # nobody signed in
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.get_json()["paths"]


# -- the documented rules take exactly what the app takes -----------------------------------------

TAGS = "/api/v1/documents/{drive_id}/{item_id}/tags"
COMMENTS = "/api/v1/documents/{drive_id}/{item_id}/comments"
ONE_TAG, ONE_COMMENT = TAGS + "/{tag}", "/api/v1/comments/{comment_id}"
MESSAGES, ONE_MESSAGE = "/api/v1/rooms/{room_id}/messages", "/api/v1/messages/{message_id}"
SUGGEST = "/api/v1/mentions/suggest"
TAG_VALUES = ["q3-report", "  Q3-Report ", "\tdraft\r\n", "a" * 40, "a" * 41, "", "   ",
              "q3 report", "résumé", "\u212a", "a_b", "#tag", "\u00a0q3", "q3\u2003"]  # fmt: skip
BLANKS = ["", " ", "\n\t ", "\u00a0", "\u2003\n"]
COMMENT_VALUES = ["Fine", "  padded  ", *BLANKS, "x" * MAX_BODY_CHARS, "x" * (MAX_BODY_CHARS + 1)]
MESSAGE_VALUES = ["Hi", *BLANKS, "x" * MAX_MESSAGE_CHARS, "x" * (MAX_MESSAGE_CHARS + 1)]
# (method, path, where the value goes, its name, the values to try)
RULES = [
    ("post", TAGS, "body", "tag", TAG_VALUES),
    ("delete", ONE_TAG, "path", "tag", TAG_VALUES[:4] + TAG_VALUES[7:]),  # "" is another route
    ("get", "/api/v1/tags/{tag}", "path", "tag", TAG_VALUES[:4] + TAG_VALUES[7:]),
    ("post", COMMENTS, "body", "body", COMMENT_VALUES),
    ("patch", ONE_COMMENT, "body", "body", COMMENT_VALUES),
    ("post", MESSAGES, "body", "body", MESSAGE_VALUES),
    ("patch", ONE_MESSAGE, "body", "body", MESSAGE_VALUES),
    ("get", SUGGEST, "query", "drive_id", ["", "{drive_id}"]),
    ("get", SUGGEST, "query", "item_id", ["", "{item_id}"]),
]


def _documented(spec: dict[str, Any], method: str, path: str, where: str, name: str) -> dict:
    operation = spec["paths"][path][method]
    if where == "body":
        return operation["requestBody"]["content"]["application/json"]["schema"]["properties"][name]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name and p["in"] == where]
    assert parameter["required"] is True
    return parameter["schema"]


def _real_things(who: Api, document: tuple[str, str]) -> dict[str, str]:
    base = "/api/v1/documents/{}/{}".format(*document)
    comment = who.post(base + "/comments", json={"body": "To be edited"})
    room = who.post(base + "/room")
    message = who.post(f"/api/v1/rooms/{room.json['id']}/messages", json={"body": "To edit"})
    assert (comment.status_code, room.status_code, message.status_code) == (201, 201, 201)
    return {"drive_id": document[0], "item_id": document[1], "comment_id": comment.json["id"],
            "room_id": room.json["id"], "message_id": str(message.json["id"])}  # fmt: skip


def _send(who: Api, method: str, path: str, where: str, name: str, value: str, real: dict):
    ids = {**real, name: quote(value, safe="")} if where == "path" else real
    url = re.sub(r"{([a-z_]+)}", lambda m: ids[m.group(1)], path)
    if where == "body":
        return who.call(method.upper(), url, json={name: value})
    if where == "query":
        query = {"drive_id": real["drive_id"], "item_id": real["item_id"], "q": "a"}
        query[name] = value.format(**real)
        return who.get(url, query_string=query)
    return who.call(method.upper(), url)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule[0]} {rule[1]} {rule[3]}")
def test_a_documented_rule_takes_what_the_app_takes(
    rule, spec: dict[str, Any], api: Callable[..., Api], people, document
) -> None:
    method, path, where, name, values = rule
    author = api(people["author"])
    real = _real_things(author, document)
    valid = jsonschema_rs.validator_for(_documented(spec, method, path, where, name)).is_valid
    disagree = []
    for value in values:
        answer = _send(author, method, path, where, name, value, real)
        assert answer.status_code in (200, 201, 204, 400, 413), (value, answer.status_code)
        if valid(value.format(**real)) != (answer.status_code < 300):
            disagree.append((value[:50], answer.status_code))
    assert disagree == []


# -- schemathesis against the served app -----------------------------------------------------


@pytest.fixture(scope="module")
def served(plaza_env: PlazaEnv, tmp_path_factory: pytest.TempPathFactory):
    site = start_live_site(plaza_env, tmp_path_factory.mktemp("openapi-live"))
    yield site
    site.stop()


def _new_comment(site: LiveSite, author: requests.Session, document: tuple[str, str]) -> str:
    url = f"{site.url}/api/v1/documents/{document[0]}/{document[1]}/comments"
    made = author.post(url, json={"body": "Throwaway for the fuzzer"})
    assert made.status_code == 201
    return made.json()["id"]


def _new_message(site: LiveSite, author: requests.Session, room_id: str) -> int:
    made = author.post(f"{site.url}/api/v1/rooms/{room_id}/messages", json={"body": "Seed"})
    assert made.status_code == 201
    return made.json()["id"]


def _seed_discussion(
    site: LiveSite, document: tuple[str, str]
) -> tuple[requests.Session, dict[str, str]]:
    """Something for the generated requests to find (a comment, a like, a tag, the document's
    chat room), and the ids of real things by path parameter name."""
    author = site.api(site.env.people["author"])
    base = f"{site.url}/api/v1/documents/{document[0]}/{document[1]}"
    assert author.put(base + "/like").status_code == 200
    assert author.post(base + "/tags", json={"tag": "fuzz"}).status_code == 201
    room = author.post(base + "/room")
    assert room.status_code == 201
    real = {
        "room_id": room.json()["id"],
        "message_id": _new_message(site, author, room.json()["id"]),
        "drive_id": document[0],
        "item_id": document[1],
        "comment_id": _new_comment(site, author, document),
        "person_id": site.env.tenant.user(site.env.people["author"]).id,
        "tag": "fuzz",
    }
    return author, real


def test_generated_requests_never_meet_a_server_error(
    served: LiveSite, document: tuple[str, str]
) -> None:
    author, real = _seed_discussion(served, document)
    admin = served.api(served.env.people["admin"])
    job = {"name": "fuzz-job", "people": True, "every": "1h"}
    assert admin.post(served.url + "/api/v1/admin/jobs", json=job).status_code == 201
    real["name"] = "fuzz-job"

    def caller(case) -> requests.Session:
        key = (case.method, case.operation.path)
        staff = key[1].startswith("/api/v1/admin") and key not in AS_AUTHOR_ONLY
        return admin if staff else author

    def real_ids(case) -> dict[str, Any]:
        path = case.operation.path
        if path.endswith("/children"):
            return {**real, "item_id": "root"}
        if case.method == "DELETE" and path == "/api/v1/comments/{comment_id}":
            return {**real, "comment_id": _new_comment(served, author, document)}
        if case.method == "DELETE" and path == "/api/v1/messages/{message_id}":
            return {**real, "message_id": _new_message(served, author, real["room_id"])}
        return real

    schema = schemathesis.openapi.from_url(served.url + "/api/v1/openapi.json")
    failures: list[str] = []
    seen: dict[str, list[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def send(case) -> None:
            # Each generated request goes twice: with the generated ids (mostly 404s), then
            # with ids of real things so the generated bodies and queries reach the code behind.
            generated = {**(case.query or {}), **(case.path_parameters or {})}
            for ids in (generated, real_ids(case)):
                if case.path_parameters:
                    case.path_parameters = {
                        k: ids.get(k, generated.get(k)) for k in case.path_parameters
                    }
                if case.query:
                    case.query = {
                        k: ids.get(k, v) if k in ID_QUERY else v for k, v in case.query.items()
                    }
                response = case.call(session=caller(case))
                seen.setdefault(f"{case.method} {case.operation.path}", []).append(
                    response.status_code
                )
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} query={case.query}"
                        f" body={case.body!r} -> {response.status_code}"
                    )

        send()
    assert failures == []
    # The token worked and the real ids reached the code behind every operation: each one
    # answered something other than "who are you" or "no such thing" at least once.
    unreached = {name for name, statuses in seen.items() if set(statuses) <= {401, 404}}
    unreached -= {f"{method} {path}" for method, path in AS_AUTHOR_ONLY}
    assert sorted(unreached) == []
