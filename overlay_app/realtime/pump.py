"""The per-process event pump: from the durable `events` log to the open event streams.

Every process serving GET /api/v1/events runs one pump (a thread; a greenlet under gevent). It
polls overlay.db: `PRAGMA data_version` (it changes only when another connection, in any
process, committed), then the log's events after its cursor (event_log.read_events, the one
module with the log's SQL): a message committed by any `plaza serve` worker reaches the streams
held by `plaza realtime` within one poll. On PostgreSQL the signal is a LISTEN/NOTIFY notice
instead, so that nodes on other machines hear of each other's commits (realtime/sources.py).

Each event goes to the subscribers allowed to see it, decided by a `Gate` (the chat access
rules) and cached per subscriber's Person as a room's standing: HIDDEN, VISIBLE (may see it,
e.g. a document they can open) or IN (may see it and is in it: a member row). A room's events
go to the people IN it; an event addressed to one person goes to them if every room it names
is at least VISIBLE to them (a mention notification about a document room they do not follow).
The cache is dropped for a room on room.created / room.member_* events, and decided again as a
whole when index.db changes (a sync committed): a room one was IN and is no longer gets a
`room.removed` {roomId} notice, and nothing of it follows. A person the index no longer admits
has their streams closed.

Subscribers hold a bounded queue; one too far behind is closed and resumes from the log.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overlay_app.identity import Person
from overlay_app.realtime import sources
from overlay_app.realtime.event_log import (
    HIDDEN,
    IN,
    Event,
    StreamItem,
    newest_event_id,
    read_events,
)
from sync import db as index_db

log = logging.getLogger("overlay_app.realtime.pump")

POLL_SECONDS = 0.05
IDLE_SECONDS = 60  # the thread ends after this long without subscribers (the next one restarts it)
RECHECK_SECONDS = 0.5  # at most this often after index.db changes (a sync commits page by page)
BATCH = 500
MAX_QUEUE = 5_000
ROOM_REMOVED = "room.removed"
# Events that change who may see their room: decisions about it are made afresh.
Documents = dict[str, tuple[str, str]]  # document room id -> (drive_id, item_id)
Queued = tuple[StreamItem, Documents]
MEMBERSHIP_KINDS = frozenset({"room.created", "room.member_added", "room.member_removed",
                              "room.updated"})  # fmt: skip


@dataclass(eq=False)
class Subscriber:
    """One open stream: its person, what it may see, and the items waiting to be written."""

    person: Person
    start_after: int = 0  # the pump's cursor when it subscribed
    closed_because: str | None = None
    _items: deque[Queued] = field(default_factory=deque)
    _wake: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, item: StreamItem, documents: Documents | None = None) -> None:
        """Queues `item`; `documents` maps the document rooms it names to their documents,
        which the stream confirms live before writing it (overlay_app.stream_watch)."""
        with self._lock:
            if self.closed_because is None and len(self._items) >= MAX_QUEUE:
                self.closed_because = "behind"
            if self.closed_because is None:
                self._items.append((item, documents or {}))
        self._wake.set()

    def close(self, reason: str) -> None:
        with self._lock:
            if self.closed_because is None:
                self.closed_because = reason
        self._wake.set()

    def take(self, timeout: float) -> list[Queued]:
        """Items pushed since the last take, waiting up to `timeout` seconds for one."""
        self._wake.wait(timeout)
        self._wake.clear()  # before draining: a push after this sets it again
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items


class Pump:
    """Reads new events and fans them out to this process's subscribers.

    The gate holds the access rules (realtime.ChatGate): `context()` (an app context, where
    decisions can be made), `standings(person, room_ids) -> {room: HIDDEN | VISIBLE | IN}`,
    `still_admitted(person) -> bool` (enabled and in the directory),
    `documents(room_ids) -> {room: (drive_id, item_id)}` for document rooms and
    `seal(event_id) -> str` (the cursor streams write as the event's id).
    """

    def __init__(
        self,
        social_path: Path | str,  # overlay.db, or the PostgreSQL database's URL
        index_path: Path | str,  # index.db, or the PostgreSQL URL holding plaza_index
        gate: Any,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.social_path, self.index_path = social_path, index_path
        self.pid = os.getpid()  # threads do not survive a fork: a forked process makes its own
        self.gate = gate
        self.poll_seconds = poll_seconds
        self.cursor = 0
        self._subscribers: list[Subscriber] = []
        self._decisions: dict[Person, dict[str, int]] = {}  # person -> room -> standing
        self._documents: dict[str, tuple[str, str] | None] = {}  # room -> its document, if any
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._index_changed_at: float | None = None
        self._rechecked_at = 0.0

    # -- subscribers ---------------------------------------------------------------------------

    def subscribe(self, person: Person, listen: bool = True) -> Subscriber:
        """A new subscriber, sent every event after the pump's cursor that it may see; with
        `listen=False` only its decisions are kept (a one-off replay needs no thread)."""
        with self._lock:
            if listen:
                self.start()
            subscriber = Subscriber(person, start_after=self.cursor)
            self._subscribers.append(subscriber)
            self._decisions.setdefault(person, {})
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
            if not any(s.person == subscriber.person for s in self._subscribers):
                self._decisions.pop(subscriber.person, None)

    def streams_of(self, person_id: str) -> int:
        with self._lock:
            return sum(1 for s in self._subscribers if s.person.id == person_id)

    def allowed(self, person: Person, events: Iterable[Event]) -> list[Event]:
        """The events `person` may receive, deciding unknown rooms with the gate. Call it
        inside the gate's context (a request's app context, or the pump's own)."""
        events = [e for e in events if _addressed_to(e, person)]
        self._decide(person, set().union(*(e.rooms for e in events)) if events else set())
        with self._lock:
            known = dict(self._decisions.get(person, {}))
        return [
            e for e in events
            if all(known.get(room, HIDDEN) >= need for room, need in e.needs().items())
        ]  # fmt: skip

    def _decide(self, person: Person, rooms: set[str]) -> None:
        with self._lock:
            known = self._decisions.get(person, {})
            unknown = {room for room in rooms if room not in known}
        if not unknown:
            return
        standings = self.gate.standings(person, unknown)
        with self._lock:
            cache = self._decisions.get(person)
            if cache is None:  # their last stream closed meanwhile
                return
            cache.update({room: standings.get(room, HIDDEN) for room in unknown})

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the polling thread once per process (after gunicorn's fork, on first use)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.cursor = self._max_event_id()
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="plaza-pump", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.close("stopping")

    def _run(self) -> None:
        log_source = sources.open_log(self.social_path)
        social = log_source.conn
        index = _open(self.index_path)
        # -1: the first tick reads the log whatever its version, so that nothing committed
        # between start() reading the cursor and this line waits for the next commit.
        versions = (-1, _data_version(index))
        idle_since = time.monotonic()
        try:
            while not self._stopping.is_set():
                if self._subscribers:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > IDLE_SECONDS and self._retire():
                    return
                try:
                    versions = self._tick(log_source, index, versions)
                except sqlite3.OperationalError as exc:  # locked or busy: again next tick
                    log.warning("event pump: %s", exc)
                except Exception:
                    # Never die quietly: streams end (their clients resume from the log through
                    # a request, which reports the error) and the pump skips what it could not
                    # hand out.
                    log.exception("event pump failed; its streams are closed")
                    self._fail(social)
                time.sleep(self.poll_seconds)
        finally:
            log_source.close()
            index.close()

    def _retire(self) -> bool:
        """Ends the thread if still nobody listens (subscribe() starts a new one)."""
        with self._lock:
            if self._subscribers:
                return False
            self._thread = None
            return True

    def _tick(
        self, log_source: Any, index: sqlite3.Connection, versions: tuple[int, int]
    ) -> tuple[int, int]:
        social, index_version = log_source.conn, _data_version(index)
        social_version = log_source.version()
        if index_version != versions[1]:
            self._index_changed_at = time.monotonic()
        if self._index_changed_at is not None and (
            time.monotonic() - self._rechecked_at >= RECHECK_SECONDS
        ):
            self._index_changed_at = None
            self._rechecked_at = time.monotonic()
            self.recheck()
        if social_version != versions[0]:
            while True:
                events = read_events(social, self.cursor, BATCH)
                if not events:
                    break
                self.deliver(events)
                if len(events) < BATCH:
                    break
        return social_version, index_version

    # -- fan-out -------------------------------------------------------------------------------

    def deliver(self, events: list[Event]) -> None:
        """Hands each event to every subscriber that may see it, in log order."""
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            self.cursor = events[-1].id
            return
        with self.gate.context():
            for event in events:
                if event.kind in MEMBERSHIP_KINDS and event.room_id:
                    # Only the person it names can change standing (room.member_*), else all.
                    concerned = [s for s in subscribers if event.concerns in (None, s.person.id)]
                    self._reconsider({event.room_id}, concerned)
                self._fan_out(event, subscribers)
        self.cursor = events[-1].id

    def _fan_out(self, event: Event, subscribers: list[Subscriber]) -> None:
        needs = event.needs()
        people = {s.person for s in subscribers if _addressed_to(event, s.person)}
        for person in people:
            self._decide(person, set(needs))  # only the unknown rooms reach the gate
        with self._lock:
            allowed = {
                person for person in people
                if all(self._decisions.get(person, {}).get(room, HIDDEN) >= need
                       for room, need in needs.items())
            }  # fmt: skip
        item = StreamItem(event.id, event.kind, event.payload, self.gate.seal(event.id))
        documents = self.documents_of(event) if allowed else {}
        for subscriber in subscribers:
            if subscriber.person in allowed:
                subscriber.push(item, documents)

    def documents_of(self, event: Event) -> Documents:
        """The document rooms the event names, with their documents (a room's document never
        changes, so it is asked of the gate once). Call it inside the gate's context."""
        unknown = [room for room in event.rooms if room not in self._documents]
        if unknown:
            found = self.gate.documents(set(unknown))
            with self._lock:
                self._documents.update({room: found.get(room) for room in unknown})
        known = {room: self._documents.get(room) for room in event.rooms}
        return {room: key for room, key in known.items() if key is not None}

    def recheck(self) -> None:
        """After index.db changed: people the index no longer admits lose their streams; rooms
        no longer visible are announced as removed; every other decision is made afresh."""
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        with self.gate.context():
            for person in {s.person for s in subscribers}:
                mine = [s for s in subscribers if s.person == person]
                if not self.gate.still_admitted(person):
                    for subscriber in mine:
                        subscriber.close("signed out")
                    continue
                with self._lock:
                    rooms = set(self._decisions.get(person, {}))
                self._reconsider(rooms, mine)

    def _reconsider(self, rooms: set[str], subscribers: list[Subscriber]) -> None:
        """Decides `rooms` again for these subscribers' people; a room they were IN and are not
        any more gets a `room.removed` notice before anything else of it could follow."""
        for person in {s.person for s in subscribers}:
            with self._lock:
                cache = self._decisions.get(person, {})
                was_in = {room for room in rooms if cache.get(room) == IN}
                for room in rooms:
                    cache.pop(room, None)
            if not was_in:
                continue
            self._decide(person, was_in)
            with self._lock:
                now = self._decisions.get(person, {})
                lost = sorted(room for room in was_in if now.get(room) != IN)
            for room in lost:
                notice = StreamItem(None, ROOM_REMOVED, json.dumps({"roomId": room}))
                for subscriber in subscribers:
                    if subscriber.person == person:
                        subscriber.push(notice)

    def _fail(self, social: sqlite3.Connection) -> None:
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.close("error")
            self._decisions = {s.person: {} for s in self._subscribers}
        self.cursor = newest_event_id(social)

    def _max_event_id(self) -> int:
        log_source = sources.open_log(self.social_path)
        try:
            return newest_event_id(log_source.conn)
        finally:
            log_source.close()


def _addressed_to(event: Event, person: Person) -> bool:
    return event.person_id is None or event.person_id == person.id


def _open(path: Path | str) -> Any:
    """A read-only connection of the pump's own (the pump never writes); on PostgreSQL one of
    its own to the index's schema."""
    if index_db.is_url(path):
        return index_db.connect(path)
    conn = sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _data_version(conn: Any) -> int:
    return index_db.index_version(conn)
