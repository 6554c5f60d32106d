"""Moderation through real HTTP: a report reaches the moderators, they see the text and its
author (and the document only if they can open it), and a hidden comment or message is gone
from every surface for everyone but them, one test per surface; restore brings it back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.overlay_app.admin_staff import moderator_group, staff_app
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import Api, PlazaEnv

WORD = "Zanzibarquokka"
SAID = f"The {WORD} clause is wrong and everyone knows it"
CHAT = f"Chat: the {WORD} figure leaked"
REASON = "Personal attack on a colleague"


@pytest.fixture
def world(make_app: Callable[..., Flask], plaza_env: PlazaEnv, document):
    app = staff_app(make_app, plaza_env)
    _, moderator_upn = moderator_group(plaza_env)

    def api(upn: str) -> Api:
        return Api(app.test_client(), plaza_env.handle.token("api", user=upn))

    people = {**plaza_env.people, "moderator": moderator_upn}
    apis = {role: api(upn) for role, upn in people.items() if role != "disabled"}
    base = f"/api/v1/documents/{document[0]}/{document[1]}"
    made = apis["author"].post(
        base + "/comments", json={"body": SAID}, headers={"Idempotency-Key": "said-once"}
    )
    assert made.status_code == 201
    room = apis["author"].post(base + "/room").get_json()["id"]
    said = apis["author"].post(f"/api/v1/rooms/{room}/messages",
                               json={"body": CHAT, "client_key": "chat-once"})  # fmt: skip
    assert said.status_code == 201
    return {"app": app, "api": apis, "base": base, "comment": made.get_json()["id"],
            "room": room, "message": said.get_json()["id"], "env": plaza_env,
            "oid": {r: plaza_env.tenant.user(u).id for r, u in people.items()}}  # fmt: skip


def _hide(world, kind: str, target: str, act: str = "hide") -> None:
    body = {"kind": kind, "targetId": target, "act": act, "reason": REASON}
    answer = world["api"]["moderator"].post("/api/v1/admin/moderation", json=body)
    assert answer.status_code == 200, answer.get_json()


def _report(world, kind: str = "comment") -> None:
    path = (f"/api/v1/comments/{world['comment']}/report" if kind == "comment"
            else f"/api/v1/messages/{world['message']}/report")  # fmt: skip
    assert world["api"]["reader"].post(path, json={"reason": "Rude"}).status_code == 201


def test_a_report_reaches_the_moderators_queue(world):
    _report(world)
    again = world["api"]["reader"].post(
        f"/api/v1/comments/{world['comment']}/report", json={"reason": "Still rude"}
    )
    assert again.status_code == 409
    notes = world["api"]["moderator"].get("/api/v1/notifications").get_json()["notifications"]
    assert [(n["kind"], n["url"], n["document"]) for n in notes] == [
        ("report", "/admin/moderation", None)
    ]
    queue = world["api"]["moderator"].get("/api/v1/admin/reports").get_json()["reported"]
    author = world["env"].tenant.user(world["env"].people["author"])
    reader = world["env"].tenant.user(world["env"].people["reader"])
    assert queue == [{
        "kind": "comment", "targetId": world["comment"], "text": SAID,
        "author": {"id": author.id, "displayName": author.display_name},
        "where": "in a document you cannot open", "link": None, "state": "shown",
        "reports": [{"reporter": reader.display_name, "reason": "Rude",
                     "at": queue[0]["reports"][0]["at"]}],
    }]  # fmt: skip


def test_a_moderator_who_can_open_the_document_sees_its_title(world):
    tenant, env = world["env"].tenant, world["env"]
    both = set(tenant.visible_items(world["oid"]["moderator"])) & set(
        tenant.visible_items(world["oid"]["reader"])
    )
    drive_id, item_id = sorted(k for k in both if not tenant.item(*k).folder)[0]
    made = world["api"]["moderator"].post(
        f"/api/v1/documents/{drive_id}/{item_id}/comments", json={"body": "Mine to report"}
    )
    path = f"/api/v1/comments/{made.get_json()['id']}/report"
    assert world["api"]["reader"].post(path, json={"reason": "Spam"}).status_code == 201
    entry = world["api"]["moderator"].get("/api/v1/admin/reports").get_json()["reported"][0]
    assert (entry["where"], entry["link"]) == (
        tenant.item(drive_id, item_id).name,
        f"/documents/{drive_id}/{item_id}#comment-{made.get_json()['id']}",
    )
    assert env  # the oracle above is the emulator's own model


def test_outsiders_cannot_report_what_they_cannot_see(world):
    path = f"/api/v1/comments/{world['comment']}/report"
    assert world["api"]["outsider"].post(path, json={"reason": "x"}).status_code == 404
    assert world["api"]["reader"].post(path, json={"reason": " "}).status_code == 400


def test_the_author_is_told_why_and_every_act_is_audited(world):
    _report(world)
    _hide(world, "comment", world["comment"])
    author = world["api"]["author"]
    notes = author.get("/api/v1/notifications").get_json()["notifications"]
    assert [(n["kind"], n["url"]) for n in notes][:1] == [("moderation", "/moderation/notices")]
    told = author.get("/api/v1/moderation/notices").get_json()["notices"]
    assert [(n["kind"], n["act"], n["reason"]) for n in told] == [("comment", "hide", REASON)]
    assert world["api"]["moderator"].get("/api/v1/admin/reports").get_json() == {"reported": []}
    rows = committed_rows(world["app"], "SELECT actor_id, action, target FROM audit"
                          " WHERE action LIKE 'moderation.%' ORDER BY id")  # fmt: skip
    target = f"comment:{world['comment']}"
    assert rows == [(world["oid"]["reader"], "moderation.report", target),
                    (world["oid"]["moderator"], "moderation.hide", target)]  # fmt: skip


def test_members_cannot_moderate(world):
    body = {"kind": "comment", "targetId": world["comment"], "act": "hide", "reason": "x"}
    answer = world["api"]["reader"].post("/api/v1/admin/moderation", json=body)
    assert answer.status_code == 404


# -- hidden comments, surface by surface -------------------------------------------------------


def test_hidden_from_the_document_page(world, sign_in):
    _hide(world, "comment", world["comment"])
    client = world["app"].test_client()
    sign_in(client, world["env"].people["reader"])
    page = client.get(world["base"].removeprefix("/api/v1")).get_data(as_text=True)
    assert SAID not in page and CHAT in page  # the comment went, the chat message stays


def test_hidden_from_the_comments_api_and_by_id(world):
    _hide(world, "comment", world["comment"])
    reader = world["api"]["reader"]
    assert WORD not in reader.get(world["base"] + "/comments").get_data(as_text=True)
    assert reader.get(f"/api/v1/comments/{world['comment']}").status_code == 404


def test_hidden_from_search(world):
    reader = world["api"]["reader"]
    assert reader.get(f"/api/v1/search?q={WORD}").get_json()["total"] == 1
    _hide(world, "comment", world["comment"])
    found = reader.get(f"/api/v1/search?q={WORD}").get_json()
    assert (found["total"], found["value"]) == (0, [])


def test_hidden_from_the_authors_profile(world):
    path = f"/api/v1/people/{world['oid']['author']}/documents"
    before = world["api"]["reader"].get(path).get_json()
    _hide(world, "comment", world["comment"])
    after = world["api"]["reader"].get(path).get_json()
    assert before["total"] == after["total"] + 1


def test_hidden_from_stored_idempotent_answers(world):
    _hide(world, "comment", world["comment"])
    again = world["api"]["author"].post(
        world["base"] + "/comments", json={"body": SAID}, headers={"Idempotency-Key": "said-once"}
    )
    assert WORD not in again.get_data(as_text=True)


def test_restore_brings_it_back(world):
    _hide(world, "comment", world["comment"])
    _hide(world, "comment", world["comment"], act="restore")
    listed = world["api"]["reader"].get(world["base"] + "/comments").get_data(as_text=True)
    assert SAID in listed


# -- hidden chat messages, surface by surface -------------------------------------------------


def test_hidden_from_the_room_history(world):
    _report(world, "message")
    _hide(world, "message", world["message"])
    history = world["api"]["reader"].get(f"/api/v1/rooms/{world['room']}/messages")
    assert WORD not in history.get_data(as_text=True)
    shown = [m for m in history.get_json()["messages"] if m["id"] == world["message"]]
    assert [(m["deleted"], m["body"]) for m in shown] == [(True, "")]


def test_hidden_from_chat_search(world):
    reader = world["api"]["reader"]
    assert CHAT in reader.get(f"/api/v1/chat/search?q={WORD}").get_data(as_text=True)
    _hide(world, "message", world["message"])
    assert "figure leaked" not in reader.get(f"/api/v1/chat/search?q={WORD}").get_data(as_text=True)


def test_hidden_from_the_event_replay(world):
    member = world["api"]["author"]  # the room's member: its events reach them
    assert "figure leaked" in member.get("/api/v1/events?after=0").get_data(as_text=True)
    _hide(world, "message", world["message"])
    replay = member.get("/api/v1/events?after=0").get_data(as_text=True)
    assert "figure leaked" not in replay and "message.deleted" in replay


def test_hidden_from_a_retried_send(world):
    _hide(world, "message", world["message"])
    again = world["api"]["author"].post(f"/api/v1/rooms/{world['room']}/messages",
                                        json={"body": CHAT, "client_key": "chat-once"})  # fmt: skip
    assert again.status_code in (200, 201) and "figure leaked" not in again.get_data(as_text=True)


def test_hidden_from_notifications(world):
    reader_id = world["oid"]["reader"]
    upn = world["env"].people["reader"]
    made = world["api"]["author"].post(
        world["base"] + "/comments", json={"body": f"@[{upn}]({reader_id}) see the {WORD} bit"}
    )
    assert made.status_code == 201
    before = world["api"]["reader"].get("/api/v1/notifications").get_json()["notifications"]
    assert [n["kind"] for n in before if WORD in n["excerpt"]] == ["mention"]
    _hide(world, "comment", made.get_json()["id"])
    after = world["api"]["reader"].get("/api/v1/notifications").get_data(as_text=True)
    assert WORD not in after


def test_hidden_from_the_documents_comment_count(world):
    document = world["api"]["reader"].get(world["base"]).get_json()
    _hide(world, "comment", world["comment"])
    after = world["api"]["reader"].get(world["base"]).get_json()
    assert after["commentCount"] == document["commentCount"] - 1
