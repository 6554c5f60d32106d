"""Named leases in the index (table `locks`): at most one process runs a given job at a time.

A lock is a row (name, owner, expires_at). Taking it inserts the row unless a live one exists;
an expired row (its owner died without releasing it, e.g. kill -9) is replaced. While the
owner works, a heartbeat thread pushes `expires_at` forward on its own connection, so a long
run keeps its lock and a dead one loses it within `ttl` seconds. The only SQL on `locks`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from sync.db import EngineError, connect, transaction

log = logging.getLogger(__name__)

LOCK_SECONDS = 60.0
# The scheduler's heartbeat: a lease that `plaza scheduler` keeps alive while it runs (held),
# read by `plaza status` and the web admin's health page (live_lease).
SCHEDULER_LEASE = "scheduler"


def new_owner() -> str:
    """An owner id naming the host and process, unique per call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(
    db: sqlite_utils.Database, name: str, owner: str, ttl: float = LOCK_SECONDS
) -> str | None:
    """Takes the lock for `owner`; None when taken, else the owner currently holding it."""
    now = datetime.now(UTC)
    with transaction(db) as conn:
        conn.execute("DELETE FROM locks WHERE name = ? AND expires_at < ?", (name, _at(now)))
        conn.execute(
            "INSERT INTO locks (name, owner, acquired_at, expires_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (name, owner, _at(now), _at(now + timedelta(seconds=ttl))),
        )
        holder = conn.execute("SELECT owner FROM locks WHERE name = ?", (name,)).fetchone()[0]
    return None if holder == owner else holder


def take_over(
    db: sqlite_utils.Database, name: str, owner: str, ttl: float = LOCK_SECONDS
) -> str | None:
    """Takes the lock for `owner` even from a live holder; returns that holder, if any. Only
    for a caller that knows the holder no longer acts: the elected scheduler leader
    (sync/leader.py) for the scheduler's lease."""
    now = datetime.now(UTC)
    with transaction(db) as conn:
        row = conn.execute(
            "SELECT owner FROM locks WHERE name = ? AND expires_at >= ?", (name, _at(now))
        ).fetchone()
        conn.execute(
            "INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
            " acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
            (name, owner, _at(now), _at(now + timedelta(seconds=ttl))),
        )
    return row[0] if row and row[0] != owner else None


def release_process(db: sqlite_utils.Database, process: str) -> list[str]:
    """Releases every lock held by one dead process ("host:pid", the start of its owner ids);
    returns their names."""
    prefix = f"{process}:"
    with transaction(db) as conn:
        rows = conn.execute(
            "DELETE FROM locks WHERE substr(owner, 1, ?) = ? RETURNING name", (len(prefix), prefix)
        ).fetchall()
    return sorted(row[0] for row in rows)


def refresh(db: sqlite_utils.Database, name: str, owner: str, ttl: float = LOCK_SECONDS) -> bool:
    """Extends the lease; False if `owner` no longer holds it."""
    expires = _at(datetime.now(UTC) + timedelta(seconds=ttl))
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?", (expires, name, owner)
        )
    return cursor.rowcount == 1


def live_lease(db: sqlite_utils.Database, name: str) -> tuple[str, str] | None:
    """(owner, expires_at) of the unexpired lease on `name`, or None: how another process
    tells whether the holder is alive (e.g. the scheduler's)."""
    return db.conn.execute(
        "SELECT owner, expires_at FROM locks WHERE name = ? AND expires_at >= ?",
        (name, _at(datetime.now(UTC))),
    ).fetchone()


@contextmanager
def held(db_path: str | Path, name: str) -> Iterator[str | None]:
    """Holds the lease `name` with a heartbeat for the block; yields the other holder's owner
    (and holds nothing) when someone else has it."""
    db = connect(db_path)
    owner = new_owner()
    try:
        holder = acquire(db, name, owner)
        if holder is not None:
            yield holder
            return
        try:
            with Heartbeat(db_path, name, owner):
                yield None
        finally:
            release(db, name, owner)
    finally:
        db.close()


def release(db: sqlite_utils.Database, name: str, owner: str) -> None:
    with transaction(db) as conn:
        conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))


class Heartbeat:
    """Keeps a lock alive from a background thread until `stop()`; use as a context manager."""

    def __init__(self, db_path: str | Path, name: str, owner: str, ttl: float = LOCK_SECONDS):
        self.db_path, self.name, self.owner, self.ttl = db_path, name, owner, ttl
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lock {name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        db = connect(self.db_path)  # its own connection: never inside the run's transactions
        try:
            while not self._stopped.wait(self.ttl / 3):
                try:
                    if not refresh(db, self.name, self.owner, self.ttl):
                        log.warning("lock %s was lost by %s", self.name, self.owner)
                except EngineError as exc:  # e.g. busy for longer than the timeout: next beat
                    log.warning("cannot refresh lock %s: %s", self.name, exc)
        finally:
            db.close()


def _at(moment: datetime) -> str:
    # One fixed format, so that comparing the strings compares the times.
    return moment.isoformat(timespec="microseconds")
