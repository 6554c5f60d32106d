"""Health: red when the emulator throttles or an admin consent is revoked, the scheduler's
heartbeat, people who left; the same report on the page, in the API and from `plaza status`."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from flask import Flask

from overlay_app.db import index_location
from plaza.cli import main
from sync import locks
from sync.db import open_index
from sync.engine import Connector
from sync.jobs import add_job, people_job
from sync.runs import run_job
from sync.schedules import Schedule
from tests.overlay_app.admin_staff import staff_app
from tests.overlay_app.conftest import Api, PlazaEnv, sign_in
from tests.postgres import backend_is_postgres

ALL_ROLES = ["User.Read.All", "Group.Read.All", "GroupMember.Read.All", "Directory.Read.All",
             "Sites.Read.All", "Sites.FullControl.All", "Files.Read.All"]  # fmt: skip


@pytest.fixture
def world(make_app: Callable[..., Flask], fresh_plaza_env: PlazaEnv):
    app = staff_app(make_app, fresh_plaza_env, fresh=True)
    db = open_index(index_location(app.extensions["plaza.settings"]))
    try:
        add_job(db, people_job("directory", Schedule.interval("1h")))
    finally:
        db.close()
    client = app.test_client()
    assert sign_in(client, fresh_plaza_env.people["admin"]).status_code == 302
    return app, Api(client), fresh_plaza_env


def _run(app: Flask, env: PlazaEnv):
    path = index_location(app.extensions["plaza.settings"])
    return run_job(path, "directory", connector=Connector.from_env(env.connector_env))


def test_healthy_after_a_run_with_the_scheduler_alive(world):
    app, api, env = world
    assert _run(app, env).outcome == "succeeded"
    with locks.held(
        index_location(app.extensions["plaza.settings"]), locks.SCHEDULER_LEASE
    ) as other:
        assert other is None
        report = api.get("/api/v1/admin/health").get_json()
    assert (report["healthy"], report["problems"], report["scheduler"]["alive"]) == (True, [], True)
    job = report["jobs"][0]
    assert (job["name"], job["state"], job["lastError"]) == ("directory", "ok", None)
    assert job["lagSeconds"] < 60 and job["nextRun"] is not None
    index_store = "PostgreSQL plaza_index" if backend_is_postgres() else "index.db"
    assert report["sizes"]["people"] > 0 and report["sizes"]["bytes"][index_store] > 0
    after = api.get("/api/v1/admin/health").get_json()
    assert after["scheduler"]["alive"] is False
    assert after["problems"] == ["the scheduler is not running: start `plaza scheduler`"]


def test_throttling_turns_health_red(world):
    app, api, env = world
    rule = {"kind": "throttle", "path": "/users", "count": 2, "retry_after": "0.2"}
    env.control("POST", "/faults", {"rules": [rule]})
    run = _run(app, env)
    assert (run.outcome, run.counts.throttled_waits) == ("succeeded", 2)
    report = api.get("/api/v1/admin/health").get_json()
    assert report["throttling"]["waits"] == 2
    assert "Microsoft throttled Plaza 2 times in the last 24 h" in report["problems"]
    page = api.client.get("/admin/health").get_data(as_text=True)
    assert 'class="card verdict unhealthy"' in page and "2 waits" in page


def test_a_revoked_permission_is_named_on_the_health_page(world):
    app, api, env = world
    roles = [role for role in ALL_ROLES if role not in ("User.Read.All", "Directory.Read.All")]
    env.control("PUT", f"/apps/{env.info['client_id']}/roles", {"roles": roles})
    run = _run(app, env)
    assert run.outcome == "failed"
    job = api.get("/api/v1/admin/health").get_json()["jobs"][0]
    assert job["state"] == "failing"
    assert "User.Read.All" in job["lastError"] and "grant admin consent" in job["lastError"]
    page = api.client.get("/admin/health").get_data(as_text=True)
    assert "User.Read.All" in page and "state-failing" in page


def test_people_disabled_in_the_last_sync_are_listed(world):
    app, api, env = world
    upn = env.people["author"]
    user = env.tenant.user(upn)
    env.control("PATCH", f"/users/{user.id}", {"account_enabled": False})
    assert _run(app, env).outcome == "succeeded"
    left = api.get("/api/v1/admin/health").get_json()["peopleLeft"]
    assert {"id": user.id, "name": user.display_name, "reason": "disabled"} in left


def test_plaza_status_says_the_same(world, monkeypatch):
    app, api, env = world
    env.control("POST", "/faults", {"rules": [{"kind": "throttle", "path": "/users",
                                               "retry_after": "0.1"}]})  # fmt: skip
    _run(app, env)
    monkeypatch.setenv("PLAZA_DATA_DIR", str(app.extensions["plaza.settings"].data_dir))
    if backend_is_postgres():
        monkeypatch.setenv("PLAZA_DATABASE_URL", app.extensions["plaza.settings"].database_url)
    monkeypatch.delenv("PLAZA_REALTIME_URL", raising=False)
    shown = CliRunner().invoke(main, ["status"])
    assert shown.exit_code == 1
    lines = shown.output.splitlines()
    assert lines[:4] == [
        "needs attention:",
        "  - the scheduler is not running: start `plaza scheduler`",
        "  - Microsoft throttled Plaza 1 times in the last 24 h",
        lines[3],
    ] and lines[3].startswith("job directory: ok; last success ")
    as_json = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    from_api = api.get("/api/v1/admin/health").get_json()
    assert {k: v for k, v in as_json.items() if k not in ("checkedAt", "sizes", "jobs")} == {
        k: v for k, v in from_api.items() if k not in ("checkedAt", "sizes", "jobs")
    }
