"""Who may see a chat room, through HTTP and through chat_access itself: rooms one may not see
answer 404 exactly like missing ones on every route, search and lists are trimmed, and revoking
a document in SharePoint (then syncing) takes its room, history, search hits, unread counts and
notifications away."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from overlay_app import access
from overlay_app.chat import access as chat_access
from overlay_app.identity import Person
from tests.overlay_app.api_calls import NOT_FOUND, answer, mention, sent
from tests.overlay_app.app_rows import rows, title_of, who

# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -----------------------------


def created(response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def room_routes(room_id: str, message_id: int, person_id: str) -> list[tuple[str, str, Any]]:
    """Every chat route that names a room or a message of it."""
    room = f"/api/v1/rooms/{room_id}"
    return [
        ("GET", room, None),
        ("GET", f"{room}/messages", None),
        ("GET", f"{room}/messages?after=0&limit=5", None),
        ("POST", f"{room}/messages", {"body": "let me in", "client_key": "in"}),
        ("PUT", f"{room}/read", {"last_read_id": message_id}),
        ("POST", f"{room}/members", {"person_id": person_id}),
        ("DELETE", f"{room}/members?person_id={person_id}", None),
        ("PATCH", f"/api/v1/messages/{message_id}", {"body": "changed"}),
        ("DELETE", f"/api/v1/messages/{message_id}", None),
        ("GET", f"/api/v1/chat/search?q=secret&room_id={room_id}", None),
    ]


def same_as_missing(api, method: str, path: str, payload: Any, hidden: str, missing: str) -> None:
    refused = api.call(method, path, json=payload)
    absent = api.call(method, path.replace(hidden, missing), json=payload)
    assert refused.status_code == absent.status_code == 404, (method, path)
    assert refused.get_json() == absent.get_json() == NOT_FOUND
    assert same_headers(refused) == same_headers(absent)


def same_headers(response) -> list[tuple[str, str]]:
    """The headers without the per-request CSP nonce."""
    return sorted(
        (name, re.sub(r"nonce-[A-Za-z0-9_-]+", "nonce-", value)) for name, value in response.headers
    )


# -- rooms one may not see -----------------------------------------------------------------------


def test_rooms_one_may_not_see_answer_every_route_like_missing_ones(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    outsider, guest = api(people["outsider"]), api(people["guest"])
    me, other, stranger = (who(app, people[p]) for p in ("author", "reader", "outsider"))
    title = title_of(app, document)
    doc_room = created(author.post("/api/v1/documents/{}/{}/room".format(*document)))
    closed = created(
        author.post("/api/v1/rooms", json={"kind": "channel", "name": "M&A", "closed": True})
    )
    open_channel = created(author.post("/api/v1/rooms", json={"kind": "channel", "name": "All"}))
    direct = created(
        author.post("/api/v1/rooms", json={"kind": "direct", "members": [other["id"]]})
    )
    hidden_rooms = {
        outsider: [doc_room, closed, direct],
        guest: [doc_room, closed, direct, open_channel],  # guests need an invitation
    }
    messages = {
        room["id"]: sent(author, room["id"], "secret figures")
        for room in (doc_room, closed, direct, open_channel)
    }

    for person, rooms in hidden_rooms.items():
        for room in rooms:
            for method, path, payload in room_routes(
                room["id"], messages[room["id"]]["id"], me["id"]
            ):
                missing_message = str(uuid.uuid4())
                hidden = room["id"] if room["id"] in path else str(messages[room["id"]]["id"])
                missing = "no-such-room" if hidden == room["id"] else missing_message
                same_as_missing(person, method, path, payload, hidden, missing)
        opening = "/api/v1/documents/{}/{}/room"
        same_as_missing(person, "POST", opening.format(*document), None, document[1], "NO-ITEM")
        hits = answer(person.get("/api/v1/chat/search?q=secret"))["messages"]
        assert {hit["roomId"] for hit in hits} == {open_channel["id"]} - {r["id"] for r in rooms}
        listed = answer(person.get("/api/v1/rooms"))
        visible = [r["id"] for r in listed["rooms"] + listed["openChannels"]]
        assert not {r["id"] for r in rooms} & set(visible)
        assert title not in json.dumps(listed)
        assert title not in json.dumps(hits)
    # The one room the outsider may see is the open channel; the reader also sees the direct
    # room and the document's (once opened), never the closed channel.
    assert [r["id"] for r in answer(outsider.get("/api/v1/rooms"))["openChannels"]] == [
        open_channel["id"]
    ]
    hits = answer(reader.get("/api/v1/chat/search?q=secret"))["messages"]
    assert sorted(hit["roomId"] for hit in hits) == sorted(
        [doc_room["id"], direct["id"], open_channel["id"]]
    )
    # Nothing was written by any refused call.
    assert rows(app, "SELECT count(*) FROM messages") == [(4,)]
    assert rows(app, "SELECT count(*) FROM room_members WHERE person_id = ?", [stranger["id"]]) == [
        (0,)
    ]
    # Refusals are audited with ids only.
    details = rows(
        app,
        "SELECT DISTINCT action, target, detail FROM audit WHERE actor_id = ? ORDER BY 2, 3",
        [stranger["id"]],
    )
    assert ("access.denied", f"room:{closed['id']}", "channel not open to them") in details
    assert ("access.denied", f"room:{direct['id']}", "direct not open to them") in details
    target = "document:{}/{}".format(*document)
    assert ("access.denied", target, "not visible") in details
    assert title not in json.dumps(details)


def test_a_guest_invited_to_an_open_channel_takes_part_like_a_member(app, api, people):
    author, guest = api(people["author"]), api(people["guest"])
    visitor = who(app, people["guest"])
    room = created(author.post("/api/v1/rooms", json={"kind": "channel", "name": "Clients"}))
    assert guest.get(f"/api/v1/rooms/{room['id']}").status_code == 404
    answer(author.post(f"/api/v1/rooms/{room['id']}/members", json={"person_id": visitor["id"]}))
    assert answer(guest.get(f"/api/v1/rooms/{room['id']}"))["myRole"] == "member"
    assert sent(guest, room["id"], "Thanks for having me")["author"] == visitor
    assert [r["id"] for r in answer(guest.get("/api/v1/rooms"))["rooms"]] == [room["id"]]
    leaves = guest.delete(f"/api/v1/rooms/{room['id']}/members?person_id={visitor['id']}")
    assert leaves.status_code == 204
    assert guest.get(f"/api/v1/rooms/{room['id']}").status_code == 404


def test_chat_access_answers_for_people_by_id_and_in_bulk(app, api, people, document):
    author = api(people["author"])
    me, other, stranger, visitor = (
        who(app, people[p]) for p in ("author", "reader", "outsider", "guest")
    )
    doc_room = created(author.post("/api/v1/documents/{}/{}/room".format(*document)))
    closed = created(
        author.post("/api/v1/rooms", json={"kind": "channel", "name": "Closed", "closed": True})
    )
    open_channel = created(author.post("/api/v1/rooms", json={"kind": "channel", "name": "Open"}))
    ids = [doc_room["id"], closed["id"], open_channel["id"], "no-such-room"]
    expected = {
        me["id"]: {doc_room["id"], closed["id"], open_channel["id"]},
        other["id"]: {doc_room["id"], open_channel["id"]},
        stranger["id"]: {open_channel["id"]},
        visitor["id"]: set(),
        "not-a-person": set(),
    }
    with app.test_request_context():
        rooms = chat_access.load_rooms(ids)
        assert sorted(rooms) == sorted(ids[:3])
        for person_id, visible in expected.items():
            seen = {r for r in ids[:3] if chat_access.can_see_room(person_id, rooms[r])}
            assert seen == visible, person_id
            if person_id == "not-a-person":
                continue  # a Person is only ever made for someone in the directory
            person = Person(person_id, "x", "x", person_id == visitor["id"], frozenset())
            assert chat_access.visible_room_ids(person, ids) == visible, person_id
        author_person = Person(me["id"], me["displayName"], "", False, frozenset())
        assert [r.id for r in chat_access.my_rooms(author_person)] == ids[:3]
        assert chat_access.roles_of(me["id"], ids) == {
            doc_room["id"]: "member",
            closed["id"]: "owner",
            open_channel["id"]: "owner",
        }
        assert chat_access.load_room("x" * 65) is None
        assert chat_access.load_room(None) is None


# -- revocation ----------------------------------------------------------------------------------


def test_revoking_the_document_takes_its_room_away_after_the_next_sync(
    make_app, fresh_plaza_env, api, people, document, resync, sign_in
):
    app = make_app(env=fresh_plaza_env)
    author, reader = api(people["author"], app), api(people["reader"], app)
    other = who(app, people["reader"])
    title = title_of(app, document)
    room = created(author.post("/api/v1/documents/{}/{}/room".format(*document)))
    created(reader.post("/api/v1/documents/{}/{}/room".format(*document)))
    message = sent(author, room["id"], f"{mention(other)} the secret figures")
    assert answer(reader.get("/api/v1/rooms"))["rooms"][0]["unreadCount"] == 1
    assert len(answer(reader.get("/api/v1/chat/search?q=figures"))["messages"]) == 1
    assert answer(reader.get("/api/v1/notifications"))["unreadCount"] == 1

    fresh_plaza_env.revoke_everyone_but(*document, people["author"])
    # Opening the room asks Graph with the person's own token: refused before any sync (once
    # the answer cached for the reader's earlier API calls is forgotten).
    access.live_checks(app).answers.forget()
    browser = app.test_client()
    sign_in(browser, people["reader"])
    live = api(browser).post("/api/v1/documents/{}/{}/room".format(*document))
    assert (live.status_code, live.get_json()) == (404, NOT_FOUND)

    resync(app, people=False, documents=True)
    for method, path, payload in room_routes(room["id"], message["id"], other["id"]):
        same_as_missing(reader, method, path, payload, room["id"], "no-such-room")
    assert answer(reader.get("/api/v1/rooms")) == {"rooms": [], "openChannels": []}
    assert answer(reader.get("/api/v1/chat/search?q=figures")) == {"messages": []}
    assert answer(reader.get("/api/v1/notifications")) == {"unreadCount": 0, "notifications": []}
    refused = reader.post("/api/v1/documents/{}/{}/room".format(*document))
    assert (refused.status_code, refused.get_json()) == (404, NOT_FOUND)
    assert title not in refused.get_data(as_text=True)
    # The author keeps everything.
    assert [
        m["id"] for m in answer(author.get(f"/api/v1/rooms/{room['id']}/messages"))["messages"]
    ] == [message["id"]]
    assert len(answer(author.get("/api/v1/chat/search?q=figures"))["messages"]) == 1
    with app.test_request_context():
        assert not chat_access.can_see_room(other["id"], chat_access.load_room(room["id"]))


def test_a_deleted_documents_room_stays_readable_and_read_only(
    make_app, fresh_plaza_env, api, people, document, resync
):
    app = make_app(env=fresh_plaza_env)
    author, outsider = api(people["author"], app), api(people["outsider"], app)
    room = created(author.post("/api/v1/documents/{}/{}/room".format(*document)))
    message = sent(author, room["id"], "Before the deletion")
    fresh_plaza_env.control("DELETE", "/items/{}/{}".format(*document))
    resync(app, people=False, documents=True)

    assert answer(author.get(f"/api/v1/rooms/{room['id']}"))["archived"] is True
    history = answer(author.get(f"/api/v1/rooms/{room['id']}/messages"))["messages"]
    assert [m["body"] for m in history] == ["Before the deletion"]
    archived = {
        "error": {
            "code": "conflict",
            "message": "this document was deleted in SharePoint; its chat is archived",
        }
    }
    path = f"/api/v1/messages/{message['id']}"
    for response in (
        author.post(f"/api/v1/rooms/{room['id']}/messages", json={"body": "After"}),
        author.patch(path, json={"body": "Changed"}),
        author.delete(path),
    ):
        assert (response.status_code, response.get_json()) == (409, archived)
    assert answer(author.post("/api/v1/documents/{}/{}/room".format(*document)))["id"] == room["id"]
    assert outsider.get(f"/api/v1/rooms/{room['id']}").status_code == 404
    assert rows(app, "SELECT body, deleted_at FROM messages") == [("Before the deletion", None)]
