"""GET /api/v1/events over real HTTP: live delivery, resume, revocation, cross-process, leaks.

Every stream here is read by `EventReader`, an SSE client on a raw HTTP/1.1 connection
(http.client) that parses `id:`/`event:`/`data:` fields as a browser's EventSource does. The
writes are real API calls with the people's own bearer tokens. "Nothing else arrived" is shown
with a sentinel: a later event the person must receive, before which nothing else came.

- Plaza runs on loopback in a werkzeug threaded server (tests/browser/conftest.py LiveSite);
  cross-process delivery runs `plaza serve` (gunicorn sync workers) and `plaza realtime`
  (gunicorn gevent workers) as two subprocesses on one data dir.
- Revocation uses a fresh emulator (it changes a document's permissions) and a real sync.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from overlay_app import realtime
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.conftest import PlazaEnv

PLAZA = str(Path(__file__).parents[2] / ".venv" / "bin" / "plaza")
if not Path(PLAZA).exists():
    PLAZA = shutil.which("plaza") or "plaza"
WITHIN = 5.0  # seconds a test waits for an event before failing (delivery takes ~50 ms)


@dataclass(frozen=True)
class Received:
    id: str | None
    event: str
    data: Any


class EventReader:
    """An SSE client on a raw HTTP/1.1 connection: a thread parses events into a queue."""

    def __init__(
        self,
        url: str,
        token: str | None,
        last_event_id: str | None = None,
        accept: str = "text/event-stream",
        headers: dict[str, str] | None = None,
    ):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        sent = {"Accept": accept, **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            sent["Last-Event-ID"] = last_event_id
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        self.conn.request("GET", target, headers=sent)
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        self.events: queue.Queue[Received | None] = queue.Queue()
        self.comments: list[str] = []
        self.retry: int | None = None
        self.ended = threading.Event()
        if self.response.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.ended.set()

    def _read(self) -> None:
        fields: dict[str, list[str]] = {}
        try:
            while raw := self.response.readline():
                line = raw.decode().rstrip("\n")
                if line == "":
                    if fields:
                        data = "\n".join(fields.get("data", []))
                        self.events.put(
                            Received(
                                fields["id"][-1] if "id" in fields else None,
                                fields.get("event", ["message"])[-1],
                                json.loads(data) if data else None,
                            )
                        )
                    fields = {}
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "retry":
                        self.retry = int(value)
                    else:
                        fields.setdefault(name, []).append(value)
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # AttributeError: http.client's answer to a connection closed while reading
            pass
        self.ended.set()
        self.events.put(None)

    def next(self, timeout: float = WITHIN) -> Received:
        got = self.events.get(timeout=timeout)
        assert got is not None, "the stream ended"
        return got

    def until(self, event: str, timeout: float = WITHIN, **match: Any) -> list[Received]:
        """Everything received up to and including the first `event` whose data has `match`."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            got = self.next(max(0.01, deadline - time.monotonic()))
            seen.append(got)
            if got.event == event and all(got.data.get(k) == v for k, v in match.items()):
                return seen

    def rest(self) -> list[Received]:
        """What a finished (snapshot) response carried."""
        assert self.ended.wait(WITHIN)
        found = []
        while (got := self.events.get_nowait()) is not None:
            found.append(got)
        return found

    def close(self) -> None:
        # Shut the socket first: closing the response under a thread blocked reading it would
        # wait for that read (the buffered reader's lock) until the next heartbeat or event.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.ended.wait(WITHIN)
        self.conn.close()


class Person:
    """One of the cast, calling the API of one Plaza with their own bearer token."""

    def __init__(self, base_url: str, env: PlazaEnv, upn: str) -> None:
        self.base_url, self.upn = base_url, upn
        self.id = env.tenant.user(upn).id
        self.token = env.handle.token("api", user=upn)
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.readers: list[EventReader] = []

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base_url + path, timeout=30, **kwargs)
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json() if response.content else None

    def listen(
        self, last_event_id: str | None = None, base_url: str | None = None, query: str = ""
    ) -> EventReader:
        url = f"{base_url or self.base_url}/api/v1/events{query}"
        reader = EventReader(url, self.token, last_event_id)
        assert reader.response.status == 200, reader.response.read()
        self.readers.append(reader)
        return reader

    def send(self, room_id: str, body: str) -> dict[str, Any]:
        key = str(uuid.uuid4())
        path = f"/api/v1/rooms/{room_id}/messages"
        return self.call("POST", path, 201, json={"body": body, "client_key": key})

    def sentinel(self) -> str:
        """A channel of one's own: its room.created event reaches only oneself."""
        made = self.call(
            "POST",
            "/api/v1/rooms",
            201,
            json={"kind": "channel", "name": f"sentinel {uuid.uuid4()}", "closed": True},
        )
        return made["id"]

    def close(self) -> None:
        for reader in self.readers:
            reader.close()
        self.http.close()


def opened(reader: EventReader) -> Received:
    first = reader.next()
    assert first.event == "stream.open"
    return first


