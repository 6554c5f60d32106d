"""Chat defects found by the security review, through HTTP on the synced emulator tenant:

- a deleted message's words came back in the event replay (GET /api/v1/events?after=...), to
  anyone in the room, even people who joined after the delete;
- a document room's page (/chat/<room_id>) showed the document's title and chat without the live
  access check that the document's own page makes;
- an administrator adding or removing people in a channel they do not own left no audit entry.
"""

from __future__ import annotations

import json
import re
from typing import Any

from overlay_app import access
from tests.overlay_app.api_calls import answer, document_room, sent
from tests.overlay_app.app_rows import rows, title_of, who

BLANK = {"body": "", "bodyHtml": ""}


def stream_events(response) -> list[tuple[str, Any]]:
    """(event, data) of each event of a text/event-stream answer, in order."""
    assert response.status_code == 200, response.get_data(as_text=True)
    found = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def without_nonce(text: str) -> str:
    return re.sub(r"nonce(-|=\")[A-Za-z0-9_-]+", r"nonce\1", text)


class Monotonic:
    """The live check's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- deleted words in the replay ------------------------------------------------------------------


def test_a_deleted_messages_words_are_not_replayed_to_anyone(app, api, people):
    author, reader = api(people["author"]), api(people["reader"])
    channel = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "Deals"}), 201)
    room = channel["id"]
    message = sent(author, room, "The vault code is otter-4711")
    path = f"/api/v1/messages/{message['id']}"
    edited = answer(author.patch(path, json={"body": "The vault code is walrus-4712"}))
    kept = sent(author, room, "Lunch at noon")
    assert author.delete(path).status_code == 204
    # The reader joins the open channel after the delete and replays its log from the start.
    # (Words, not bare digits, are looked for: digits turn up inside the events' UUIDs.)
    reader_id = who(app, people["reader"])["id"]
    answer(reader.post(f"/api/v1/rooms/{room}/members", json={"person_id": reader_id}))

    for person in (reader, author):
        replay = person.get("/api/v1/events?after=0")  # no text/event-stream: a snapshot
        assert "otter" not in replay.get_data(as_text=True)
        assert "walrus" not in replay.get_data(as_text=True)
        assert [(kind, data) for kind, data in stream_events(replay) if "message" in kind] == [
            ("message.new", {**message, **BLANK}),
            ("message.edited", {**edited, **BLANK}),
            ("message.new", kept),
            ("message.deleted", {**edited, **BLANK, "deleted": True}),
        ]


def test_a_live_message_is_replayed_with_its_words(app, api, people):
    author = api(people["author"])
    room = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "Open"}), 201)
    message = sent(author, room["id"], "Still here")
    replayed = stream_events(author.get("/api/v1/events?after=0"))
    assert [(kind, data) for kind, data in replayed if kind == "message.new"] == [
        ("message.new", message)
    ]


# -- the live check on a document room's page -----------------------------------------------------


def test_a_document_rooms_page_is_confirmed_live_like_the_document_page(
    fresh_plaza_env, make_app, api, people, document, sign_in
):
    app = make_app(env=fresh_plaza_env, live_check_seconds=60)
    clock = Monotonic()
    access.live_checks(app).clock = clock
    title = title_of(app, document)
    author = api(people["author"], app)
    room = document_room(author, document)["id"]
    sent(author, room, "Figures attached")
    reader = app.test_client()
    sign_in(reader, people["reader"])
    page = reader.get(f"/chat/{room}")
    assert page.status_code == 200
    assert title in page.get_data(as_text=True)

    fresh_plaza_env.revoke_everyone_but(*document, people["author"])  # not synced yet
    clock.now += 61  # past the remembered answer
    refused, missing = reader.get(f"/chat/{room}"), reader.get("/chat/no-such-room")
    assert refused.status_code == missing.status_code == 404
    text = refused.get_data(as_text=True)
    assert without_nonce(text) == without_nonce(missing.get_data(as_text=True))
    assert sorted((k, without_nonce(v)) for k, v in refused.headers) == sorted(
        (k, without_nonce(v)) for k, v in missing.headers
    )
    assert title not in text and "Figures attached" not in text
    reader_id = who(app, people["reader"])["id"]
    assert rows(app, "SELECT actor_id, action, target, detail FROM audit") == [
        (reader_id, "access.denied.live", "document:{}/{}".format(*document), "graph refused"),
        (reader_id, "access.denied", "room:no-such-room", "unknown room"),
    ]
    # The author, whom SharePoint still lets in, keeps the page.
    author_page = app.test_client()
    sign_in(author_page, people["author"])
    assert author_page.get(f"/chat/{room}").status_code == 200


# -- admin actions in the audit log ---------------------------------------------------------------


def test_an_admin_managing_a_channel_they_do_not_own_is_audited(app, api, people):
    owner, admin = api(people["author"]), api(people["admin"])
    reader_id, outsider_id, admin_id = (
        who(app, people[role])["id"] for role in ("reader", "outsider", "admin")
    )
    channel = answer(
        owner.post(
            "/api/v1/rooms", json={"kind": "channel", "name": "Desk", "members": [reader_id]}
        ),
        201,
    )["id"]
    members = f"/api/v1/rooms/{channel}/members"
    answer(owner.post(members, json={"person_id": outsider_id}))  # an owner's own channel
    answer(admin.post(members, json={"person_id": admin_id}))  # joining: anyone may
    assert admin.delete(f"{members}?person_id={reader_id}").status_code == 204
    answer(admin.post(members, json={"person_id": outsider_id, "role": "owner"}))
    answer(admin.post(members, json={"person_id": outsider_id, "role": "owner"}))  # no change
    assert admin.delete(f"{members}?person_id={reader_id}").status_code == 204  # already gone
    assert admin.delete(f"{members}?person_id={admin_id}").status_code == 204  # leaving

    target = f"room:{channel}"
    assert rows(app, "SELECT actor_id, action, target, detail FROM audit ORDER BY id") == [
        (admin_id, "admin.room.member_removed", target, json.dumps({"personId": reader_id})),
        (
            admin_id,
            "admin.room.member_added",
            target,
            json.dumps({"personId": outsider_id, "role": "owner"}),
        ),
    ]
    owners = sorted([(who(app, people["author"])["id"], "owner"), (outsider_id, "owner")])
    assert rows(app, "SELECT person_id, role FROM room_members ORDER BY person_id") == owners
