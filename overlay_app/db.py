"""Per-request database handles: the social store (read-write) and the index (read-only).

Opened lazily on `g` and closed at teardown, so each gunicorn worker opens its own connections
after fork. Writes to the social store go through `transaction()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

from overlay_app.schema import MIGRATIONS
from sync import db as index_db


def open_social(path: str | Path) -> sqlite_utils.Database:
    """The social store, migrated; synchronous=FULL so an acknowledged write survives a crash."""
    db = index_db.connect(path)
    db.conn.execute("PRAGMA synchronous=FULL")
    index_db.migrate(db, MIGRATIONS, path)
    return db


def social() -> sqlite_utils.Database:
    if "social_db" not in g:
        g.social_db = sqlite_utils.Database(_connect_social())
    return g.social_db


def _connect_social() -> sqlite3.Connection:
    path = current_app.extensions["plaza.settings"].social_path
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def index() -> sqlite_utils.Database:
    """The sync index, read-only (the overlay never writes it)."""
    if "index_db" not in g:
        g.index_db = index_db.connect(
            current_app.extensions["plaza.settings"].index_path, readonly=True
        )
    return g.index_db


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    with index_db.transaction(social()) as conn:
        yield conn


def _close(_error: BaseException | None) -> None:
    for name in ("social_db", "index_db"):
        handle = g.pop(name, None)
        if handle is not None:
            handle.close()


def init_app(app: Flask) -> None:
    """Creates or migrates both stores once at start, then opens them per request."""
    settings = app.extensions["plaza.settings"]
    open_social(settings.social_path).close()
    index_db.open_index(settings.index_path).close()
    app.teardown_appcontext(_close)
