"""Feature switches: checked on the server, hiding pages, API and OpenAPI paths, keeping data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.overlay_app.admin_staff import staff_app
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import Api, PlazaEnv, sign_in


@pytest.fixture
def world(make_app: Callable[..., Flask], plaza_env: PlazaEnv, document):
    app = staff_app(make_app, plaza_env)
    apis = {role: Api(app.test_client(), plaza_env.handle.token("api", user=upn))
            for role, upn in plaza_env.people.items() if role != "disabled"}  # fmt: skip
    base = f"/api/v1/documents/{document[0]}/{document[1]}"
    return app, apis, base


def _switch(apis, **states: bool) -> None:
    answer = apis["admin"].patch("/api/v1/admin/switches", json=states)
    assert answer.status_code == 200, answer.get_json()


def test_chat_off_hides_pages_api_and_openapi_and_keeps_the_messages(world, plaza_env):
    app, apis, base = world
    room = apis["author"].post(base + "/room").get_json()["id"]
    said = apis["author"].post(f"/api/v1/rooms/{room}/messages", json={"body": "Still here"})
    assert said.status_code == 201
    _switch(apis, chat=False)
    refused = apis["reader"].get(f"/api/v1/rooms/{room}/messages")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (404, "featureOff")
    stream = apis["reader"].get("/api/v1/events?after=0")
    assert (stream.status_code, stream.get_json()["error"]["code"]) == (404, "featureOff")
    paths = apis["reader"].get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/rooms" not in paths and "/api/v1/comments/{comment_id}" in paths
    client = app.test_client()
    sign_in(client, plaza_env.people["reader"])
    assert client.get("/chat").status_code == 404
    assert 'href="/chat"' not in client.get("/").get_data(as_text=True)
    _switch(apis, chat=True)
    history = apis["reader"].get(f"/api/v1/rooms/{room}/messages").get_json()["messages"]
    assert [m["body"] for m in history] == ["Still here"]


@pytest.mark.parametrize(
    ("switch", "method", "suffix", "body"),
    [("likes", "PUT", "/like", None), ("tags", "POST", "/tags", {"tag": "switched"})],
)
def test_likes_and_tags_switch_off(world, switch, method, suffix, body):
    _app, apis, base = world
    _switch(apis, **{switch: False})
    answer = apis["reader"].call(method, base + suffix, json=body)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (404, "featureOff")


def test_direct_messages_off_refuses_new_direct_rooms_only(world, plaza_env):
    _app, apis, _ = world
    other = plaza_env.tenant.user(plaza_env.people["reader"]).id
    made = apis["author"].post("/api/v1/rooms", json={"kind": "direct", "members": [other]})
    assert made.status_code == 201, made.get_json()
    _switch(apis, direct_messages=False)
    direct = apis["author"].post("/api/v1/rooms", json={"kind": "direct", "members": [other]})
    assert (direct.status_code, direct.get_json()["error"]["code"]) == (404, "featureOff")
    listed = {room["id"] for room in apis["author"].get("/api/v1/rooms").get_json()["rooms"]}
    assert made.get_json()["id"] not in listed  # kept, listed nowhere while switched off
    _switch(apis, direct_messages=True)
    listed = {room["id"] for room in apis["author"].get("/api/v1/rooms").get_json()["rooms"]}
    assert made.get_json()["id"] in listed
    channel = apis["author"].post("/api/v1/rooms", json={"kind": "channel", "name": "still-ok"})
    assert channel.status_code == 201


def test_guests_may_not_post_when_switched_off(world):
    app, apis, _ = world
    _switch(apis, guests_may_post=False)
    answer = apis["guest"].post("/api/v1/notifications/read", json={"all": True})
    assert answer.status_code == 200  # marking one's own notifications read is no post
    room = apis["guest"].post("/api/v1/rooms", json={"kind": "channel", "name": "guest-room"})
    assert (room.status_code, room.get_json()["error"]["code"]) == (403, "guestsMayNotPost")
    rows = committed_rows(app, "SELECT action, target FROM audit WHERE action = 'admin.switches'")
    assert rows == [("admin.switches", "guests_may_post")]


def test_members_cannot_switch(world):
    _app, apis, _ = world
    answer = apis["reader"].patch("/api/v1/admin/switches", json={"chat": False})
    assert answer.status_code == 404
    assert apis["admin"].get("/api/v1/admin/switches").get_json()["chat"] is True
