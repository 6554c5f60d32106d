"""The one migration runner of Plaza's PostgreSQL stores (the social store, overlay_app/pg;
the sessions store, overlay_app/auth/pg_schema.py; the sync index, sync/pg_schema.py).

Each store hands its history (name -> statements, in its SQLite history's order), its
bookkeeping table (the names applied so far) and its advisory-lock key. Each migration runs
in one transaction under that lock and is skipped when its name is recorded, so that
processes starting together migrate once; the table and its schema are made first, under the
same lock (two first starts would race to create them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sync.pg import PgHandle

Migrations = Sequence[tuple[str, Sequence[str]]]


@contextmanager
def _locked(handle: PgHandle, lock_key: int) -> Iterator[PgHandle]:
    """One transaction holding `lock_key` (not the store's writer lock: migrating is not
    writing rows, and a migrator never waits on a writer)."""
    handle.execute("BEGIN")
    try:
        handle.execute("SELECT pg_advisory_xact_lock(?)", [lock_key])
        yield handle
    except BaseException:
        handle.execute("ROLLBACK")
        raise
    handle.execute("COMMIT")


def applied(handle: PgHandle, table: str) -> list[str]:
    """The names recorded in `table`, in the order applied ([] before the first)."""
    if handle.execute("SELECT to_regclass(?)", [table]).fetchone()[0] is None:
        return []
    rows = handle.execute(f"SELECT name FROM {table} ORDER BY applied_at, name")
    return [name for (name,) in rows]


def apply_migrations(
    handle: PgHandle, table: str, lock_key: int, migrations: Migrations, schema: str = ""
) -> list[str]:
    """Applies the `migrations` whose names `table` lacks, in order, each in its own
    transaction; their names. `schema`, when given, is created first (it holds `table`)."""
    if set(applied(handle, table)) >= {name for name, _ in migrations}:
        return []  # the common case (every process start): no lock, no DDL
    with _locked(handle, lock_key):
        if schema:
            handle.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        handle.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
    done: list[str] = []
    for name, statements in migrations:
        with _locked(handle, lock_key):
            if handle.execute(f"SELECT 1 FROM {table} WHERE name = ?", [name]).fetchone():
                continue
            for statement in statements:
                handle.execute(statement)
            handle.execute(f"INSERT INTO {table} (name) VALUES (?)", [name])
            done.append(name)
    return done
