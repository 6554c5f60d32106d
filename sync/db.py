"""Opening the index: WAL, a busy timeout, migrations, and explicit transactions.

Connections are opened per process (never shared across a fork). Writers use `transaction()`,
which holds one BEGIN IMMEDIATE ... COMMIT around a block; sqlite-utils' write helpers nest
inside it as savepoints, so a whole block commits together or not at all.

The index's location is a path (index.db, SQLite) or a postgresql:// URL (PLAZA_DATABASE_URL:
the index's tables in the schema plaza_index of that database, sync/pg_schema.py); there the
connection is a sync.pg.PgHandle, which takes the same SQL, and `transaction()` is BEGIN ...
COMMIT under an advisory lock serialising index writers as BEGIN IMMEDIATE does.
`index_location(path, database_url)` says which, from the settings.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from sync import dialect, pg, pg_schema
from sync.pg import PgHandle
from sync.schema import MIGRATIONS

URL_SCHEMES = ("postgresql://", "postgres://")
Location = str | Path  # index.db's path, or a postgresql:// URL
IndexDb = sqlite_utils.Database | PgHandle


class IndexError_(Exception):
    """Base of sync's index errors."""


# A constraint refused a write, whichever the engine (a duplicate key: "already exists").
IntegrityError = (sqlite3.IntegrityError, pg.psycopg.IntegrityError)
# Any error of the index's engine (busy, connection lost...).
EngineError = (sqlite3.Error, pg.psycopg.Error)


class IndexTooNew(IndexError_):
    """The index was written by a newer Plaza; this one must not touch it."""


def is_url(location: Location) -> bool:
    return isinstance(location, str) and location.startswith(URL_SCHEMES)


def index_location(path: str | Path, database_url: str | None = "") -> Location:
    """Where the index is: PostgreSQL when a database URL is set (PLAZA_DATABASE_URL), else
    the SQLite file at `path`."""
    return database_url if database_url else path


def connect(location: Location, readonly: bool = False) -> Any:
    """A connection to the index at `location`, not migrated (sqlite_utils.Database, or a
    PgHandle for a URL; `readonly` applies to SQLite's file)."""
    if is_url(location):
        return connect_pg(str(location))
    path = location
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


INDEX_OPTIONS = pg.Options(
    pg_schema.SEARCH_PATH, pg_schema.INDEX_WRITER_LOCK, dialect.for_postgresql
)


def connect_pg(url: str, pooled: bool = False) -> PgHandle:
    """A connection to the index in PostgreSQL: its schema first on the search_path, its own
    writer lock; `pooled` lends one from this process's pool (the web app's requests)."""
    opener = pg.lend if pooled else pg.connect
    return opener(url, INDEX_OPTIONS)


def location_of(db: Any) -> Location | None:
    """Where an open index is, to open more connections to it (None: SQLite in memory)."""
    if isinstance(db, PgHandle):
        return db.url
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or None
    return None


def index_version(db: Any) -> int:
    """A number that changes whenever another connection commits a write to the index (what
    a reader keys its caches on): SQLite's data_version; on PostgreSQL the counter kept by
    sync/pg_schema.py's triggers, as committed."""
    if isinstance(db, PgHandle):
        return int(db.execute("SELECT n FROM index_version").fetchone()[0])
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def open_index(location: Location) -> Any:
    """The index at `location` (a path or a postgresql:// URL), created or migrated to this
    version's schema."""
    db = connect(location)
    try:
        if isinstance(db, PgHandle):
            migrate_pg(db)
        else:
            migrate(db, MIGRATIONS, location)
    except BaseException:
        db.close()
        raise
    return db


def migrate_pg(handle: PgHandle) -> None:
    """The index in PostgreSQL brought to this version's schema (IndexTooNew: newer)."""
    known = {name for name, _ in pg_schema.MIGRATIONS}
    unknown = set(pg_schema.applied(handle)) - known
    if unknown:
        raise IndexTooNew(
            f"the index in PostgreSQL (schema {pg_schema.SCHEMA}) was written by a newer Plaza"
            f" (migrations {', '.join(sorted(unknown))}): upgrade Plaza"
        )
    pg_schema.migrate(handle)


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
def transaction(db: Any, mirror: bool = False) -> Iterator[Any]:
    """One write transaction: everything in the block commits together or not at all.

    `mirror=True` says the block writes only what the sync can read again from Microsoft 365
    (a delta page with its cursor, a people page with its cursor, sites, site groups): on
    PostgreSQL it then commits without waiting for its WAL to reach the disk (`SET LOCAL
    synchronous_commit = off`, this transaction only). A crash of the PostgreSQL server or
    of its machine may then lose the last such commits (at most 3 x wal_writer_delay, 0.6 s
    by default), and a failover those its standby had not received, each whole, never half:
    a page and its cursor go together, so the next run fetches those pages again from the
    older cursor. Anything committed durably afterwards makes them durable too (WAL is
    flushed, and sent, in order). SQLite's index is the same trade: journal_mode=WAL with
    synchronous=NORMAL (connect() above) syncs the WAL only at checkpoints, so a power loss
    or OS crash may roll back its last commits, while a killed process loses nothing; on
    PostgreSQL a server crash (not only the machine's) can lose them, since unflushed WAL
    sits in the server's memory. Every other transaction (job and run records, locks,
    schedules, subscriptions and change notifications) keeps the server's setting: those
    are not fetched again. The per-page WAL flush was part of the gap between PostgreSQL's
    first sync and SQLite's (issue 17, bench/README.md)."""
    if isinstance(db, PgHandle):
        with db.transaction() as handle:
            if mirror:
                handle.execute("SET LOCAL synchronous_commit = off")
            yield handle
        return
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
