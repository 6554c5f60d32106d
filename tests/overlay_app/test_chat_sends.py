"""Sending chat messages safely through HTTP: a client_key (or Idempotency-Key) answers a retry
with the same message and writes nothing more, concurrent retries make one message, bad input
and bad read markers are refused clearly and leave nothing behind, and writes over the rate
limit are 429. Exact values throughout; the rest of the chat API is in test_chat_api.py."""

from __future__ import annotations

import threading

from tests.overlay_app.api_calls import (
    NOT_FOUND,
    answer,
    assert_two_writes_a_minute,
    document_room,
    send,
    sent,
)
from tests.overlay_app.app_rows import events, last_event_id, rows

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
    [(message_id,)] = rows(app, "SELECT public_id FROM messages")
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
        {"last_read_id": -1},
        {"last_read_id": 1},
        {"last_read_id": True},
        {"last_read_id": 1.5},
        [1],
    ):
        refused = reader.put(path, json=payload)
        assert answer(refused, 400)["error"]["message"] == (
            'Send {"last_read_id": "<id>"}: the id of the last message read.'
        )
    made = author.post("/api/v1/rooms", json={"kind": "channel", "name": "elsewhere"})
    channel = answer(made, 201)
    elsewhere = sent(author, channel["id"], "another room")["id"]
    for other in ("1", elsewhere):
        refused = reader.put(path, json={"last_read_id": other})
        assert answer(refused, 400)["error"]["message"] == (
            f"last_read_id {other!r} is not the id of a message in this room."
        )
    assert answer(reader.put(path, json={"last_read_id": 0})) == {
        "roomId": room, "lastReadId": None, "lastReadSeq": 0, "unreadCount": 1
    }  # fmt: skip
    assert answer(reader.put(path, json={"last_read_id": newest})) == {
        "roomId": room, "lastReadId": newest, "lastReadSeq": 1, "unreadCount": 0
    }  # fmt: skip


def test_writes_over_the_rate_limit_are_429_and_retries_do_not_count(
    make_app, api, people, document
):
    app = make_app(writes_per_minute=2)
    author = api(people["author"], app)
    room = document_room(author, document)["id"]
    assert_two_writes_a_minute(lambda body, key=None: send(author, room, body, key=key))
    assert rows(app, "SELECT body FROM messages ORDER BY id") == [("one",), ("two",)]
    assert [k for k, *_ in events(app) if k.startswith("message.")] == ["message.new"] * 2
