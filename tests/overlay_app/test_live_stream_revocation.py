"""A live stream between a revocation and the next sync: once the live check for the person
and a document fails, the stream writes nothing more of the document's room; once Entra says
the account is disabled, the stream ends. Nothing is synced: the index still admits the reader.

A fresh emulator, a Plaza served on loopback (tests/browser/conftest.py LiveSite) whose live
checks run on a fake clock, and streams read by `EventReader` (tests/overlay_app/event_streams.py).
"""

from __future__ import annotations

from pathlib import Path

from overlay_app import access
from tests.browser.conftest import start_live_site
from tests.overlay_app.conftest import PlazaEnv
from tests.overlay_app.event_streams import WITHIN, EventReader, Person, kinds, opened

TTL = 60


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_stream_stops_carrying_a_document_once_its_live_check_fails(
    fresh_plaza_env: PlazaEnv,
    tmp_path: Path,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    site = start_live_site(fresh_plaza_env, tmp_path / "live", live_check_seconds=TTL)
    site.app.config["PLAZA_HEARTBEAT_SECONDS"] = 0.2  # the account is checked at each beat
    clock = FakeMonotonic()
    access.live_checks(site.app).clock = clock
    access.account_checks(site.app).clock = clock
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
        assert kinds([stream.next()]) == [("message.new", before)]

        fresh_plaza_env.revoke_everyone_but(*document, author.id)  # in the emulator only
        held = author.send(room, "within the remembered answer")
        assert kinds([stream.next()]) == [("message.new", held)]
        clock.now += TTL + 1
        author.send(room, "after the window")
        assert kinds([stream.next()]) == [("room.removed", {"roomId": room})]
        author.send(room, "and later")
        sentinel = author.send(direct, "are you still there?")
        assert kinds([stream.next()]) == [("message.new", sentinel)]
        # The author keeps the room; a new stream of the reader replays none of it.
        assert author.call("GET", f"/api/v1/rooms/{room}/messages", 200)["messages"]
        snapshot = EventReader(f"{site.url}/api/v1/events?after=0", reader.token, accept="*/*")
        replayed = [e for e in snapshot.rest() if e.event != "stream.open"]
        assert {e.data.get("roomId") or e.data["room"]["id"] for e in replayed} == {direct}

        # Disabled in Entra, no people sync: the stream ends once the cached answer expires.
        fresh_plaza_env.control("PATCH", f"/users/{reader.id}", {"account_enabled": False})
        clock.now += TTL + 1
        assert kinds([stream.next()]) == [("stream.closed", {"reason": "signed out"})]
        assert stream.ended.wait(WITHIN)
        assert EventReader(f"{site.url}/api/v1/events", reader.token).response.status == 401
    finally:
        author.close()
        reader.close()
        site.stop()
