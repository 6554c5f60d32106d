"""Per-request database handles: the social store (read-write) and the index (read-only).

A request takes its connections lazily onto `g` and gives them back at teardown. Opening a
SQLite connection and reading its schema on the first statement costs about as much as all
of a page's queries together, so connections given back are kept (a few per database, per
app and per process) and handed to the next request instead of closed: a sync worker serves
every request on one pair. A connection is only ever used by one request at a time, and one
still inside a transaction at teardown is rolled back first, as closing it would have done.
The pools belong to the process that made them: after a fork (gunicorn preloads the app) the
child starts with empty ones and never touches the parent's connections. Writes to the social
store go through `transaction()`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

from overlay_app.schema import MIGRATIONS
from sync import db as index_db

log = logging.getLogger("overlay_app.db")

MAX_IDLE = 4  # kept connections per database; more are closed (a burst of threads, greenlets)
HANDLES = {"social_db": "social", "index_db": "index"}


def open_social(path: str | Path) -> sqlite_utils.Database:
    """The social store, migrated; synchronous=FULL so an acknowledged write survives a crash."""
    db = index_db.connect(path)
    db.conn.execute("PRAGMA synchronous=FULL")
    index_db.migrate(db, MIGRATIONS, path)
    return db


class Pool:
    """Idle connections to one database, reused by one request after another."""

    def __init__(self, opener: Callable[[], sqlite_utils.Database]) -> None:
        self._opener = opener
        self._idle: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def take(self) -> sqlite_utils.Database:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._opener()

    def give_back(self, handle: sqlite_utils.Database) -> None:
        conn = handle.conn
        try:
            if conn.in_transaction:  # a request that left a write open: undo it, as close would
                log.warning("a request ended inside a transaction; rolled back")
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            handle.close()
            return
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(handle)
                return
        handle.close()


def _pools(app: Flask) -> dict[str, Pool]:
    pools = app.extensions.get("plaza.db_pools")
    if pools is None or pools["pid"] != os.getpid():
        settings = app.extensions["plaza.settings"]
        pools = {
            "pid": os.getpid(),
            "social": Pool(lambda: sqlite_utils.Database(_connect_social(settings.social_path))),
            "index": Pool(lambda: index_db.connect(settings.index_path, readonly=True)),
        }
        app.extensions["plaza.db_pools"] = pools
    return pools


def _handle(name: str) -> sqlite_utils.Database:
    if name not in g:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        setattr(g, name, _pools(app)[HANDLES[name]].take())
    return getattr(g, name)


def social() -> sqlite_utils.Database:
    return _handle("social_db")


def _connect_social(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def index() -> sqlite_utils.Database:
    """The sync index, read-only (the overlay never writes it)."""
    return _handle("index_db")


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    with index_db.transaction(social()) as conn:
        yield conn


def _give_back(_error: BaseException | None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pools = _pools(app)
    for name, pool in HANDLES.items():
        handle = g.pop(name, None)
        if handle is not None:
            pools[pool].give_back(handle)


def init_app(app: Flask) -> None:
    """Creates or migrates both stores once at start, then lends connections per request."""
    settings = app.extensions["plaza.settings"]
    open_social(settings.social_path).close()
    index_db.open_index(settings.index_path).close()
    app.teardown_appcontext(_give_back)
