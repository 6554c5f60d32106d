"""GET /api/v1/events: one server-sent event stream per browser tab, carrying all its rooms.

Each event is written as `id:` (a cursor: events.id sealed by event_log.Cursors, which a client
cannot read nor compare), `event:` (its kind) and `data:` (its JSON payload). A stream opens
with a `retry:` hint and a `stream.open` event whose id is where it starts, so a client that
drops before any event still resumes from the right place; a comment line
(`: ping`) goes out every 15 s so proxies keep the connection and dead ones are noticed.

Resuming: `Last-Event-ID` (sent by EventSource on reconnect) or `?after=CURSOR` (the header
wins; `0` is the log's start) replays, from the durable log, exactly the events after that
cursor this person may receive now
(pump.Pump.allowed), then goes live; an id is never written twice on one stream. (A deleted
message's words are already gone from the log: event_log.forget_words.) A backlog
longer than MAX_REPLAY events is not replayed: the stream says `stream.reset` and the client
reloads its rooms through the REST API. Without either, the stream starts at "now".

Clients that do not ask for `Accept: text/event-stream` (scripts, curl, API fuzzers) get a
snapshot: the same replay, then the response ends. So does a stream asked of a gunicorn sync
worker (`plaza serve`), which holding it would take out of service: with `retry: 1000`,
EventSource polls once a second and resumes each time (long polling in effect). `plaza
realtime` (gevent) and threaded servers hold a stream for STREAM_SECONDS, after which the client
reconnects, and so re-authenticates.

Cross-origin: pages may connect to `plaza realtime` on another origin (settings.realtime_url);
the public_url's origin is allowed with credentials (CORS), so the session cookie is sent.
"""

from __future__ import annotations

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
from overlay_app.auth import views as auth
from overlay_app.chat import access as chat_access
from overlay_app.errors import BadInput, RateLimited
from overlay_app.identity import Person, require_person
from overlay_app.realtime.event_log import (
    IN,
    VISIBLE,
    Cursors,
    Event,
    StreamItem,
    newest_event_id,
    read_events,
)
from overlay_app.realtime.pump import Pump, Subscriber
from overlay_app.realtime.stream_watch import StreamWatch

bp = Blueprint("realtime", __name__)

EVENTS_PATH = "/api/v1/events"
HEARTBEAT_SECONDS = 15  # app.config["PLAZA_HEARTBEAT_SECONDS"] overrides it (tests)
RETRY_MILLISECONDS = 2_000
POLL_RETRY_MILLISECONDS = 1_000  # served by a sync worker: EventSource polls at this pace
STREAM_SECONDS = 600
MAX_REPLAY = 20_000  # log rows scanned to resume; past that, `stream.reset`
MAX_STREAMS_PER_PERSON = 24  # tabs and devices; more looks like a runaway client
MAX_CURSOR_CHARS = 100
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
        visible = chat_access.visible_room_ids(person, room_ids)
        members = set(chat_access.roles_of(person.id, visible)) if visible else set()
        return {room: IN if room in members else VISIBLE for room in visible}

    def seal(self, event_id: int) -> str:
        return cursors_of(self.app).seal(event_id)

    def still_admitted(self, person: Person) -> bool:
        return auth.load_person(person.id) is not None

    def documents(self, room_ids: set[str]) -> dict[str, tuple[str, str]]:
        rooms = chat_access.load_rooms(room_ids).values()
        return {room.id: room.document_key for room in rooms if room.document_key}


def cursors_of(app: Flask) -> Cursors:
    return app.extensions["plaza.cursors"]


def current_cursor() -> str:
    """A cursor at the log's newest event now (where a page's stream starts)."""
    return cursors_of(current_app).seal(newest_event_id(db.social().conn))


def pump_of(app: Flask) -> Pump:
    """This process's pump for the app (a new one after a fork: threads do not survive it)."""
    pump = app.extensions.get("plaza.pump")
    if pump is None or pump.pid != os.getpid():
        settings = app.extensions["plaza.settings"]
        social = settings.database_url or settings.social_path
        pump = Pump(social, db.index_location(settings), ChatGate(app))
        app.extensions["plaza.pump"] = pump
    return pump


# -- the route -------------------------------------------------------------------------------


