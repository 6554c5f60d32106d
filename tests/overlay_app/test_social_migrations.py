"""Migrations of the social store that change rows, run on a store written before them."""

from __future__ import annotations

import json
from pathlib import Path

from overlay_app.db import open_social

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
