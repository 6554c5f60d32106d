"""Per-person rate limits on writes and on the reads that answer from what a person may see.

`check_rate(person, action)` keeps a sliding one-minute window per person and action in
overlay.db, so that every gunicorn worker sees the same count. Writes allow writes_per_minute
of each kind. `check_read_rate(person, kind)` counts searches, people lookups and tag
suggestions against their own settings (READ_LIMITS), so that none of them can be asked in bulk
(a search, a directory or a suggestion list run thousands of times is an oracle over what the
person may see). Reads are counted in memory, per worker process (`ReadWindows`): a durable
write on every page view made readers queue behind SQLite's one writer; the price is that with
N workers a person may read up to N times the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from flask import Flask, current_app

from overlay_app import db
from overlay_app.errors import N_, Phrase, RateLimited
from overlay_app.identity import Person

RATE_WINDOW_SECONDS = 60
# Reads counted per person: kind -> (the setting holding its limit, what people are told).
READ_LIMITS = {
    "search": ("searches_per_minute", N_("searches")),
    "people": ("people_lookups_per_minute", N_("people lookups")),
    "tag_suggestions": ("tag_suggestions_per_minute", N_("tag suggestions")),
}
# The writes of the last minute and how many older ones are left to prune (one range of
# rate_events_by_person).
RATE_SQL = """SELECT count(*) FILTER (WHERE at > :since), min(at) FILTER (WHERE at > :since),
    count(*) FILTER (WHERE at <= :since) FROM rate_events
    WHERE person_id = :person AND action = :action"""
PRUNE_STALE = 32


def check_rate(person: Person | str, action: str) -> None:
    """Counts one write of `action` by `person`; RateLimited when the last minute already holds
    writes_per_minute of them. Called inside the caller's write transaction, the count and the
    write commit together (and a refused write leaves nothing behind)."""
    limit = current_app.extensions["plaza.settings"].writes_per_minute
    if limit <= 0:
        return
    person_id = person.id if isinstance(person, Person) else person
    now = time.time()
    window = {"person": person_id, "action": action, "since": now - RATE_WINDOW_SECONDS}
    with db.joined_transaction() as conn:
        count, oldest, stale = conn.execute(RATE_SQL, window).fetchone()
        if stale >= PRUNE_STALE:  # one DELETE per PRUNE_STALE writes, not one per write
            conn.execute(
                "DELETE FROM rate_events WHERE person_id = :person AND action = :action"
                " AND at <= :since",
                window,
            )
        if count >= limit:
            raise RateLimited(max(1, math.ceil(oldest + RATE_WINDOW_SECONDS - now)))
        conn.execute(
            "INSERT INTO rate_events (person_id, action, at) VALUES (?, ?, ?)",
            (person_id, action, now),
        )


class ReadWindows:
    """Sliding one-minute windows of reads per (person, kind), in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._times: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def count(self, key: tuple[str, str], limit: int) -> int | None:
        """Counts one read; or, past `limit`, the whole seconds until the window has room."""
        now = self.clock()
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - RATE_WINDOW_SECONDS:
                times.popleft()
            if len(times) >= limit:
                return max(1, math.ceil(times[0] + RATE_WINDOW_SECONDS - now))
            times.append(now)
            return None


def check_read_rate(person: Person | str, kind: str) -> None:
    """Counts one read of `kind` (a key of READ_LIMITS) by `person`, in a window of its own;
    RateLimited (429 with Retry-After, or the error page) past the kind's setting."""
    setting, what = READ_LIMITS[kind]
    limit = getattr(current_app.extensions["plaza.settings"], setting)
    if limit <= 0:
        return
    person_id = person.id if isinstance(person, Person) else person
    wait = current_app.extensions["plaza.read_windows"].count((person_id, kind), limit)
    if wait is not None:
        raise RateLimited(
            wait, "Too many %(what)s at once: try again in %(seconds)s s.", what=Phrase(what)
        )


def init_rate_limits(app: Flask) -> None:
    """This process's read windows (writes are counted in the social store)."""
    app.extensions["plaza.read_windows"] = ReadWindows()
