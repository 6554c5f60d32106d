"""Per-request database handles: the social store (read-write) and the index (read-only).

A request takes its connections lazily onto `g` and gives them back at teardown. Opening a
SQLite connection and reading the schema on its first statement costs about as much as all of
a page's queries together, so connections given back are kept (a few per database, per app and
per process) and lent to the next request instead of closed: a sync worker serves request
after request on the same ones. A connection is only ever used by one request at a time, and
one still inside a transaction at teardown is rolled back first, as closing it would have done.
The pools belong to the process that made them: after a fork (gunicorn preloads the app) the
child starts with empty ones and never touches the parent's connections.

`pooled(name, opener)` lends any other SQLite store the same way (auth.db, for instance).
Writes to the social store go through `transaction()`.

With PLAZA_DATABASE_URL (postgresql://...) the social store is in PostgreSQL: `social()` lends
an `overlay_app.pg.conn.PgHandle` instead, which takes the same SQL (overlay_app/pg/conn.py);
so is the index, in that database's schema plaza_index (`index()` lends one from sync.db).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from flask import Flask, current_app, g

from overlay_app.pg import conn as pg_conn
from overlay_app.pg import schema as pg_schema
from overlay_app.schema import MIGRATIONS
from sync import db as index_db

log = logging.getLogger("overlay_app.db")

MAX_IDLE = 4  # kept connections per store; more are closed (after a burst of threads, greenlets)
Opener = Callable[[Any], sqlite_utils.Database]  # the app's OverlaySettings -> a new connection


def open_social(path: str | Path) -> sqlite_utils.Database:
    """The social store, migrated; synchronous=FULL so an acknowledged write survives a crash."""
    db = index_db.connect(path)
    db.conn.execute("PRAGMA synchronous=FULL")
    index_db.migrate(db, MIGRATIONS, path)
    return db


def _open_social(settings: Any) -> sqlite_utils.Database | pg_conn.PgHandle:
    if settings.database_url:
        return pg_conn.lend(settings.database_url)
    conn = sqlite3.connect(str(settings.social_path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)


def _open_index(settings: Any) -> sqlite_utils.Database | pg_conn.PgHandle:
    if settings.database_url:  # the index in the same database, schema plaza_index
        return index_db.connect_pg(settings.database_url, pooled=True)
    return index_db.connect(settings.index_path, readonly=True)


def index_location(settings: Any) -> index_db.Location:
    """Where the app's index is: PLAZA_DATABASE_URL's database when set, else index.db."""
    return index_db.index_location(settings.index_path, settings.database_url)


def social() -> sqlite_utils.Database | pg_conn.PgHandle:
    return pooled("social", _open_social)


def index() -> sqlite_utils.Database:
    """The sync index, read-only (the overlay never writes it)."""
    return pooled("index", _open_index)


@contextmanager
def transaction(pipelined: bool = False) -> Iterator[sqlite3.Connection]:
    """A write transaction on this request's social store; `pipelined`, for a write that
    reads no cursor's rowcount: on PostgreSQL its statements go without waiting for each
    answer (sync/pg.PgHandle.transaction); nothing changes on SQLite."""
    with write(social(), pipelined) as conn:
        yield conn


@contextmanager
def joined_transaction() -> Iterator[Any]:
    """The caller's open social-store transaction if there is one, else a new one around the
    block (an audit entry or a rate count commits with the write it belongs to)."""
    conn = social().conn
    if conn.in_transaction:
        yield conn
        return
    with transaction() as conn:
        yield conn


@contextmanager
def write(
    handle: sqlite_utils.Database | pg_conn.PgHandle, pipelined: bool = False
) -> Iterator[sqlite3.Connection]:
    """One write transaction on a social-store handle, whichever the engine."""
    if isinstance(handle, pg_conn.PgHandle):
        with handle.transaction(pipelined) as conn:
            yield conn  # type: ignore[misc]  # the same execute() shape
        return
    with index_db.transaction(handle) as conn:
        yield conn


def open_social_store(
    data_dir: str | Path, database_url: str = ""
) -> sqlite_utils.Database | pg_conn.PgHandle:
    """The social store for a command or a job (no request): a connection of its own,
    migrated; PostgreSQL when `database_url` is set, else overlay.db in `data_dir`. Writes go
    through `write(handle)`; `close()` when done."""
    if not database_url:
        return open_social(Path(data_dir) / "overlay.db")
    handle = pg_conn.connect(database_url)
    pg_schema.migrate(handle)
    return handle


# What the social store's functions run their SQL on: a write's transaction (the connection
# `transaction()` yields) or, for reads, this request's `social()` handle.
SocialConn = sqlite3.Connection | sqlite_utils.Database | pg_conn.PgHandle


# -- lending connections ---------------------------------------------------------------------


class Pool:
    """Idle connections to one store, lent to one request after another."""

    def __init__(self, opener: Callable[[], sqlite_utils.Database]) -> None:
        self._opener = opener
        self._idle: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def take(self) -> sqlite_utils.Database:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._opener()

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for handle in idle:
            handle.close()

    def give_back(self, handle: sqlite_utils.Database) -> None:
        try:
            if handle.conn.in_transaction:  # left open by a failed request: undo, as close would
                log.warning("a request ended inside a transaction; rolled back")
                handle.conn.execute("ROLLBACK")
        except (sqlite3.Error, pg_conn.psycopg.Error):
            handle.close()
            return
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(handle)
                return
        handle.close()


def pooled(name: str, opener: Opener) -> sqlite_utils.Database:
    """This request's connection to the store `name`, lent from the app's pool for it (made
    with `opener(settings)` when the pool has none idle) and given back at teardown."""
    lent: dict[str, sqlite_utils.Database] = g.setdefault("plaza_db_lent", {})
    if name not in lent:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        lent[name] = _pool(app, name, opener).take()
    return lent[name]


def _pool(app: Flask, name: str, opener: Opener) -> Pool:
    pools: dict[str, Any] | None = app.extensions.get("plaza.db_pools")
    if pools is None or pools["pid"] != os.getpid():  # a forked child never shares a connection
        pools = app.extensions["plaza.db_pools"] = {"pid": os.getpid()}
    pool = pools.get(name)
    if pool is None:
        settings = app.extensions["plaza.settings"]
        pool = pools.setdefault(name, Pool(lambda: opener(settings)))
    return pool


def close(app: Flask) -> None:
    """Closes the connections the app keeps (its pools, and those of its features' that
    registered a closer in `plaza.on_close`), e.g. when a test is done with it."""
    for close_kept in app.extensions.get("plaza.on_close", ()):
        close_kept()
    pools = app.extensions.get("plaza.db_pools") or {}
    if pools.get("pid") == os.getpid():
        for name, pool in pools.items():
            if name != "pid":
                pool.close_idle()
    url = app.extensions["plaza.settings"].database_url
    if url:
        pg_conn.close_pool(url)


def _give_back(_error: BaseException | None) -> None:
    lent = g.pop("plaza_db_lent", None)
    if not lent:
        return
    pools = current_app.extensions["plaza.db_pools"]
    for name, handle in lent.items():
        pool = pools.get(name) if pools.get("pid") == os.getpid() else None
        if pool is None:
            handle.close()
        else:
            pool.give_back(handle)


def init_app(app: Flask) -> None:
    """Creates or migrates both stores once at start, then lends connections per request."""
    settings = app.extensions["plaza.settings"]
    if settings.database_url:
        handle = pg_conn.connect(settings.database_url)
        try:
            pg_schema.migrate(handle)
        finally:
            handle.close()
    else:
        open_social(settings.social_path).close()
    index_db.open_index(index_location(settings)).close()
    app.teardown_appcontext(_give_back)
