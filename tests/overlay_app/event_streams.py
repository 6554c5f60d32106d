"""An SSE client for Plaza's GET /api/v1/events, and the people of the cast who read with it.

`EventReader` reads a stream on a raw HTTP/1.1 connection (http.client) and parses `id:`,
`event:`, `data:` and `retry:` fields as a browser's EventSource does, in a thread that puts
each event on a queue. `Person` calls the API of one Plaza with their own bearer token and
opens streams as themselves. Shared by the test_realtime*.py modules.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.overlay_app.conftest import PlazaEnv

WITHIN = 5.0  # seconds a test waits for an event before failing (delivery takes ~50 ms)


@dataclass(frozen=True)
class Received:
    """One event as EventSource hands it over: its id, its type and its data (parsed JSON)."""

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
    """The first event of a stream, which must be stream.open."""
    first = reader.next()
    assert first.event == "stream.open"
    return first


def kinds(events: list[Received]) -> list[tuple[str, Any]]:
    """(event type, data) of each event, to compare in one assertion."""
    return [(e.event, e.data) for e in events]


def cursor_at(app: Any, event_id: int) -> str:
    """The cursor a stream of `app` would write for the log's event `event_id`."""
    return app.extensions["plaza.cursors"].seal(event_id)


def place_of(app: Any, cursor: str | None) -> int | None:
    """The log's event id a cursor holds (None: not one of `app`'s cursors)."""
    return app.extensions["plaza.cursors"].open(cursor or "")