@bp.get(EVENTS_PATH, provide_automatic_options=False)
def events():
    person = require_person()
    after = _resume_point()
    wants_stream = "text/event-stream" in request.headers.get("Accept", "")
    live = wants_stream and _holds_connections()
    pump = pump_of(current_app._get_current_object())  # type: ignore[attr-defined]
    if live and pump.streams_of(person.id) >= MAX_STREAMS_PER_PERSON:
        raise RateLimited(HEARTBEAT_SECONDS, "Too many open event streams: close some tabs.")
    subscriber = pump.subscribe(person, listen=live)
    watch = StreamWatch(current_app._get_current_object(), person)  # type: ignore[attr-defined]
    try:
        newest = _newest_event_id()
        start = newest if after is None else after
        replayed = _replay(pump, watch, start, newest)
    except BaseException:
        pump.unsubscribe(subscriber)
        raise
    heartbeat = float(current_app.config.get("PLAZA_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    # Polling (a sync worker cannot hold a stream): EventSource comes back after `retry`.
    retry = POLL_RETRY_MILLISECONDS if wants_stream and not live else RETRY_MILLISECONDS
    reset_at = subscriber.start_after if live else newest
    opening = _opening(start, replayed, reset_at, heartbeat, retry)
    if live:
        last = reset_at if replayed is None else max([start, *(i.id for i in replayed)])
        body: Any = _stream(pump, subscriber, watch, opening, last, STREAM_SECONDS, heartbeat)
    else:
        pump.unsubscribe(subscriber)
        body = "".join(opening)
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
    if raw == "0":  # the log's start: a place that tells nothing
        return 0
    after = cursors_of(current_app).open(raw) if len(raw) <= MAX_CURSOR_CHARS else None
    if after is None:
        raise BadInput(
            '"%(name)s" must be the id of an event this server sent (reconnect without it to'
            " start from now), got %(given)s",
            name=name,
            given=repr(raw[:40]),
        )
    return after


def _newest_event_id() -> int:
    """Where a stream without a resume point starts: "now", read after subscribing, so that
    everything newer comes from the pump (and anything older the pump still hands over is
    skipped as already past)."""
    return newest_event_id(db.social().conn)


def _replay(pump: Pump, watch: StreamWatch, after: int, newest: int) -> list[StreamItem] | None:
    """The events after `after` this person may receive now (document rooms confirmed live);
    None when the backlog is longer than MAX_REPLAY (the client reloads instead)."""
    conn = db.social().conn
    if newest - after > MAX_REPLAY:
        return None
    items: list[StreamItem] = []
    cursor = after
    while True:
        batch: list[Event] = read_events(conn, cursor, REPLAY_BATCH)
        if not batch:
            return items
        allowed = pump.allowed(watch.person, batch)
        queued = [(_item(e), pump.documents_of(e)) for e in allowed]
        items += watch.keep(queued, notify=False)
        cursor = batch[-1].id


def _item(event: Event) -> StreamItem:
    cursor = cursors_of(current_app).seal(event.id)
    return StreamItem(event.id, event.kind, event.payload, cursor)


def _opening(
    start: int, replayed: list[StreamItem] | None, reset_at: int, heartbeat: float, retry: int
) -> list[str]:
    """The stream's first lines: the retry hint, where it starts, then the replay."""
    lines = [f"retry: {retry}\n\n"]
    seal = cursors_of(current_app).seal
    if replayed is None:
        cursor = seal(reset_at)
        data = json.dumps({"lastEventId": cursor})
        return [*lines, sse(StreamItem(reset_at, STREAM_RESET, data, cursor))]
    every = int(heartbeat) if heartbeat == int(heartbeat) else heartbeat
    cursor = seal(start)
    data = json.dumps({"lastEventId": cursor, "heartbeatSeconds": every})
    opened = StreamItem(start, STREAM_OPEN, data, cursor)
    return [*lines, sse(opened), *(sse(i) for i in replayed)]


def _stream(
    pump: Pump,
    subscriber: Subscriber,
    watch: StreamWatch,
    opening: list[str],
    last: int,
    seconds: float,
    heartbeat: float,
) -> Iterator[str]:
    """The live part: queued items newer than the last id written (document rooms confirmed
    live by `watch`), heartbeats, then the end (also when the person's account is disabled)."""
    deadline = time.monotonic() + seconds
    try:
        yield "".join(opening)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            items = watch.keep(subscriber.take(min(heartbeat, left)))
            if not watch.account_enabled():
                subscriber.close("signed out")
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
    return item.text


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
    app.extensions["plaza.cursors"] = Cursors(app.extensions["plaza.settings"].secret_key)
    app.after_request(_cors)


# -- OpenAPI ---------------------------------------------------------------------------------

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
API_PATHS = {
    EVENTS_PATH: {
        "get": {
            "operationId": "getEvents",
            "summary": "The caller's real-time events (server-sent events), all rooms at once.",
            "description": (
                "A text/event-stream: each event has `id` (an opaque cursor, to resume from; it "
                "tells nothing about the events of others), `event` (its "
                "kind: message.new, message.edited, message.deleted, room.created, "
                "room.member_added, room.member_removed, room.read, notification.new, and the "
                "stream's own stream.open, stream.reset, stream.closed, room.removed) and "
                "`data` (JSON). Events after `Last-Event-ID` (or `after`) that the caller may "
                "see are replayed first. With `Accept: text/event-stream` the stream stays "
                "open (heartbeat comments every 15 s) where the server can hold it (`plaza "
                "realtime`); otherwise the replay is returned and the response ends (a poll: "
                "come back after the `retry` hint with Last-Event-ID)."
            ),
            "parameters": [
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "description": (
                        "Replay events after this event id, or 0: from the start (Last-Event-ID"
                        " wins)."
                    ),
                    "schema": {"type": "string", "maxLength": MAX_CURSOR_CHARS},
                },
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "The id of the last event received (sent by EventSource).",
                    "schema": {"type": "string", "maxLength": MAX_CURSOR_CHARS},
                },
            ],
            "responses": {
                "200": {
                    "description": "The event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "400": {"description": "Not an event id this server sent.", "content": _ERROR},
                "401": {"description": "Signed out, or the token is not valid.", "content": _ERROR},
                "429": {"description": "Too many streams open for this person.", "content": _ERROR},
            },
        }
    }
}
API_SCHEMAS: dict = {}