def kinds(events: list[Received]) -> list[tuple[str, Any]]:
    return [(e.event, e.data) for e in events]


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
    path = site.app.extensions["plaza.settings"].social_path
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT id, room_id, person_id, kind FROM events WHERE id > ? ORDER BY id", [after]
        ).fetchall()


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
        str(newest), "stream.open", {"lastEventId": newest, "heartbeatSeconds": 15}
    )
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
    assert got == Received(str(written[0][0]), "message.new", message)
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
    author.call("DELETE", f"/api/v1/messages/{message['id']}", 204)
    reader.call(
        "PUT", f"/api/v1/rooms/{document_room}/read", 200, json={"last_read_id": message["id"]}
    )
    got = stream.until("room.read")
    assert kinds(got)[0] == ("message.edited", edited)
    assert got[1].event == "message.deleted"
    assert got[1].data["deleted"] is True and got[1].data["body"] == ""
    assert kinds(got)[2:] == [("room.read", {"roomId": document_room, "lastReadId": message["id"]})]


# -- resume --------------------------------------------------------------------------------------


def test_resume_after_a_disconnect_replays_what_was_missed_once(
    cast: dict[str, Person], document_room: str
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
        seen.id, "stream.open", {"lastEventId": int(seen.id), "heartbeatSeconds": 15}
    )
    replayed = [again.next() for _ in missed]
    assert [r.data for r in replayed] == missed
    assert [int(r.id) for r in replayed] == sorted({int(r.id) for r in replayed})
    after = author.send(document_room, "back in the light")
    live = again.next()
    assert live.data == after and int(live.id) > int(replayed[-1].id)
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
    by_query = reader.listen(query=f"?after={one_id - 1}")
    assert opened(by_query).id == str(one_id - 1)
    assert [by_query.next().data, by_query.next().data] == [one, two]
    by_header = reader.listen(last_event_id=str(one_id), query="?after=0")
    assert opened(by_header).id == str(one_id)
    assert by_header.next().data == two


def test_without_accept_event_stream_the_answer_is_a_snapshot(
    site: LiveSite, cast: dict[str, Person], document_room: str
) -> None:
    author, reader = cast["author"], cast["reader"]
    before = event_rows(site)[-1][0]
    message = author.send(document_room, "for the snapshot")
    snapshot = EventReader(f"{site.url}/api/v1/events?after={before}", reader.token, accept="*/*")
    assert snapshot.response.status == 200
    assert kinds(snapshot.rest()) == [
        ("stream.open", {"lastEventId": before, "heartbeatSeconds": 15}),
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
        f"{site.url}/api/v1/events?after={before}", outsider.token, None, accept="*/*"
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
    for headers, query in (
        ({"Last-Event-ID": "abc"}, ""),
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


# -- revocation ----------------------------------------------------------------------------------


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
        snapshot = EventReader(f"{site.url}/api/v1/events?after=0", reader.token, accept="*/*")
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


# -- across processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_servers(plaza_env: PlazaEnv, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`plaza serve` (2 sync workers) and `plaza realtime` (gevent) on one data dir."""
    plaza_env.copy_index(tmp_path)
    serve_port, realtime_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")},
        **plaza_env.connector_env,
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_PUBLIC_URL": f"http://localhost:{serve_port}",
        "PLAZA_REALTIME_URL": f"http://localhost:{realtime_port}",
        "PLAZA_WRITES_PER_MINUTE": "10000",
    }
    commands = [
        [PLAZA, "serve", "--port", str(serve_port), "--workers", "2"],
        [PLAZA, "realtime", "--port", str(realtime_port), "--workers", "1"],
    ]
    processes: list[subprocess.Popen] = []
    try:
        # One after the other: the first to start migrates the fresh overlay.db.
        for port, command in zip((serve_port, realtime_port), commands, strict=True):
            processes.append(
                subprocess.Popen(
                    command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
                )
            )
            wait_for_port(port, processes[-1])
        yield f"http://localhost:{serve_port}", f"http://localhost:{realtime_port}"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            _, errors = process.communicate(timeout=30)
            assert process.returncode == 0, errors
            assert "Traceback" not in errors, errors


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_message_posted_to_plaza_serve_reaches_streams_on_plaza_realtime(
    two_servers: tuple[str, str],
    plaza_env: PlazaEnv,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    serve_url, realtime_url = two_servers
    author, reader = (Person(serve_url, plaza_env, people[r]) for r in ("author", "reader"))
    try:
        path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
        room = author.call("POST", path, 201)["id"]
        reader.call("POST", path, 200)
        # Asked of `plaza serve`, whose sync workers cannot hold it, a stream is a poll: what
        # there is, then the end, and EventSource comes back after `retry`.
        polled = reader.listen()
        assert kinds(polled.rest())[0][0] == "stream.open"
        assert polled.retry == 1000
        streams = [reader.listen(base_url=realtime_url) for _ in range(3)]
        for stream in streams:
            opened(stream)
        for n in range(5):
            sent_at = time.monotonic()
            message = author.send(room, f"across processes {n}")
            for stream in streams:
                got = stream.next()
                assert got.event == "message.new" and got.data == message
            assert time.monotonic() - sent_at < 1.0
    finally:
        author.close()
        reader.close()
