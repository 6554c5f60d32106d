"""Losing access on a live stream: a document's room closes for someone who can no longer open
the document, and the stream of someone disabled in Entra ends, both at the next sync.

A fresh emulator (the test changes a document's permissions and a person's account), a Plaza
served on loopback (tests/browser/conftest.py LiveSite) with the live access check off, and a
real sync; streams are read by `EventReader` (tests/overlay_app/event_streams.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import start_live_site
from tests.overlay_app.conftest import PlazaEnv
from tests.overlay_app.event_streams import WITHIN, EventReader, Person, cursor_at, kinds, opened


def test_losing_access_to_the_document_closes_its_room_on_the_live_stream(
    fresh_plaza_env: PlazaEnv,
    tmp_path: Path,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    site = start_live_site(fresh_plaza_env, tmp_path / "revoked", live_check_seconds=0)
    author, reader = (Person(site.url, fresh_plaza_env, people[r]) for r in ("author", "reader"))
    try:
        path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
        room = author.call("POST", path, 201)["id"]
        reader.call("POST", path, 200)
        direct = author.call(
            "POST", "/api/v1/rooms", 201, json={"kind": "direct", "members": [reader.id]}
        )["id"]
        stream = reader.listen()
        opened(stream)
        before = author.send(room, "still shared")
        assert stream.next().data == before
        fresh_plaza_env.revoke_everyone_but(*document, author.id)
        site.resync(people=True, documents=True)

        assert kinds([stream.next()]) == [("room.removed", {"roomId": room})]
        author.send(room, "after the revocation")
        sentinel = author.send(direct, "are you still there?")
        assert kinds([stream.next()]) == [("message.new", sentinel)]
        reader.call("GET", f"/api/v1/rooms/{room}", 404)
        # Resuming from the start replays nothing of the room.
        start = cursor_at(site.app, 0)
        snapshot = EventReader(
            f"{site.url}/api/v1/events?after={start}", reader.token, accept="*/*"
        )
        replayed = [e for e in snapshot.rest() if e.event != "stream.open"]
        assert [e.data.get("roomId") or e.data["room"]["id"] for e in replayed] == (
            [direct] * len(replayed)
        )
        assert [e.event for e in replayed] == ["room.created", "message.new"]

        # Disabled in Entra: at the next people sync, the stream ends and stays shut.
        fresh_plaza_env.control("PATCH", f"/users/{reader.id}", {"account_enabled": False})
        site.resync(people=True, documents=False)
        assert kinds([stream.next()]) == [("stream.closed", {"reason": "signed out"})]
        assert stream.ended.wait(WITHIN)
        assert EventReader(f"{site.url}/api/v1/events", reader.token).response.status == 401
    finally:
        author.close()
        reader.close()
        site.stop()
