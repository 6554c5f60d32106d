"""GET /api/v1/events: one server-sent event stream per browser tab, carrying all its rooms.

Each event is written as `id:` (events.id), `event:` (its kind) and `data:` (its JSON payload).
A stream opens with a `retry:` hint and a `stream.open` event whose id is where it starts, so a
client that drops before any event still resumes from the right place; a comment line
(`: ping`) goes out every 15 s so proxies keep the connection and dead ones are noticed.

Resuming: `Last-Event-ID` (sent by EventSource on reconnect) or `?after=ID` (the header wins)
replays, from the durable log, exactly the events after that id this person may receive now
(pump.Pump.allowed), then goes live; an id is never written twice on one stream. A backlog
longer than MAX_REPLAY events is not replayed: the stream says `stream.reset` and the client
reloads its rooms through the REST API. Without either, the stream starts at "now".

Clients that do not ask for `Accept: text/event-stream` (scripts, curl, API fuzzers) get a
snapshot: the same replay, then the response ends. Served by a gunicorn sync worker (`plaza
serve`), which a long response would hold and time out, a stream ends after SHORT_STREAM_SECONDS
and EventSource reconnects on its own; `plaza realtime` (gevent) and threaded servers hold it
for STREAM_SECONDS, after which the client re-authenticates by reconnecting.

Cross-origin: pages may connect to `plaza realtime` on another origin (settings.realtime_url);
the public_url's origin is allowed with credentials (CORS), so the session cookie is sent.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, request

from overlay_app import db
from overlay_app.errors import BadInput, RateLimited
from overlay_app.identity import Person, require_person
from overlay_app.pump import IN, VISIBLE, Event, Pump, StreamItem, Subscriber, read_events

bp = Blueprint("realtime", __name__)

EVENTS_PATH = "/api/v1/events"
HEARTBEAT_SECONDS = 15  # app.config["PLAZA_HEARTBEAT_SECONDS"] overrides it (tests)
RETRY_MILLISECONDS = 2_000
STREAM_SECONDS = 600
SHORT_STREAM_SECONDS = 25  # under gunicorn's sync workers (their timeout is 60 s)
MAX_REPLAY = 20_000  # log rows scanned to resume; past that, `stream.reset`
MAX_STREAMS_PER_PERSON = 24  # tabs and devices; more looks like a runaway client
MAX_EVENT_ID = 2**53 - 1
REPLAY_BATCH = 500
STREAM_OPEN, STREAM_RESET, STREAM_CLOSED = "stream.open", "stream.reset", "stream.closed"


# -- the gate: chat access rules, as the pump needs them -------------------------------------------


class ChatGate:
    """Binds the pump to chat_access (the one place deciding room visibility) and auth."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def context(self) -> AbstractContextManager[Any]:
        return self.app.app_context()

    def standings(self, person: Person, room_ids: set[str]) -> dict[str, int]:
        chat_access = importlib.import_module("overlay_app.chat_access")
        visible = chat_access.visible_room_ids(person, room_ids)
        members = set(chat_access.roles_of(person.id, visible)) if visible else set()
        return {room: IN if room in members else VISIBLE for room in visible}

    def still_admitted(self, person: Person) -> bool:
        auth = importlib.import_module("overlay_app.auth")
        return auth.load_person(person.id) is not None


def pump_of(app: Flask) -> Pump:
    """This process's pump for the app (a new one after a fork: threads do not survive it)."""
    pump = app.extensions.get("plaza.pump")
    if pump is None or pump.pid != os.getpid():
        settings = app.extensions["plaza.settings"]
        pump = Pump(settings.social_path, settings.index_path, ChatGate(app))
        pump.pid = os.getpid()
        app.extensions["plaza.pump"] = pump
    return pump


# -- the route -------------------------------------------------------------------------------


