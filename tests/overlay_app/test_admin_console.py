"""The admin console's shell, roles and sync jobs, through real HTTP on the real app: the
same validations as `plaza sync`, the same tables, every act audited."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from overlay_app.db import index_location
from sync.db import open_index
from sync.jobs import get_job, list_jobs
from tests.overlay_app.admin_staff import moderator_group, staff_app
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import Api, PlazaEnv, csrf_token, sign_in


@pytest.fixture
def staff(make_app: Callable[..., Flask], plaza_env: PlazaEnv) -> Flask:
    return staff_app(make_app, plaza_env)


def _signed_in(app: Flask, upn: str | None) -> FlaskClient:
    client = app.test_client()
    if upn:
        assert sign_in(client, upn).status_code == 302
    return client


def _post(client: FlaskClient, url: str, **form: str):
    return client.post(url, data={**form, "csrf_token": csrf_token(client)})


def _jobs(app: Flask) -> list[str]:
    db = open_index(index_location(app.extensions["plaza.settings"]))
    try:
        return [job.name for job in list_jobs(db)]
    finally:
        db.close()


def _audit(app: Flask) -> list[tuple[str, str]]:
    return committed_rows(app, "SELECT action, target FROM audit WHERE action LIKE 'admin.%'")


def test_who_enters_the_console(staff: Flask, people: dict[str, str], plaza_env: PlazaEnv):
    _, moderator = moderator_group(plaza_env)
    seen = {}
    for role, upn in [("admin", people["admin"]), ("moderator", moderator),
                      ("member", people["reader"]), ("guest", people["guest"]),
                      ("signed_out", None)]:  # fmt: skip
        client = _signed_in(staff, upn)
        seen[role] = (client.get("/admin").status_code, client.get("/admin/jobs").status_code)
    assert seen == {
        "admin": (200, 200),
        "moderator": (200, 404),
        "member": (404, 404),
        "guest": (404, 404),
        "signed_out": (302, 302),
    }


def _unnonced(response) -> str:
    return re.sub(r"nonce(-|=\")[A-Za-z0-9_\-]+", "nonce", response.get_data(as_text=True))


def test_a_refusal_is_a_missing_page(staff: Flask, people: dict[str, str]):
    member = _signed_in(staff, people["reader"])
    refused, missing = member.get("/admin/jobs"), member.get("/admin/no-such-page")
    assert (refused.status_code, _unnonced(refused)) == (missing.status_code, _unnonced(missing))
    api = Api(staff.test_client(), staff.extensions["plaza.test_env"].handle.token(
        "api", user=people["reader"]))  # fmt: skip
    assert api.get("/api/v1/admin/health").get_json() == {
        "error": {"code": "notFound", "message": "Not found."}
    }


def test_the_admin_link_shows_to_staff_only(staff: Flask, people: dict[str, str]):
    assert 'href="/admin"' in _signed_in(staff, people["admin"]).get("/").get_data(as_text=True)
    assert 'href="/admin"' not in _signed_in(staff, people["reader"]).get("/").get_data(
        as_text=True
    )


def test_add_edit_pause_resume_remove_like_the_cli(staff: Flask, people: dict[str, str]):
    admin = _signed_in(staff, people["admin"])
    added = _post(admin, "/admin/jobs", name="web-docs", kind="documents", all_sites="1",
                  every="15m", file_types="PDF, .docx")  # fmt: skip
    assert (added.status_code, added.headers["Location"]) == (303, "/admin/jobs/web-docs")
    db = open_index(index_location(staff.extensions["plaza.settings"]))
    try:
        job = get_job(db, "web-docs")
        assert (job.describe_target(), job.schedule.describe()) == (
            "all sites; file types pdf, docx",
            "every 15m",
        )
    finally:
        db.close()
    assert _post(admin, "/admin/jobs/web-docs/edit", every="1h").status_code == 303
    assert _post(admin, "/admin/jobs/web-docs/pause").status_code == 303
    page = admin.get("/admin/jobs/web-docs").get_data(as_text=True)
    assert "every 1h (paused)" in page
    assert _post(admin, "/admin/jobs/web-docs/resume").status_code == 303
    assert _post(admin, "/admin/jobs/web-docs/remove").headers["Location"] == "/admin/jobs"
    assert "web-docs" not in _jobs(staff)
    assert _audit(staff) == [
        ("admin.job.add", "web-docs"), ("admin.job.edit", "web-docs"),
        ("admin.job.pause", "web-docs"), ("admin.job.resume", "web-docs"),
        ("admin.job.remove", "web-docs"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"name": "Bad Name", "every": "1h", "all_sites": "1"}, "job name 'Bad Name' is not valid"),
        ({"name": "no-when", "all_sites": "1"}, "say when the job runs"),
        ({"name": "two-ways", "all_sites": "1", "site_search": "tax", "every": "1h"},
         "choose the sites with exactly one of"),
        ({"name": "odd-every", "all_sites": "1", "every": "soon"}, "soon"),
    ],
)  # fmt: skip
def test_bad_jobs_are_refused_in_the_clis_words(staff: Flask, people, form, words):
    admin = _signed_in(staff, people["admin"])
    answer = _post(admin, "/admin/jobs", **form)
    assert (answer.status_code, answer.headers["Location"]) == (303, "/admin/jobs")
    assert words in admin.get("/admin/jobs").get_data(as_text=True).replace("&#39;", "'")
    assert _jobs(staff) == []


def test_an_unknown_site_is_named(staff: Flask, people, monkeypatch, plaza_env: PlazaEnv):
    for name, value in plaza_env.connector_env.items():
        monkeypatch.setenv(name, value)
    admin = _signed_in(staff, people["admin"])
    site = plaza_env.info["sharepoint_url"] + "/sites/no-such-site"
    _post(admin, "/admin/jobs", name="ghost", site=site, sites=site, every="1h")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert "no-such-site" in page and _jobs(staff) == []


def test_a_duplicate_name_is_a_conflict_in_the_api(staff: Flask, people):
    api = Api(_signed_in(staff, people["admin"]))
    body = {"name": "people-hourly", "people": True, "every": "1h"}
    assert api.post("/api/v1/admin/jobs", json=body).status_code == 201
    again = api.post("/api/v1/admin/jobs", json=body)
    assert (again.status_code, again.get_json()["error"]["message"]) == (
        409, "a job named 'people-hourly' already exists")  # fmt: skip


def test_run_now_shows_live_progress_then_history(
    staff: Flask, people, monkeypatch, plaza_env: PlazaEnv
):
    for name, value in plaza_env.connector_env.items():
        monkeypatch.setenv(name, value)
    api = Api(_signed_in(staff, people["admin"]))
    body = {"name": "directory", "people": True, "every": "1h"}
    assert api.post("/api/v1/admin/jobs", json=body).status_code == 201
    started = api.post("/api/v1/admin/jobs/directory/run", json={"full": True})
    assert started.status_code == 202
    progress = _wait_for_run(api, "directory")
    assert progress["lastRun"]["outcome"] == "succeeded", progress
    assert progress["items"] > 0 and progress["pages"] > 0
    page = api.client.get("/admin/jobs/directory").get_data(as_text=True)
    assert 'class="run run-succeeded"' in page


def _wait_for_run(api: Api, name: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        progress = api.get(f"/api/v1/admin/jobs/{name}/progress").get_json()
        last = progress["lastRun"]
        if not progress["running"] and last and last["outcome"] != "running":
            return progress
        time.sleep(0.3)
    raise AssertionError(f"the run of {name} did not end: {progress}")


def test_the_audit_log_filters_and_exports_csv(staff: Flask, people: dict[str, str]):
    admin = _signed_in(staff, people["admin"])
    api = Api(admin)
    for name in ("audit-one", "audit-two"):
        assert api.post("/api/v1/admin/jobs", json={"name": name, "people": True, "every": "1h"}
                        ).status_code == 201  # fmt: skip
    _post(admin, "/admin/jobs/audit-one/pause")
    found = api.get("/api/v1/admin/audit?what=admin.job.add").get_json()["entries"]
    assert [(e["action"], e["target"]) for e in found] == [
        ("admin.job.add", "audit-two"), ("admin.job.add", "audit-one")]  # fmt: skip
    by_upn = api.get(f"/api/v1/admin/audit?who={people['admin']}&what=admin.").get_json()
    assert len(by_upn["entries"]) == 3
    assert api.get("/api/v1/admin/audit?from=2999-01-01").get_json() == {"entries": []}
    assert api.get("/api/v1/admin/audit?from=yesterday").status_code == 400
    exported = admin.get("/admin/audit.csv?what=admin.job")
    lines = exported.get_data(as_text=True).splitlines()
    assert exported.headers["Content-Disposition"] == 'attachment; filename="plaza-audit.csv"'
    assert lines[0] == "id,at,actorId,actor,action,target,detail" and len(lines) == 4
    assert "admin.job.pause,audit-one" in lines[1]
