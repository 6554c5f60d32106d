"""GET /api/v1/events over real HTTP on one live Plaza: live delivery, resume, who receives
what, and the stream's errors, CORS and heartbeat.

Every stream here is read by `EventReader` (tests/overlay_app/event_streams.py), an SSE client
on a raw HTTP/1.1 connection that parses events as a browser's EventSource does. The writes are
real API calls with the people's own bearer tokens. "Nothing else arrived" is shown with a
sentinel: a later event the person must receive, before which nothing else came.

Plaza runs on loopback in a werkzeug threaded server (tests/browser/conftest.py LiveSite), one
for the module. Revocation is in test_realtime_revocation.py, delivery across processes in
test_realtime_processes.py.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from overlay_app.realtime import views as realtime
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.app_rows import committed_rows
from tests.overlay_app.conftest import PlazaEnv
from tests.overlay_app.event_streams import (
    WITHIN,
    EventReader,
    Person,
    Received,
    cursor_at,
    kinds,
    opened,
    place_of,
)

# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(plaza_env: PlazaEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    live = start_live_site(plaza_env, tmp_path_factory.mktemp("realtime"))
    yield live
    live.stop()


@pytest.fixture
def cast(site: LiveSite, people: dict[str, str]) -> Iterator[dict[str, Person]]:
    found = {
        role: Person(site.url, site.env, people[role]) for role in ("author", "reader", "outsider")
    }
    yield found
    for person in found.values():
        person.close()


@pytest.fixture
def document_room(cast: dict[str, Person], document: tuple[str, str]) -> str:
    """The document's room, opened (so followed) by the author and the reader."""
    path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
    made = cast["author"].http.post(cast["author"].base_url + path, timeout=30)
    assert made.status_code in (200, 201), made.text  # made by the module's first test
    cast["reader"].call("POST", path, 200)
    return made.json()["id"]


def event_rows(site: LiveSite, after: int = 0) -> list[tuple]:
    """The event log as the site's social store holds it (overlay.db, or PostgreSQL)."""
    return committed_rows(
        site.app,
        "SELECT id, room_id, person_id, kind FROM events WHERE id > ? ORDER BY id",
        [after],
    )


# -- live delivery -------------------------------------------------------------------------------


