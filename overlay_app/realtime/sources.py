"""Where the event pump reads the log, and how it learns that something new was committed.

SQLite (overlay.db): a read-only connection; `PRAGMA data_version` changes when any other
connection, in any process on this machine, committed.

PostgreSQL (PLAZA_DATABASE_URL): a connection of the pump's own that `LISTEN`s on
`EVENTS_CHANNEL`; every transaction that appends an event also sends `NOTIFY` on it
(`announce_events`), delivered when it commits, to every node. The notice carries nothing: the
log in the database stays the one source of what happened (and who may see it), and a node
that missed notices (a reconnection) still reads everything after its cursor.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from overlay_app.pg import conn as pg_conn

EVENTS_CHANNEL = "plaza_events"


class SqliteLog:
    """The log in overlay.db, read-only."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA busy_timeout=5000")

    def version(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()


class PostgresLog:
    """The log in PostgreSQL; `version()` counts the notices received so far."""

    def __init__(self, url: str) -> None:
        self.conn = pg_conn.connect(url)
        self.conn.execute(f"LISTEN {EVENTS_CHANNEL}")
        self._received = 0

    def version(self) -> int:
        for _notice in self.conn.raw.notifies(timeout=0):
            self._received += 1
        return self._received

    def close(self) -> None:
        self.conn.close()


def open_log(social: Path | str) -> SqliteLog | PostgresLog:
    """The pump's own connection to the log: `social` is overlay.db's path or a database URL."""
    if isinstance(social, str) and social.startswith(("postgresql://", "postgres://")):
        return PostgresLog(social)
    return SqliteLog(Path(social))


def announce_events(conn: Any) -> None:
    """Inside a transaction that appended events: tells every listening pump, at commit
    (PostgreSQL folds the notices of one transaction into one). SQLite needs none."""
    if getattr(conn, "dialect", None) == pg_conn.DIALECT:
        conn.execute(f"NOTIFY {EVENTS_CHANNEL}")
