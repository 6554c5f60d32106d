"""Migrations of the social store that change rows, run on a store written before them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlite_utils import Database

from overlay_app.db import open_social
from overlay_app.schema import MIGRATIONS

AT = "2026-11-01T09:00:00Z"


def test_words_of_messages_deleted_before_m005_leave_the_event_log(tmp_path: Path) -> None:
    store = open_social(tmp_path / "overlay.db")
    store.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_forget_deleted_words'")
    store["rooms"].insert({"id": "r1", "kind": "channel", "name": "deals", "created_by": "ann",
                           "created_at": AT})  # fmt: skip
    for message_id, deleted_at in ((1, AT), (2, None)):
        store["messages"].insert({"id": message_id, "room_id": "r1", "author_id": "ann",
                                  "body": "", "body_html": "", "created_at": AT,
                                  "deleted_at": deleted_at})  # fmt: skip
    said = {1: "gone words", 2: "kept words"}
    for kind, message_id in (("message.new", 1), ("message.edited", 1), ("message.new", 2)):
        words = said[message_id]
        body = {"id": message_id, "body": words, "bodyHtml": f"<p>{words}</p>"}
        store["events"].insert({"room_id": "r1", "kind": kind, "payload": json.dumps(body),
                                "created_at": AT})  # fmt: skip
    store.close()

    store = open_social(tmp_path / "overlay.db")
    payloads = [json.loads(p) for (p,) in store.execute("SELECT payload FROM events ORDER BY id")]
    assert payloads == [
        {"id": 1, "body": "", "bodyHtml": ""},
        {"id": 1, "body": "", "bodyHtml": ""},
        {"id": 2, "body": "kept words", "bodyHtml": "<p>kept words</p>"},
    ]
    store.close()


def test_m006_gives_messages_and_notifications_random_ids_and_rewrites_the_events(
    tmp_path: Path,
) -> None:
    path = tmp_path / "overlay.db"
    before = Database(path)
    MIGRATIONS.apply(before, stop_before="m006_opaque_ids")
    for room in ("r1", "r2"):
        before["rooms"].insert({"id": room, "kind": "channel", "name": room, "created_by": "ann",
                                "created_at": AT})  # fmt: skip
    for message_id, room in ((1, "r1"), (2, "r2"), (3, "r1")):
        before["messages"].insert({"id": message_id, "room_id": room, "author_id": "ann",
                                   "body": "hi", "body_html": "", "created_at": AT})  # fmt: skip
    mention = {"id": 7, "person_id": "bo", "kind": "mention", "actor_id": "ann", "drive_id": "",
               "item_id": "", "created_at": AT, "room_id": "r1", "message_id": 3}  # fmt: skip
    before["notifications"].insert(mention)
    for room, person, kind, payload in (
        ("r1", None, "message.new", {"id": 3, "roomId": "r1", "body": "hi"}),
        (None, "bo", "notification.new", {"id": 7, "roomId": "r1", "messageId": 3}),
        (None, "ann", "room.read", {"roomId": "r1", "lastReadId": 3}),
    ):
        before["events"].insert({"room_id": room, "person_id": person, "kind": kind,
                                 "payload": json.dumps(payload), "created_at": AT})  # fmt: skip
    before.close()

    store = open_social(path)
    messages = store.execute("SELECT id, room_id, seq, public_id FROM messages ORDER BY id")
    ids = {}
    for rowid, room, seq, public_id in messages.fetchall():
        assert uuid.UUID(public_id).version == 4
        ids[rowid] = public_id
        assert (rowid, room, seq) in ((1, "r1", 1), (2, "r2", 1), (3, "r1", 2))
    [(notification,)] = store.execute("SELECT public_id FROM notifications").fetchall()
    assert uuid.UUID(notification).version == 4
    assert len({*ids.values(), notification}) == 4
    payloads = [json.loads(p) for (p,) in store.execute("SELECT payload FROM events ORDER BY id")]
    assert payloads == [
        {"id": ids[3], "seq": 2, "roomId": "r1", "body": "hi"},
        {"id": notification, "roomId": "r1", "messageId": ids[3]},
        {"roomId": "r1", "lastReadId": ids[3], "lastReadSeq": 2},
    ]
    store.close()
