"""Data requests: one person's data exported as a JSON archive, and erased (anonymised or
removed) with others' replies kept in place under "Deleted person"; in the API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from flask import Flask

from plaza.cli import main
from tests.overlay_app.admin_staff import staff_app
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import Api, PlazaEnv

SAID = "My opinion on clause nine"
REPLY = "I disagree about clause nine"


@pytest.fixture
def world(make_app: Callable[..., Flask], plaza_env: PlazaEnv, document):
    app = staff_app(make_app, plaza_env)
    apis = {role: Api(app.test_client(), plaza_env.handle.token("api", user=upn))
            for role, upn in plaza_env.people.items() if role != "disabled"}  # fmt: skip
    base = f"/api/v1/documents/{document[0]}/{document[1]}"
    said = apis["author"].post(base + "/comments", json={"body": SAID}).get_json()
    apis["reader"].post(base + "/comments", json={"body": REPLY, "parent_id": said["id"]})
    assert apis["author"].put(base + "/like").status_code == 200
    assert apis["author"].post(base + "/tags", json={"tag": "clause-nine"}).status_code == 201
    room = apis["author"].post(base + "/room").get_json()["id"]
    apis["author"].post(f"/api/v1/rooms/{room}/messages", json={"body": "Chat about nine"})
    apis["author"].put("/api/v1/settings/language", json={"locale": "nl"})
    author_id = plaza_env.tenant.user(plaza_env.people["author"]).id
    return app, apis, base, author_id, said["id"]


def test_the_export_holds_everything_of_theirs(world):
    _app, apis, _, author_id, _comment_id = world
    answer = apis["admin"].get(f"/api/v1/admin/people/{author_id}/export")
    assert answer.headers["Content-Disposition"] == f'attachment; filename="plaza-{author_id}.json"'
    archive = json.loads(answer.get_data(as_text=True))
    assert [c["body"] for c in archive["comments"]] == [SAID]
    assert [t["tag"] for t in archive["tags"]] == ["clause-nine"]
    assert [m["body"] for m in archive["messages"]] == ["Chat about nine"]
    assert len(archive["documentLikes"]) == 1 and len(archive["rooms"]) == 1
    assert [n["kind"] for n in archive["notifications"]] == ["reply"]
    assert archive["language"] == "nl"
    assert apis["reader"].get(f"/api/v1/admin/people/{author_id}/export").status_code == 404


def test_erasing_keeps_replies_under_deleted_person(world):
    app, apis, base, author_id, comment_id = world
    refused = apis["admin"].post(f"/api/v1/admin/people/{author_id}/erase", json={})
    assert refused.status_code == 400
    erased = apis["admin"].post(f"/api/v1/admin/people/{author_id}/erase", json={"confirm": True})
    assert erased.get_json() == {"comments": 1, "messages": 1}
    thread = apis["reader"].get(base + "/comments").get_json()
    top = next(c for c in thread["comments"] if c["id"] == comment_id)
    assert (top["author"], top["body"]) == (
        {"id": "erased-person", "displayName": "Deleted person"}, SAID)  # fmt: skip
    assert [r["body"] for r in top["replies"]] == [REPLY]
    assert apis["reader"].get(base + "/likes").get_json()["likeCount"] == 0
    archive = apis["admin"].get(f"/api/v1/admin/people/{author_id}/export").get_json()
    assert [archive[k] for k in ("comments", "messages", "tags", "notifications", "rooms")] == [
        [], [], [], [], []]  # fmt: skip
    assert archive["language"] is None
    rows = committed_rows(app, "SELECT action, target FROM audit"
                          " WHERE action LIKE 'admin.person.%' ORDER BY id")  # fmt: skip
    assert rows == [("admin.person.erase", author_id), ("admin.person.export", author_id)]


def test_the_cli_exports_and_erases_with_words_removed(world, monkeypatch, plaza_env):
    app, apis, base, _author_id, comment_id = world
    monkeypatch.setenv("PLAZA_DATA_DIR", str(app.extensions["plaza.settings"].data_dir))
    monkeypatch.setenv("PLAZA_DATABASE_URL", app.extensions["plaza.settings"].database_url)
    upn = plaza_env.people["author"]
    exported = CliRunner().invoke(main, ["admin", "export", upn])
    assert exported.exit_code == 0, exported.output
    assert [c["body"] for c in json.loads(exported.output)["comments"]] == [SAID]
    erased = CliRunner().invoke(main, ["admin", "erase", upn, "--mode", "remove", "--yes"])
    assert erased.exit_code == 0, erased.output
    assert erased.output == ('erased ' + plaza_env.tenant.user(upn).display_name + ': 1 comments,'
                             ' 1 messages now by "Deleted person" (words removed)\n')  # fmt: skip
    thread = apis["reader"].get(base + "/comments").get_json()
    top = next(c for c in thread["comments"] if c["id"] == comment_id)
    assert (top["deleted"], top["body"], [r["body"] for r in top["replies"]]) == (
        True, "", [REPLY])  # fmt: skip
    unknown = CliRunner().invoke(main, ["admin", "erase", "nobody@nowhere.example", "--yes"])
    assert unknown.exit_code == 1
    assert unknown.output.strip().startswith("Error: No person 'nobody@nowhere.example'")