def test_a_message_reaches_the_room_live_in_the_sse_format(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    stream = reader.listen()
    assert stream.response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert stream.response.getheader("Cache-Control") == "no-cache, no-store"
    start = opened(stream)
    newest = event_rows(site)[-1][0]
    assert start == Received(
        start.id, "stream.open", {"lastEventId": start.id, "heartbeatSeconds": 15}
    )
    assert place_of(site.app, start.id) == newest
    assert stream.retry == 2000
    mine = author.listen()
    opened(mine)

    sent_at = time.monotonic()
    message = author.send(document_room, "Live: the **draft** is ready")
    got = stream.next()
    assert time.monotonic() - sent_at < 1.0
    written = event_rows(site, newest)  # the message, then the author's own read marker
    assert [row[1:] for row in written] == [
        (document_room, None, "message.new"),
        (None, author.id, "room.read"),
    ]
    assert got == Received(got.id, "message.new", message)
    assert place_of(site.app, got.id) == written[0][0]
    assert message["bodyHtml"] == "<p>Live: the <strong>draft</strong> is ready</p>"
    assert mine.until("message.new")[-1] == got  # the writer's other tabs get it too


def test_edits_deletes_and_read_markers_follow_live(
    cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    message = author.send(document_room, "first words")
    stream = reader.listen()
    opened(stream)
    edited = author.call(
        "PATCH", f"/api/v1/messages/{message['id']}", 200, json={"body": "better words"}
    )
    assert kinds(stream.until("message.edited")) == [("message.edited", edited)]
    author.call("DELETE", f"/api/v1/messages/{message['id']}", 204)
    reader.call(
        "PUT", f"/api/v1/rooms/{document_room}/read", 200, json={"last_read_id": message["id"]}
    )
    got = stream.until("room.read")
    assert got[0].event == "message.deleted"
    assert got[0].data["deleted"] is True and got[0].data["body"] == ""
    marker = {"roomId": document_room, "lastReadId": message["id"], "lastReadSeq": message["seq"]}
    assert kinds(got)[1:] == [("room.read", marker)]


# -- resume --------------------------------------------------------------------------------------


def test_resume_after_a_disconnect_replays_what_was_missed_once(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    first_stream = reader.listen()
    opened(first_stream)
    first = author.send(document_room, "before the tunnel")
    seen = first_stream.next()
    assert seen.data == first
    first_stream.close()  # the train enters a tunnel

    missed = [author.send(document_room, f"while away {n}") for n in range(3)]
    again = reader.listen(last_event_id=seen.id)
    start = again.next()
    assert start == Received(
        start.id, "stream.open", {"lastEventId": start.id, "heartbeatSeconds": 15}
    )
    assert place_of(site.app, start.id) == place_of(site.app, seen.id)
    replayed = [again.next() for _ in missed]
    assert [r.data for r in replayed] == missed
    places = [place_of(site.app, r.id) for r in replayed]
    assert places == sorted(set(places))
    after = author.send(document_room, "back in the light")
    live = again.next()
    assert live.data == after and place_of(site.app, live.id) > places[-1]
    sentinel = reader.sentinel()
    rest = again.until("room.created")  # nothing replayed twice, nothing more before it
    assert [(e.event, e.data["room"]["id"]) for e in rest] == [("room.created", sentinel)]


def test_after_parameter_resumes_and_the_header_wins(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    before = event_rows(site)[-1][0]
    one = author.send(document_room, "one")
    two = author.send(document_room, "two")
    one_id, _ = (row[0] for row in event_rows(site, before) if row[3] == "message.new")
    by_query = reader.listen(query=f"?after={cursor_at(site.app, one_id - 1)}")
    assert place_of(site.app, opened(by_query).id) == one_id - 1
    assert [by_query.next().data, by_query.next().data] == [one, two]
    by_header = reader.listen(last_event_id=cursor_at(site.app, one_id), query="?after=0")
    assert place_of(site.app, opened(by_header).id) == one_id
    assert by_header.next().data == two


def test_without_accept_event_stream_the_answer_is_a_snapshot(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    before = event_rows(site)[-1][0]
    message = author.send(document_room, "for the snapshot")
    after = cursor_at(site.app, before)
    snapshot = EventReader(f"{site.url}/api/v1/events?after={after}", reader.token, accept="*/*")
    assert snapshot.response.status == 200
    opening, *rest = snapshot.rest()
    assert place_of(site.app, opening.id) == before
    assert kinds([opening, *rest]) == [
        ("stream.open", {"lastEventId": opening.id, "heartbeatSeconds": 15}),
        ("message.new", message),
    ]


# -- who receives what ---------------------------------------------------------------------------


def test_no_event_reaches_anyone_outside_the_room(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader, outsider = cast["author"], cast["reader"], cast["outsider"]
    before = event_rows(site)[-1][0]
    outside = outsider.listen()
    opened(outside)
    reader_stream = reader.listen()
    opened(reader_stream)
    # A document room, a direct room of two, a mention and a read marker: none for the outsider.
    author.send(document_room, f"@[reader]({reader.id}) see the appendix")
    direct = author.call(
        "POST", "/api/v1/rooms", 201, json={"kind": "direct", "members": [reader.id]}
    )
    author.send(direct["id"], "just between us")
    author.call("PUT", f"/api/v1/rooms/{direct['id']}/read", 200, json={"last_read_id": 0})
    sentinel = outsider.sentinel()

    got = outside.until("room.created")
    assert [(e.event, e.data["room"]["id"]) for e in got] == [("room.created", sentinel)]
    heard = reader_stream.until("message.new", roomId=direct["id"])
    assert [e.event for e in heard] == [
        "message.new",
        "notification.new",
        "room.created",
        "message.new",
    ]
    assert heard[1].data["roomId"] == document_room
    # Nothing the outsider may not see is replayed either.
    snapshot = EventReader(
        f"{site.url}/api/v1/events?after={cursor_at(site.app, before)}",
        outsider.token,
        None,
        accept="*/*",
    )
    assert [(e.event, (e.data.get("room") or {}).get("id")) for e in snapshot.rest()] == [
        ("stream.open", None),
        ("room.created", sentinel),
    ]


def test_joining_a_channel_starts_its_events_and_leaving_ends_them(
    cast: dict[str, Person],
) -> None:
    author, reader = cast["author"], cast["reader"]
    channel = author.call(
        "POST", "/api/v1/rooms", 201, json={"kind": "channel", "name": f"open {uuid.uuid4()}"}
    )
    stream, own = reader.listen(), author.listen()
    opened(stream)
    opened(own)
    early = author.send(channel["id"], "before the reader joins")
    # The pump decides when it hands an event out: once the author has it, the reader (not yet
    # in the channel) was passed over.
    assert own.until("message.new")[-1].data == early
    reader.call(
        "POST", f"/api/v1/rooms/{channel['id']}/members", 200, json={"person_id": reader.id}
    )
    hello = author.send(channel["id"], "welcome")
    got = stream.until("message.new")
    assert [e.event for e in got] == ["room.member_added", "message.new"]
    assert got[1].data == hello
    reader.call("DELETE", f"/api/v1/rooms/{channel['id']}/members?person_id={reader.id}", 204)
    author.send(channel["id"], "after the reader left")
    sentinel = reader.sentinel()
    after = stream.until("room.created")
    assert [(e.event, e.data.get("roomId") or e.data.get("room", {}).get("id")) for e in after] == [
        ("room.removed", channel["id"]),  # no longer in it (an open channel: still visible)
        ("room.member_removed", channel["id"]),  # the person event about oneself
        ("room.created", sentinel),
    ]


# -- errors, CORS, heartbeat ---------------------------------------------------------------------


def test_bad_resume_points_and_missing_credentials(site: LiveSite, cast) -> None:
    token = cast["reader"].token
    sealed = cursor_at(site.app, 1)
    for headers, query in (
        ({"Last-Event-ID": "abc"}, ""),
        ({"Last-Event-ID": "5"}, ""),  # an event log id, as streams wrote them before cursors
        ({"Last-Event-ID": sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")}, ""),
        ({}, "?after=-1"),
        ({}, "?after=99999999999999999999"),
    ):
        bad = EventReader(f"{site.url}/api/v1/events{query}", token, headers=headers)
        assert bad.response.status == 400
        assert json.loads(bad.response.read())["error"]["code"] == "badRequest"
    anonymous = EventReader(f"{site.url}/api/v1/events", None)
    assert anonymous.response.status == 401
    assert json.loads(anonymous.response.read())["error"]["code"] == "unauthenticated"


def test_the_pages_origin_may_read_the_stream_with_credentials(site: LiveSite, cast) -> None:
    origin = site.url
    allowed = EventReader(
        f"{site.url}/api/v1/events", cast["reader"].token, accept="*/*", headers={"Origin": origin}
    )
    assert allowed.response.getheader("Access-Control-Allow-Origin") == origin
    assert allowed.response.getheader("Access-Control-Allow-Credentials") == "true"
    other = EventReader(
        f"{site.url}/api/v1/events",
        cast["reader"].token,
        accept="*/*",
        headers={"Origin": "https://evil.example"},
    )
    assert other.response.getheader("Access-Control-Allow-Origin") is None
    preflight = requests.options(
        f"{site.url}/api/v1/events",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert preflight.headers["Access-Control-Allow-Headers"] == "Last-Event-ID, Cache-Control"


def test_a_runaway_client_is_refused_more_streams(site: LiveSite, cast, people) -> None:
    reader = Person(site.url, site.env, people["admin"])  # nobody else here holds their streams
    site.app.config["PLAZA_HEARTBEAT_SECONDS"] = 0.2  # closed streams are noticed sooner
    try:
        held = [reader.listen() for _ in range(realtime.MAX_STREAMS_PER_PERSON)]
        one_more = EventReader(f"{site.url}/api/v1/events", reader.token)
        assert one_more.response.status == 429
        assert json.loads(one_more.response.read())["error"]["code"] == "tooManyRequests"
        assert one_more.response.getheader("Retry-After") == "15"
        assert cast["author"].listen().response.status == 200  # others are not affected
        held[0].close()  # the server notices at its next write (a heartbeat) and frees a place
        deadline = time.monotonic() + WITHIN
        while (again := EventReader(f"{site.url}/api/v1/events", reader.token)).response.status:
            reader.readers.append(again)
            if again.response.status == 200:
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        site.app.config.pop("PLAZA_HEARTBEAT_SECONDS")
        reader.close()


def test_pages_may_connect_to_a_separate_realtime_origin(make_app) -> None:
    app = make_app(realtime_url="http://localhost:5001/")
    assert app.extensions["plaza.settings"].realtime_url == "http://localhost:5001"
    policy = app.test_client().get("/signout").headers["Content-Security-Policy"]
    assert "; connect-src 'self' http://localhost:5001; " in policy


def test_heartbeat_comments_keep_an_idle_stream_alive(site: LiveSite, cast) -> None:
    site.app.config["PLAZA_HEARTBEAT_SECONDS"] = 0.2
    try:
        stream = cast["reader"].listen()
        assert opened(stream).data["heartbeatSeconds"] == 0.2
        time.sleep(0.7)
        assert stream.comments[:2] == [": ping", ": ping"]
    finally:
        site.app.config.pop("PLAZA_HEARTBEAT_SECONDS")
