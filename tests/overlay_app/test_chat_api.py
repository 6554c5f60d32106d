"""The chat API through HTTP: document rooms, messages, paging, edits and deletes, read markers
and unread counts, search, mentions, session calls and the events each write appends. Exact
values throughout; idempotent sends, bad input and rate limits are in test_chat_sends.py,
channels and direct rooms in test_chat_rooms.py, who may see what in test_chat_access.py."""

from __future__ import annotations

from flask import Flask

from overlay_app import db
from overlay_app.chat import store_messages
from tests.overlay_app.api_calls import answer, document_room, mention, send, sent
from tests.overlay_app.app_rows import committed_rows, events, last_event_id, rows, title_of, who
from tests.postgres import sqlite_only

# -- document rooms, messages, unread counts -----------------------------------------------------


def test_a_document_room_opens_once_and_carries_messages_read_markers_and_events(
    app, api, people, document
):
    author, reader = api(people["author"]), api(people["reader"])
    me, other = who(app, people["author"]), who(app, people["reader"])
    title = title_of(app, document)
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
        "lastReadId": None,
        "lastReadSeq": 0,
        "lastMessageId": None,
    }
    again = reader.post("/api/v1/documents/{}/{}/room".format(*document))
    assert answer(again)["id"] == room["id"]
    assert rows(app, "SELECT count(*) FROM rooms") == [(1,)]

    first = sent(author, room["id"], "Is **section 2** final?", key="k-1")
    assert first == {
        "id": first["id"],
        "seq": 1,
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
    stored = committed_rows(app, "SELECT public_id, body FROM messages")
    assert stored == [(first["id"], "Is **section 2** final?")]
    second = sent(author, room["id"], "<script>alert(1)</script> hello")
    assert second["bodyHtml"] == "<p>&lt;script&gt;alert(1)&lt;/script&gt; hello</p>"

    listed = answer(reader.get("/api/v1/rooms"))
    assert listed["openChannels"] == []
    [mine] = listed["rooms"]
    assert (mine["id"], mine["unreadCount"], mine["lastReadId"], mine["lastMessageId"]) == (
        room["id"],
        2,
        None,
        second["id"],
    )
    # One's own messages are never unread: the sender's marker moved with each send.
    assert answer(author.get(f"/api/v1/rooms/{room['id']}"))["unreadCount"] == 0
    assert answer(author.get(f"/api/v1/rooms/{room['id']}"))["lastReadId"] == second["id"]

    history = answer(reader.get(f"/api/v1/rooms/{room['id']}/messages"))
    assert history == {"messages": [first, second], "hasMore": False}
    marked = reader.put(f"/api/v1/rooms/{room['id']}/read", json={"last_read_id": first["id"]})
    read_first = {"roomId": room["id"], "lastReadId": first["id"], "lastReadSeq": 1}
    assert answer(marked) == {**read_first, "unreadCount": 1}
    back = reader.put(f"/api/v1/rooms/{room['id']}/read", json={"last_read_id": 0})
    assert answer(back) == {**read_first, "unreadCount": 1}
    read_second = {"roomId": room["id"], "lastReadId": second["id"], "lastReadSeq": 2}

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
        ("room.read", None, me["id"], read_first),
        ("message.new", room["id"], None, second),
        ("room.read", None, me["id"], read_second),
        ("room.read", None, other["id"], read_first),
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
    # The log keeps every event, but none of them keeps the deleted words.
    assert events(app, before) == [
        ("message.edited", room, None, {**edited, "body": "", "bodyHtml": ""}),
        ("message.deleted", room, None, deleted),
    ]
    words = "SELECT kind, payload ->> 'body', payload ->> 'bodyHtml' FROM events "
    words += "WHERE kind LIKE 'message.%' AND payload ->> 'id' = ? ORDER BY id"
    assert rows(app, words, [message["id"]]) == [
        ("message.new", "", ""), ("message.edited", "", ""), ("message.deleted", "", "")
    ]  # fmt: skip
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


@sqlite_only("its query plans")
def test_the_chat_queries_use_their_indexes(app):
    with app.app_context():
        plan = [
            row[3]
            for row in db.social().execute(
                f"EXPLAIN QUERY PLAN {store_messages.HISTORY_BEFORE_SQL}",
                {"room": "r", "before": 9, "limit": 5},
            )
        ]
        unread = [
            row[3]
            for row in db.social().execute(
                f"EXPLAIN QUERY PLAN {store_messages.UNREAD_SQL}", {"me": "p", "rooms": '["r"]'}
            )
        ]
    assert plan == ["SEARCH messages USING INDEX messages_by_room (room_id=? AND id<?)"]
    assert "SEARCH m USING INDEX messages_by_room (room_id=? AND id>?)" in unread
    assert unread.count("CORRELATED SCALAR SUBQUERY 2") == 1  # counted once per room