@bp.get(EVENTS_PATH, provide_automatic_options=False)
def events():
    person = require_person()
    after = _resume_point()
    live = "text/event-stream" in request.headers.get("Accept", "")
    pump = pump_of(current_app._get_current_object())  # type: ignore[attr-defined]
    if live and pump.streams_of(person.id) >= MAX_STREAMS_PER_PERSON:
        raise RateLimited(HEARTBEAT_SECONDS, "Too many open event streams: close some tabs.")
    subscriber = pump.subscribe(person)
    try:
        start = _newest_event_id() if after is None else after
        replayed = _replay(pump, person, start)
    except BaseException:
        pump.unsubscribe(subscriber)
        raise
    heartbeat = float(current_app.config.get("PLAZA_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    opening = _opening(start, replayed, subscriber, heartbeat)
    last = subscriber.start_after if replayed is None else max([start, *(i.id for i in replayed)])
    if not live:
        pump.unsubscribe(subscriber)
        body: Any = "".join(opening)
    else:
        seconds = STREAM_SECONDS if _holds_connections() else SHORT_STREAM_SECONDS
        body = _stream(pump, subscriber, opening, last, seconds, heartbeat)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not hold events back
    response.call_on_close(lambda: pump.unsubscribe(subscriber))
    return response


@bp.route(EVENTS_PATH, methods=["OPTIONS"])
def events_preflight():
    """CORS preflight (EventSource may send Last-Event-ID): answered without signing in."""
    return Response(status=204)


events_preflight.plaza_public = True  # type: ignore[attr-defined]


def _resume_point() -> int | None:
    raw = request.headers.get("Last-Event-ID")
    name = "Last-Event-ID"
    if raw is None or not raw.strip():
        raw, name = request.args.get("after"), "after"
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_EVENT_ID:
        raise BadInput(f'"{name}" must be an event id (a whole number from 0), got {raw[:40]!r}')
    return int(raw)


def _newest_event_id() -> int:
    """Where a stream without a resume point starts: "now", read after subscribing, so that
    everything newer comes from the pump (and anything older the pump still hands over is
    skipped as already past)."""
    return db.social().execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]


def _replay(pump: Pump, person: Person, after: int) -> list[StreamItem] | None:
    """The events after `after` this person may receive now; None when the backlog is longer
    than MAX_REPLAY (the client reloads instead)."""
    conn = db.social().conn
    if _newest_event_id() - after > MAX_REPLAY:
        return None
    items: list[StreamItem] = []
    cursor = after
    while True:
        batch: list[Event] = read_events(conn, cursor, REPLAY_BATCH)
        if not batch:
            return items
        items += [StreamItem(e.id, e.kind, e.payload) for e in pump.allowed(person, batch)]
        cursor = batch[-1].id


def _opening(
    start: int, replayed: list[StreamItem] | None, subscriber: Subscriber, heartbeat: float
) -> list[str]:
    """The stream's first lines: the retry hint, where it starts, then the replay."""
    lines = [f"retry: {RETRY_MILLISECONDS}\n\n"]
    if replayed is None:
        at = subscriber.start_after
        lines.append(sse(StreamItem(at, STREAM_RESET, json.dumps({"lastEventId": at}))))
        return lines
    every = int(heartbeat) if heartbeat == int(heartbeat) else heartbeat
    data = json.dumps({"lastEventId": start, "heartbeatSeconds": every})
    lines.append(sse(StreamItem(start, STREAM_OPEN, data)))
    lines += [sse(item) for item in replayed]
    return lines


def _stream(
    pump: Pump,
    subscriber: Subscriber,
    opening: list[str],
    last: int,
    seconds: float,
    heartbeat: float,
) -> Iterator[str]:
    """The live part: queued items newer than the last id written, heartbeats, then the end."""
    deadline = time.monotonic() + seconds
    try:
        yield "".join(opening)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            items = subscriber.take(min(heartbeat, left))
            chunk = []
            for item in items:
                if item.id is not None and item.id <= last:
                    continue  # already replayed
                chunk.append(sse(item))
                last = item.id if item.id is not None else last
            if subscriber.closed_because is not None:
                reason = subscriber.closed_because
                chunk.append(sse(StreamItem(None, STREAM_CLOSED, json.dumps({"reason": reason}))))
                yield "".join(chunk)
                return
            yield "".join(chunk) if chunk else ": ping\n\n"
    finally:
        pump.unsubscribe(subscriber)


def sse(item: StreamItem) -> str:
    """One event in the text/event-stream format (a data line per line of the payload)."""
    lines = [] if item.id is None else [f"id: {item.id}"]
    lines.append(f"event: {item.kind}")
    lines += [f"data: {line}" for line in (item.data.splitlines() or [""])]
    return "\n".join(lines) + "\n\n"


def _holds_connections() -> bool:
    """Whether this server can hold a connection without holding a whole worker: threads
    (werkzeug, gunicorn gthread) or gevent's cooperative sockets."""
    if request.environ.get("wsgi.multithread"):
        return True
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


# -- CORS --------------------------------------------------------------------------------------


def _allowed_origins() -> set[str]:
    settings = current_app.extensions["plaza.settings"]
    return {origin for origin in (_origin(settings.public_url),) if origin}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _cors(response: Response) -> Response:
    """The page's origin may read the stream with its cookie (pages served by `plaza serve`,
    stream by `plaza realtime` on another port or host)."""
    if request.path != EVENTS_PATH:
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and origin in _allowed_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET"
            response.headers["Access-Control-Allow-Headers"] = "Last-Event-ID, Cache-Control"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_cors)


# -- OpenAPI ---------------------------------------------------------------------------------

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
API_PATHS = {
    EVENTS_PATH: {
        "get": {
            "operationId": "getEvents",
            "summary": "The caller's real-time events (server-sent events), all rooms at once.",
            "description": (
                "A text/event-stream: each event has `id` (the event log's id), `event` (its "
                "kind: message.new, message.edited, message.deleted, room.created, "
                "room.member_added, room.member_removed, room.read, notification.new, and the "
                "stream's own stream.open, stream.reset, stream.closed, room.removed) and "
                "`data` (JSON). Events after `Last-Event-ID` (or `after`) that the caller may "
                "see are replayed first. With `Accept: text/event-stream` the stream stays "
                "open (heartbeat comments every 15 s); otherwise the replay is returned and "
                "the response ends."
            ),
            "parameters": [
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "description": "Replay events after this id (Last-Event-ID wins).",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_EVENT_ID},
                },
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "The id of the last event received (sent by EventSource).",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,15}$"},
                },
            ],
            "responses": {
                "200": {
                    "description": "The event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "400": {"description": "The resume id is not an event id.", "content": _ERROR},
                "401": {"description": "Signed out, or the token is not valid.", "content": _ERROR},
                "429": {"description": "Too many streams open for this person.", "content": _ERROR},
            },
        }
    }
}
