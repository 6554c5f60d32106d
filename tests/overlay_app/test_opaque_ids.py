"""The ids a person receives tell nothing about what others wrote where they cannot see.

Message, notification and event ids used to be the store's counters: a person saw them jump
when others wrote in rooms hidden from them. Here the same story runs on two fresh Plazas, one
where the author and an outsider also exchange 50 messages (with 50 mentions) in a direct room
the reader cannot see; everything the reader is given (history, rooms, notifications, the
event stream's replay) must be the same in both, once each random id is named by its order of
appearance and times are set aside.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.overlay_app.api_calls import answer, document_room, mention, sent
from tests.overlay_app.app_rows import who

HIDDEN_WRITES = 50
RANDOM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z")


def snapshot(reader, after: str | None = None) -> list[tuple[str | None, str, Any]]:
    """(id, event, data) of the events the reader's stream replays (a snapshot: no
    text/event-stream in Accept, so the answer ends after the replay)."""
    query = {"after": after} if after is not None else {}
    response = reader.get("/api/v1/events", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return found


def named_by_appearance(view: Any) -> str:
    """The view as JSON, each random id replaced by the order it first appears in, times by
    <time>: what is left is what the ids and times would say beyond themselves."""
    text = TIME.sub("<time>", json.dumps(view, sort_keys=True))
    names: dict[str, str] = {}
    return RANDOM_ID.sub(lambda m: names.setdefault(m[0], f"<id {len(names)}>"), text)


def readers_view(make_app, api, people, document, hidden_writes: int) -> dict[str, Any]:
    app = make_app(writes_per_minute=10_000)
    author, reader = api(people["author"], app), api(people["reader"], app)
    target, outsider = who(app, people["reader"]), who(app, people["outsider"])
    room = document_room(author, document)["id"]
    document_room(reader, document)  # the reader follows the document's chat
    [(start, _, opening)] = snapshot(reader)
    assert start == str(opening["lastEventId"])

    hidden = answer(
        author.post("/api/v1/rooms", json={"kind": "direct", "members": [outsider["id"]]}), 201
    )["id"]
    first = sent(author, room, f"{mention(target)} the figures are in")
    for n in range(hidden_writes):
        sent(author, hidden, f"{mention(outsider)} not for the reader {n}")
    second = sent(author, room, f"{mention(target)} and the appendix")
    [(again, _, _)] = snapshot(reader)

    replay = snapshot(reader, after=start)
    cursors = [start, again, *(cursor for cursor, _, _ in replay)]
    return {
        "ids": [first["id"], second["id"]],
        "cursors": cursors,
        "seen": {
            "messages": [first, second],
            "history": answer(reader.get(f"/api/v1/rooms/{room}/messages")),
            "rooms": answer(reader.get("/api/v1/rooms")),
            "notifications": answer(reader.get("/api/v1/notifications")),
            "replay": [(event, data) for _, event, data in replay if event != "stream.open"],
        },
    }


def test_what_a_person_receives_does_not_change_with_writes_they_cannot_see(
    make_app, api, people, document
):
    quiet = readers_view(make_app, api, people, document, hidden_writes=0)
    busy = readers_view(make_app, api, people, document, hidden_writes=HIDDEN_WRITES)

    assert named_by_appearance(busy["seen"]) == named_by_appearance(quiet["seen"])
    for view in (quiet, busy):
        assert [uuid.UUID(i).version for i in view["ids"]] == [4, 4]
        assert [m["seq"] for m in view["seen"]["messages"]] == [1, 2]
        # Cursors: each one new, none a number, so two of them cannot be compared either
        # (on main, the stream's `id` at "now" moved exactly when someone wrote anywhere).
        cursors = view["cursors"]
        assert len(set(cursors)) == len(cursors) == 3 + 4  # open, open, open + 4 replayed
        assert not any(cursor.isdigit() for cursor in cursors)
    replayed = [event for event, _ in busy["seen"]["replay"]]
    assert replayed == ["message.new", "notification.new", "message.new", "notification.new"]
