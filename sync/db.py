"""Opening the index: WAL, a busy timeout, migrations, and explicit transactions.

Connections are opened per process (never shared across a fork). Writers use `transaction()`,
which holds one BEGIN IMMEDIATE ... COMMIT around a block; sqlite-utils' write helpers nest
inside it as savepoints, so a whole block commits together or not at all.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from sync.schema import MIGRATIONS


class IndexError_(Exception):
    """Base of sync's index errors."""


class IndexTooNew(IndexError_):
    """The index was written by a newer Plaza; this one must not touch it."""


def connect(path: str | Path, readonly: bool = False) -> sqlite_utils.Database:
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)


def open_index(path: str | Path) -> sqlite_utils.Database:
    """The index at `path`, created or migrated to this version's schema."""
    db = connect(path)
    try:
        migrate(db, MIGRATIONS, path)
    except IndexTooNew:
        db.close()
        raise
    return db


def migrate(db: sqlite_utils.Database, migrations: Migrations, path: str | Path) -> None:
    """Applies pending migrations, one process at a time (web workers start together).

    Raises IndexTooNew when the file holds migrations this version does not know.
    """
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = {m.name for m in migrations._migrations}
        unknown = {m.name for m in migrations.applied(db)} - known
        if unknown:
            raise IndexTooNew(
                f"{path} was written by a newer Plaza (migrations {', '.join(sorted(unknown))}): "
                "upgrade Plaza or point PLAZA_DATA_DIR at another directory"
            )
        migrations.apply(db)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything in the block commits together or not at all."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
