"""The chat API through HTTP: document rooms, messages, idempotent sends, paging, edits and
deletes, read markers and unread counts, mentions, bad input and the events each write
appends. Exact values throughout; channels and direct rooms are in test_chat_rooms.py, who may
see what in test_chat_access.py."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from flask import Flask

from overlay_app import chat_reads, db
from tests.overlay_app.api_calls import (
    NOT_FOUND,
    answer,
    assert_two_writes_a_minute,
    mention,
    send,
    sent,
)
from tests.overlay_app.app_rows import events, rows, who

# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -----------------------------


def last_event_id(app: Flask) -> int:
    return rows(app, "SELECT coalesce(max(id), 0) FROM events")[0][0]


def document_room(api, document) -> dict[str, Any]:
    response = api.post("/api/v1/documents/{}/{}/room".format(*document))
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


# -- document rooms, messages, unread counts -----------------------------------------------------


def test_a_document_room_opens_once_and_carries_messages_read_markers_and_events(
    app, api, people, document
):
    author, reader = api(people["author"]), api(people["reader"])
    me, other = who(app, people["author"]), who(app, people["reader"])
    with app.app_context():
        title = (
            db.index()
            .execute("SELECT name FROM items WHERE drive_id = ? AND item_id = ?", list(document))
            .fetchone()[0]
        )
    made = author.post("/api/v1/documents/{}/{}/room".format(*document))
    room = answer(made, 201)
    assert made.headers["Location"] == f"/api/v1/rooms/{room['id']}"
    assert room == {
        "id": room["id"],
        "kind": "document",
        "name": None,
        "description": None,
        "closed": False,
        "document": {"driveId": document[0], "itemId": document[1]},
        "createdBy": me["id"],
        "createdAt": room["createdAt"],
        "members": None,
        "title": title,
        "archived": False,
        "myRole": "member",
        "unreadCount": 0,
        "lastReadId": 0,
        "lastMessageId": None,
    }
    again = reader.post("/api/v1/documents/{}/{}/room".format(*document))
    assert answer(again)["id"] == room["id"]
    assert rows(app, "SELECT count(*) FROM rooms") == [(1,)]

    first = sent(author, room["id"], "Is **section 2** final?", key="k-1")
    assert first == {
        "id": first["id"],
        "roomId": room["id"],
        "author": me,
        "body": "Is **section 2** final?",
        "bodyHtml": "<p>Is <strong>section 2</strong> final?</p>",
        "createdAt": first["createdAt"],
        "editedAt": None,
        "deleted": False,
        "clientKey": "k-1",
    }
    # Acknowledged means committed: another connection (another process) already reads it.
    with sqlite3.connect(app.extensions["plaza.settings"].social_path) as other_process:
        stored = other_process.execute("SELECT id, body FROM messages").fetchall()
    other_process.close()
    assert stored == [(first["id"], "Is **section 2** final?")]
    second = sent(author, room["id"], "<script>alert(1)</script> hello")
    assert second["bodyHtml"] == "<p>&lt;script&gt;alert(1)&lt;/script&gt; hello</p>"

    listed = answer(reader.get("/api/v1/rooms"))
    assert listed["openChannels"] == []
    [mine] = listed["rooms"]
    assert (mine["id"], mine["unreadCount"], mine["lastReadId"], mine["lastMessageId"]) == (
        room["id"],
        2,
        0,
        second["id"],
    )
    # One's own messages are never unread: the sender's marker moved with each send.
    assert answer(author.get(f"/api/v1/rooms/{room['id']}"))["unreadCount"] == 0
    assert answer(author.get(f"/api/v1/rooms/{room['id']}"))["lastReadId"] == second["id"]

    history = answer(reader.get(f"/api/v1/rooms/{room['id']}/messages"))
    assert history == {"messages": [first, second], "hasMore": False}
    marked = reader.put(f"/api/v1/rooms/{room['id']}/read", json={"last_read_id": first["id"]})
    assert answer(marked) == {"roomId": room["id"], "lastReadId": first["id"], "unreadCount": 1}
    back = reader.put(f"/api/v1/rooms/{room['id']}/read", json={"last_read_id": 0})
    assert answer(back) == {"roomId": room["id"], "lastReadId": first["id"], "unreadCount": 1}

    plain_room = {
        key: room[key]
        for key in (
            "id",
            "kind",
            "name",
            "description",
            "closed",
            "document",
            "createdBy",
            "createdAt",
            "members",
        )
    }
    assert events(app) == [
        ("room.created", room["id"], None, {"room": plain_room}),
        ("room.member_added", room["id"], None, {"room": plain_room, "personId": me["id"]}),
        ("room.member_added", room["id"], None, {"room": plain_room, "personId": other["id"]}),
        ("message.new", room["id"], None, first),
        ("room.read", None, me["id"], {"roomId": room["id"], "lastReadId": first["id"]}),
        ("message.new", room["id"], None, second),
        ("room.read", None, me["id"], {"roomId": room["id"], "lastReadId": second["id"]}),
        ("room.read", None, other["id"], {"roomId": room["id"], "lastReadId": first["id"]}),
    ]


def test_history_pages_backwards_and_forwards_at_most_100_at_a_time(app, api, people, document):
    author = api(people["author"])
    room = document_room(author, document)["id"]
    ids = [sent(author, room, f"message {n}")["id"] for n in range(7)]
    path = f"/api/v1/rooms/{room}/messages"

    def page(query: str) -> tuple[list[int], bool]:
        found = answer(author.get(f"{path}?{query}"))
        return [m["id"] for m in found["messages"]], found["hasMore"]

    assert page("limit=3") == (ids[4:], True)
    assert page(f"limit=3&before={ids[4]}") == (ids[1:4], True)
    assert page(f"limit=3&before={ids[1]}") == (ids[:1], False)
    assert page(f"limit=3&after={ids[1]}") == (ids[2:5], True)
    assert page(f"limit=3&after={ids[4]}") == (ids[5:], False)
    assert page(f"after={ids[0]}&before={ids[3]}") == (ids[1:3], False)
    assert page("limit=100") == (ids, False)
    for query in (
        "limit=0",
        "limit=101",
        "limit=x",
        "before=0",
        "before=abc",
        "after=-1",
        f"after={2**63}",
        "before=\uff11",
    ):
        refused = author.get(f"{path}?{query}")
        assert refused.status_code == 400, query
        assert refused.get_json()["error"]["code"] == "badRequest"


# -- idempotent sends ----------------------------------------------------------------------------


def test_the_same_client_key_answers_the_same_message_and_writes_nothing_more(
    app, api, people, document
):
    author = api(people["author"])
    room = document_room(author, document)["id"]
    first = send(author, room, "Exactly once", key="key-1")
    before = last_event_id(app)
    again = send(author, room, "Exactly once", key="key-1")
    by_header = send(author, room, "Exactly once", headers={"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == by_header.status_code == 201
    assert again.get_json() == by_header.get_json() == first.get_json()
    assert (again.headers["Idempotent-Replayed"], "Idempotent-Replayed" in first.headers) == (
        "true",
        False,
    )
    assert rows(app, "SELECT body, client_key FROM messages") == [("Exactly once", "key-1")]
    assert events(app, before) == []

    other = api(people["reader"])
    theirs = send(other, room, "Exactly once", key="key-1")  # keys are per author
    assert theirs.status_code == 201 and theirs.get_json()["id"] != first.get_json()["id"]

    reused = send(author, room, "Something else", key="key-1")
    assert answer(reused, 409) == {
        "error": {
            "code": "conflict",
            "message": "This client_key was already used for another message; "
            "use a new key per message.",
        }
    }
    elsewhere = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "Ops"}), 201)
    assert send(author, elsewhere["id"], "Exactly once", key="key-1").status_code == 409
    both = send(author, room, "x", key="a", headers={"Idempotency-Key": "b"})
    assert answer(both, 400)["error"]["message"] == (
        "client_key and the Idempotency-Key header differ; send one of them."
    )
    assert send(author, room, "x", key="k" * 201).status_code == 400
    assert send(author, room, "x", key=" ").status_code == 400
    # An edited message stays the answer to its key: a late retry does not make a second one.
    edited = author.patch(f"/api/v1/messages/{first.get_json()['id']}", json={"body": "Fixed"})
    assert answer(edited)["body"] == "Fixed"
    late = send(author, room, "Exactly once", key="key-1")
    assert answer(late, 201)["id"] == first.get_json()["id"]
    assert rows(app, "SELECT count(*) FROM messages") == [(2,)]


def test_concurrent_retries_with_one_key_make_one_message(app, api, people, document):
    author = api(people["author"])
    room = document_room(author, document)["id"]
    clients = [api(people["author"]) for _ in range(6)]
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, int, bool]] = []

    def retry(client) -> None:
        start.wait()
        response = send(client, room, "Sent from a flaky network", key="same-key")
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        answers.append((response.status_code, response.get_json()["id"], replayed))

    threads = [threading.Thread(target=retry, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [(message_id,)] = rows(app, "SELECT id FROM messages")
    assert sorted(answers) == [(201, message_id, False)] + [(201, message_id, True)] * (
        len(clients) - 1
    )
    assert [kind for kind, *_ in events(app) if kind == "message.new"] == ["message.new"]


# -- bad input -----------------------------------------------------------------------------------


def test_bad_messages_are_refused_clearly_and_leave_nothing_behind(app, api, people, document):
    author = api(people["author"])
    room = document_room(author, document)["id"]
    before = last_event_id(app)
    cases = [
        (send(author, room, ""), 400, "write something first"),
        (send(author, room, " \n\t "), 400, "write something first"),
        (send(author, room, 42), 400, '"body" must be text: write something first'),
        (send(author, room, None), 400, '"body" must be text: write something first'),
        (
            author.post(f"/api/v1/rooms/{room}/messages", json=["body"]),
            400,
            'Send a JSON object such as {"body": "Hello", "client_key": "<uuid>"}.',
        ),
        (
            send(author, room, "x" * 4_001),
            413,
            "A message can be at most 4,000 characters; this one has 4,001. "
            "Shorten it or send it in parts.",
        ),
        (
            send(author, room, "x", key=7),
            400,
            '"client_key" must be text (a new random id per message), or absent.',
        ),
        (
            send(author, room, "@[Nobody](00000000-0000-0000-0000-000000000000) hi"),
            400,
            "Nobody is not in the directory, so they cannot be mentioned",
        ),
    ]
    for response, status, message in cases:
        assert (response.status_code, response.get_json()["error"]["message"]) == (status, message)
    assert rows(app, "SELECT count(*) FROM messages") == [(0,)]
    assert events(app, before) == []
    assert sent(author, room, "x" * 4_000)["body"] == "x" * 4_000

    unknown = send(author, "no-such-room", "hello")
    assert (unknown.status_code, unknown.get_json()) == (404, NOT_FOUND)
    for path, method in (
        ("/api/v1/rooms/no-such-room", "GET"),
        ("/api/v1/rooms/no-such-room/messages", "GET"),
        ("/api/v1/rooms/" + "r" * 500, "GET"),
        ("/api/v1/messages/999999", "PATCH"),
        ("/api/v1/messages/999999", "DELETE"),
        (f"/api/v1/messages/{2**70}", "DELETE"),
        ("/api/v1/messages/not-a-number", "DELETE"),
        ("/api/v1/rooms/no-such-room/read", "PUT"),
        ("/api/v1/rooms/no-such-room/members", "POST"),
        ("/api/v1/documents/b!no-such-drive/NO-SUCH-ITEM/room", "POST"),
        ("/api/v1/chat/search?q=x&room_id=no-such-room", "GET"),
    ):
        response = author.call(method, path, json={"body": "x", "last_read_id": 0})
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), path


def test_read_markers_take_only_message_ids_of_the_room(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    room = document_room(author, document)["id"]
    newest = sent(author, room, "one")["id"]
    path = f"/api/v1/rooms/{room}/read"
    for payload in (
        {},
        {"last_read_id": "1"},
        {"last_read_id": -1},
        {"last_read_id": True},
        {"last_read_id": 1.5},
        [1],
    ):
        refused = reader.put(path, json=payload)
        assert answer(refused, 400)["error"]["message"] == (
            'Send {"last_read_id": N}: the id of the last message read, or 0.'
        )
    past = reader.put(path, json={"last_read_id": newest + 1})
    assert answer(past, 400)["error"]["message"] == (
        f"last_read_id {newest + 1} is after the room's newest message ({newest})."
    )
    assert answer(reader.put(path, json={"last_read_id": newest}))["unreadCount"] == 0


def test_writes_over_the_rate_limit_are_429_and_retries_do_not_count(
    make_app, api, people, document
):
    app = make_app(writes_per_minute=2)
    author = api(people["author"], app)
    room = document_room(author, document)["id"]
    assert_two_writes_a_minute(lambda body, key=None: send(author, room, body, key=key))
    assert rows(app, "SELECT body FROM messages ORDER BY id") == [("one",), ("two",)]
    assert [k for k, *_ in events(app) if k.startswith("message.")] == ["message.new"] * 2


# -- edits and deletes ---------------------------------------------------------------------------


def test_only_ones_own_messages_can_be_edited_or_deleted(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    room = document_room(author, document)["id"]
    message = sent(author, room, "Draft")
    path = f"/api/v1/messages/{message['id']}"
    not_yours = answer(reader.patch(path, json={"body": "Mine now"}), 403)
    assert not_yours["error"]["message"] == "You can only edit your own messages."
    assert answer(reader.delete(path), 403)["error"]["message"] == (
        "You can only delete your own messages."
    )
    assert answer(author.patch(path, json={"body": ""}), 400)["error"]["code"] == "badRequest"
    assert author.patch(path, json={"body": "y" * 4_001}).status_code == 413

    before = last_event_id(app)
    edited = answer(author.patch(path, json={"body": "Final *text*"}))
    assert edited == {
        **message,
        "body": "Final *text*",
        "bodyHtml": "<p>Final <em>text</em></p>",
        "editedAt": edited["editedAt"],
    }
    assert edited["editedAt"] is not None
    assert author.delete(path).status_code == 204
    deleted = {**edited, "body": "", "bodyHtml": "", "deleted": True}
    assert events(app, before) == [
        ("message.edited", room, None, edited),
        ("message.deleted", room, None, deleted),
    ]
    assert answer(author.get(f"/api/v1/rooms/{room}/messages"))["messages"] == [deleted]
    gone = {"error": {"code": "conflict", "message": "That message was deleted."}}
    assert answer(author.delete(path), 409) == gone
    assert answer(author.patch(path, json={"body": "Back"}), 409) == gone
    assert rows(app, "SELECT body, body_html, deleted_at IS NOT NULL FROM messages") == [
        ("", "", 1)
    ]
    assert answer(author.get("/api/v1/chat/search?q=final")) == {"messages": []}


# -- search --------------------------------------------------------------------------------------


def test_search_finds_live_messages_newest_first_with_marked_snippets(app, api, people, document):
    author = api(people["author"])
    room = document_room(author, document)
    first = sent(author, room["id"], "The <b>indemnity</b> cap is fine")
    second = sent(author, room["id"], "Indemnities again")
    sent(author, room["id"], "Nothing to see")
    found = answer(author.get("/api/v1/chat/search?q=indemn"))["messages"]
    assert found == [
        {
            **second,
            "snippetHtml": "<mark>Indemnities</mark> again",
            "room": {"id": room["id"], "kind": "document", "title": room["title"]},
        },
        {
            **first,
            "snippetHtml": "The &lt;b&gt;<mark>indemnity</mark>&lt;/b&gt; cap is fine",
            "room": {"id": room["id"], "kind": "document", "title": room["title"]},
        },
    ]
    limited = answer(author.get(f"/api/v1/chat/search?q=indemn&limit=1&room_id={room['id']}"))
    assert [m["id"] for m in limited["messages"]] == [second["id"]]
    assert answer(author.get('/api/v1/chat/search?q="*')) == {"messages": []}
    for query in ("", "q=", "q=%20%20", "q=x&limit=0", "q=x&limit=101", "q=x&limit=ten"):
        refused = author.get(f"/api/v1/chat/search?{query}")
        assert refused.status_code == 400, query


# -- mentions ------------------------------------------------------------------------------------


def test_mentions_notify_people_who_can_see_the_room_and_no_one_else(app, api, people, document):
    author, reader = api(people["author"]), api(people["reader"])
    me, other = who(app, people["author"]), who(app, people["reader"])
    outsider = who(app, people["outsider"])
    room = document_room(author, document)
    before = last_event_id(app)
    message = sent(author, room["id"], f"{mention(other)} can you check? {mention(me)}")
    rel = 'rel="nofollow noopener noreferrer"'
    assert message["bodyHtml"] == (
        f'<p><a class="mention" href="/people/{other["id"]}" {rel}>@{other["displayName"]}</a>'
        f' can you check? <a class="mention" href="/people/{me["id"]}" {rel}>'
        f"@{me['displayName']}</a></p>"
    )
    [notification] = answer(reader.get("/api/v1/notifications"))["notifications"]
    assert notification == {
        "id": notification["id"],
        "kind": "mention",
        "read": False,
        "createdAt": message["createdAt"],
        "actor": me,
        "document": {"driveId": document[0], "itemId": document[1], "name": room["title"]},
        "commentId": None,
        "excerpt": f"@{other['displayName']} can you check? @{me['displayName']}",
        "url": f"/chat/{room['id']}#message-{message['id']}",
        "roomId": room["id"],
        "messageId": message["id"],
    }
    assert answer(author.get("/api/v1/notifications"))["notifications"] == []  # never oneself
    assert [e for e in events(app, before) if e[0] == "notification.new"] == [
        (
            "notification.new",
            None,
            other["id"],
            {
                "id": notification["id"],
                "kind": "mention",
                "roomId": room["id"],
                "messageId": message["id"],
                "actor": me,
            },
        )
    ]
    page = api(people["reader"]).get("/notifications")  # bearer on a page: not signed in
    assert page.status_code == 302

    refused = send(author, room["id"], f"{mention(outsider)} look")
    assert answer(refused, 400)["error"]["message"] == (
        f"{outsider['displayName']} cannot open this document, so they cannot be mentioned"
    )
    # Editing the mention away withdraws the notification; deleting withdraws the rest.
    path = f"/api/v1/messages/{message['id']}"
    answer(author.patch(path, json={"body": "never mind"}))
    assert answer(reader.get("/api/v1/notifications")) == {"unreadCount": 0, "notifications": []}
    answer(author.patch(path, json={"body": f"{mention(other)} again"}))
    assert answer(reader.get("/api/v1/notifications"))["unreadCount"] == 1
    assert author.delete(path).status_code == 204
    assert answer(reader.get("/api/v1/notifications")) == {"unreadCount": 0, "notifications": []}
    assert rows(app, "SELECT count(*) FROM message_mentions") == [(0,)]


# -- session + CSRF, signed out ------------------------------------------------------------------


def test_session_calls_need_the_csrf_header_and_signed_out_calls_are_401(
    app, client, sign_in, api, people, document
):
    sign_in(client, people["author"])
    room = document_room(api(client), document)["id"]
    without = client.post(f"/api/v1/rooms/{room}/messages", json={"body": "no header"})
    assert without.status_code == 400
    assert sent(api(client), room, "with header")["body"] == "with header"
    assert rows(app, "SELECT body FROM messages") == [("with header",)]

    anonymous = app.test_client()
    for method, path in sorted(chat_routes(app)):
        concrete = path.replace("<room_id>", room).replace("<int:message_id>", "1")
        concrete = concrete.replace("<drive_id>", document[0]).replace("<item_id>", document[1])
        response = anonymous.open(concrete, method=method, json={})
        assert (response.status_code, response.get_json()["error"]["code"]) == (
            401,
            "unauthenticated",
        ), (method, path)


def chat_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("chat.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_the_chat_queries_use_their_indexes(app):
    with app.app_context():
        plan = [
            row[3]
            for row in db.social().execute(
                f"EXPLAIN QUERY PLAN {chat_reads.HISTORY_BEFORE_SQL}",
                {"room": "r", "before": 9, "limit": 5},
            )
        ]
        unread = [
            row[3]
            for row in db.social().execute(
                f"EXPLAIN QUERY PLAN {chat_reads.UNREAD_SQL}", {"me": "p", "rooms": '["r"]'}
            )
        ]
    assert plan == ["SEARCH messages USING INDEX messages_by_room (room_id=? AND id<?)"]
    assert "SEARCH m USING INDEX messages_by_room (room_id=?)" in unread
