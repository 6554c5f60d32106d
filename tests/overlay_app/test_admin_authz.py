"""The admin console's authorisation matrix: every /admin and /api/v1/admin route as an
admin, a moderator, a member, a guest and nobody signed in. Everyone but staff meets a missing
page (404); moderators reach the moderation routes only. (The five roles of the app's main
matrix, tests/overlay_app/authz_cases.py, all get 404 on these routes too.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app.db import index_location
from sync.db import open_index
from sync.jobs import add_job, people_job
from sync.schedules import Schedule
from tests.overlay_app.admin_staff import moderator_group
from tests.overlay_app.conftest import Api, PlazaEnv, app_on_backend, csrf_token, sign_in
from tests.postgres import index_at

OUT, GUEST, MEMBER, MODERATOR, ADMIN = "signed_out", "guest", "member", "moderator", "admin"
ROLES = (OUT, GUEST, MEMBER, MODERATOR, ADMIN)
SWITCHES_ON = {"chat": "1", "direct_messages": "1", "likes": "1", "tags": "1",
               "guests_may_post": "1"}  # fmt: skip


def _expect(admin: int, moderator: int = 404, signed_out: int | None = None) -> dict[str, int]:
    return {OUT: signed_out or 302, GUEST: 404, MEMBER: 404, MODERATOR: moderator, ADMIN: admin}


def page(admin: int = 200, moderator: int = 404) -> dict[str, int]:
    return _expect(admin, moderator, 302)


def form(admin: int = 303, moderator: int = 404) -> dict[str, int]:
    return _expect(admin, moderator, 303)


def api(admin: int = 200, moderator: int = 404) -> dict[str, int]:
    return _expect(admin, moderator, 401)


J, A = "/admin/jobs/matrix-job", "/api/v1/admin"
CASES = [
    ("GET", "/admin", None, page(200, 200)),
    ("GET", "/admin/jobs", None, page()),
    ("POST", "/admin/jobs", {"name": "{fresh}", "people": "1", "every": "1h"}, form()),
    ("GET", J, None, page()),
    ("POST", J + "/edit", {"every": "2h"}, form()),
    ("POST", J + "/pause", {}, form()),
    ("POST", J + "/resume", {}, form()),
    ("POST", J + "/run", {}, form()),
    ("POST", "/admin/jobs/{fresh_job}/remove", {}, form()),
    ("GET", "/admin/health", None, page()),
    ("GET", "/admin/connector", None, page()),
    ("GET", "/admin/moderation", None, page(200, 200)),
    ("POST", "/admin/moderation/comment/{c}", {"act": "dismiss", "reason": "ok"}, form(303, 303)),
    ("GET", "/admin/switches", None, page()),
    ("POST", "/admin/switches", SWITCHES_ON, form()),
    ("GET", "/admin/terms", None, page()),
    ("POST", "/admin/terms", {"text": ""}, form()),  # refused (empty): no terms gate the rest
    ("GET", "/admin/people", None, page()),
    ("GET", "/admin/people/export?person={author_upn}", None, page()),
    ("POST", "/admin/people/erase", {"person": "{author_upn}"}, form(400)),  # no confirmation
    ("GET", "/admin/audit", None, page()),
    ("GET", "/admin/audit.csv", None, page()),
    ("GET", A + "/jobs", None, api()),
    ("POST", A + "/jobs", {"name": "{fresh}", "people": True, "every": "1h"}, api(201)),
    ("GET", A + "/jobs/matrix-job/progress", None, api()),
    ("POST", A + "/jobs/matrix-job/run", {}, api(202)),
    ("GET", A + "/health", None, api()),
    ("GET", A + "/reports", None, api(200, 200)),
    ("POST", A + "/moderation", {"kind": "comment", "targetId": "{c}", "act": "dismiss",
                                 "reason": "ok"}, api(200, 200)),
    ("GET", A + "/switches", None, api()),
    ("PATCH", A + "/switches", {}, api()),
    ("GET", A + "/people/{author}/export", None, api()),
    ("POST", A + "/people/{author}/erase", {}, api(400)),  # no confirmation: nothing erased
    ("GET", A + "/audit", None, api()),
]  # fmt: skip


class World:
    def __init__(self, app: Flask, env: PlazaEnv, upns: dict[str, str], ids: dict[str, str]):
        self.app, self.env, self.ids = app, env, ids
        self.pages: dict[str, FlaskClient] = {OUT: app.test_client()}
        self.apis: dict[str, Api] = {OUT: Api(app.test_client())}
        for role, upn in upns.items():
            self.pages[role] = app.test_client()
            assert sign_in(self.pages[role], upn).status_code == 302
            self.apis[role] = Api(app.test_client(), env.handle.token("api", user=upn))


@pytest.fixture(scope="module")
def world(
    plaza_env: PlazaEnv,
    document,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> World:
    data_dir: Path = tmp_path_factory.mktemp("admin-authz")
    plaza_env.copy_index(data_dir)
    group_id, moderator = moderator_group(plaza_env)
    app = app_on_backend(plaza_env, data_dir, request, moderator_group_id=group_id,
                         writes_per_minute=10_000)  # fmt: skip
    db = open_index(index_at(data_dir / "index.db"))
    try:
        add_job(db, people_job("matrix-job", Schedule.interval("1h")))
    finally:
        db.close()
    people = plaza_env.people
    upns = {GUEST: people["guest"], MEMBER: people["reader"], MODERATOR: moderator,
            ADMIN: people["admin"]}  # fmt: skip
    author = Api(app.test_client(), plaza_env.handle.token("api", user=people["author"]))
    made = author.post(f"/api/v1/documents/{document[0]}/{document[1]}/comments",
                       json={"body": "Matrix remark"})  # fmt: skip
    ids = {"c": made.get_json()["id"], "author_upn": people["author"],
           "author": plaza_env.tenant.user(people["author"]).id}  # fmt: skip
    return World(app, plaza_env, upns, ids)


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _fresh_job(world: World) -> str:
    name = f"gone-{os.urandom(3).hex()}"
    db = open_index(index_location(world.app.extensions["plaza.settings"]))
    try:
        add_job(db, people_job(name, Schedule.interval("1h")))
    finally:
        db.close()
    return name


def test_every_admin_route_has_a_case(world: World) -> None:
    routes = {
        (method, rule.rule)
        for rule in world.app.url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/api/v1/admin"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = set()
    for method, path, _, _ in CASES:
        adapter = world.app.url_map.bind("localhost")
        endpoint, _ = adapter.match(_fill(path.split("?")[0], _ids(world)), method=method)
        rule = next(r for r in world.app.url_map.iter_rules(endpoint))
        covered.add((method, rule.rule))
    assert sorted(routes - covered) == []


def _ids(world: World) -> dict[str, str]:
    return {**world.ids, "fresh": f"new-{os.urandom(3).hex()}", "fresh_job": "x"}


@pytest.mark.parametrize(("method", "path", "body", "expect"), CASES,
                         ids=[f"{m} {p}" for m, p, _, _ in CASES])  # fmt: skip
def test_route(world: World, method: str, path: str, body, expect: dict[str, int]) -> None:
    seen = {}
    for role in ROLES:
        ids = {**_ids(world), "fresh_job": _fresh_job(world)}
        url, sent = _fill(path, ids), _fill(body, ids)
        if url.startswith("/api/"):
            answer = world.apis[role].call(method, url, json=sent)
        elif method == "GET":
            answer = world.pages[role].get(url)
        else:
            client = world.pages[role]
            form = dict(sent or {})
            if role != OUT:
                form["csrf_token"] = csrf_token(client)
            answer = client.open(url, method=method, data=form)
        seen[role] = answer.status_code
    assert seen == expect
