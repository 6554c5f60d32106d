"""Copying a SQLite store (overlay.db; index.db into the schema plaza_index) into PostgreSQL,
resumable and verified. The target handle's search_path says where the tables are: each
function works in its current_schema() (public for the social store, plaza_index for the
index, whose connection sync.db.connect_pg opens), progress included.

The tables copied are the target's (made by pg/schema.py, the same history as schema.py),
so SQLite-only tables (FTS5 indexes and their shadow tables, sqlite_utils' bookkeeping) stay
behind: PostgreSQL builds its own search. Each table is copied in key order, in batches; a
batch and its row in `plaza_copy_progress` (table, last key copied, rows copied) commit
together, so a copy killed at any moment resumes after its last committed batch with no
duplicate. The key is `rowid` where the target keeps one (creation order, so a reply comes
after the comment it answers), else the primary key, else SQLite's rowid (rate_events).

A table holding rows this tool did not copy is refused before anything is written.
Verification reads both sides through the same normaliser (`row_digest`), in the same order
(text keys compared bytewise on both: SQLite's BINARY, PostgreSQL's "C").
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from overlay_app.pg.conn import PgHandle

PROGRESS = "plaza_copy_progress"
# the target's own bookkeeping: migrations, progress, the index's change counter (PostgreSQL
# only: sync/pg_schema.py; what SQLite's data_version tells)
OWN_TABLES = frozenset({"plaza_migrations", PROGRESS, "index_version"})
BATCH = 1000


class CopyRefused(Exception):
    """One line saying why the copy cannot start (nothing was written)."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]  # the target's columns, in order
    key: tuple[str, ...]  # copy order; on the source side "rowid" may be SQLite's own
    key_in_target: bool  # False: the order exists on the source only (no primary key)
    schema: str = "public"

    @property
    def label(self) -> str:
        """How people read it: qualified outside the social store's schema (plaza_index.people
        and plaza_auth.sessions are not the social store's)."""
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Verified:
    name: str
    source_rows: int
    target_rows: int
    source_md5: str
    target_md5: str

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_md5) == (self.target_rows, self.target_md5)


# -- opening ------------------------------------------------------------------------------


def open_source(path: Path) -> sqlite3.Connection:
    """overlay.db (or index.db), read-only: the copy never writes to what it copies."""
    if not path.is_file():
        raise CopyRefused(f"no SQLite social store at {path}")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- what to copy -------------------------------------------------------------------------


def check_source(
    source: sqlite3.Connection,
    expected: list[str],
    migration_set: str = "plaza.social",
    store: str = "overlay.db",
) -> None:
    """The store must stand where the target's history ends: migrated by this Plaza."""
    try:
        applied = {
            row[0]
            for row in source.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [migration_set]
            )
        }
    except sqlite3.OperationalError:
        raise CopyRefused(f"{store} is not a Plaza store (no migrations recorded)") from None
    missing = [name for name in expected if name not in applied]
    unknown = sorted(applied - set(expected))
    if unknown:
        raise CopyRefused(f"{store} was written by a newer Plaza ({', '.join(unknown)})")
    if missing:
        raise CopyRefused(
            f"{store} lacks migrations {', '.join(missing)}: start this Plaza on it once first"
        )


def left_behind(source: sqlite3.Connection, copied: set[str]) -> list[str]:
    """Source tables the target lacks, other than SQLite's full-text indexes (and their
    shadow tables) and bookkeeping: there should be none."""
    rows = source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    return [
        name
        for name, _ in rows
        if name not in copied
        and not name.startswith(("sqlite_", "_sqlite_"))
        and not any(name == v or name.startswith(v + "_") for v in virtual)
    ]


def target_tables(
    target: PgHandle, source: sqlite3.Connection, store: str = "overlay.db"
) -> list[Table]:
    """The target's tables, parents before the tables referring to them."""
    names = [
        row[0]
        for row in target.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " ORDER BY table_name"
        ).fetchall()
        if row[0] not in OWN_TABLES
    ]
    source_names = {row[0] for row in source.execute("SELECT name FROM sqlite_master")}
    missing = [name for name in names if name not in source_names]
    if missing:
        raise CopyRefused(f"{store} lacks table(s) {', '.join(missing)}")
    extra = left_behind(source, set(names))
    if extra:
        raise CopyRefused(f"PostgreSQL has no table(s) {', '.join(extra)} of {store}")
    schema = target.execute("SELECT current_schema()").fetchone()[0]
    tables = [replace(_describe(target, name), schema=schema) for name in names]
    return _parents_first(target, tables)


def _describe(target: PgHandle, name: str) -> Table:
    columns = tuple(
        row[0]
        for row in target.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?"
            " AND is_generated = 'NEVER'"  # computed there (items.search_vector): not copied
            " ORDER BY ordinal_position",
            [name],
        ).fetchall()
    )
    if "rowid" in columns:
        return Table(name, columns, ("rowid",), True)
    primary = tuple(
        row[0]
        for row in target.execute(
            "SELECT a.attname FROM pg_index i"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = ?::regclass AND i.indisprimary"
            " ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [q(name)],
        ).fetchall()
    )
    return Table(name, columns, primary or ("rowid",), bool(primary))


def _parents_first(target: PgHandle, tables: list[Table]) -> list[Table]:
    references = target.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    ).fetchall()
    parents = {table.name: set() for table in tables}
    for child, parent in references:
        child, parent = child.strip('"'), parent.strip('"')
        if child != parent and child in parents:
            parents[child].add(parent)
    ordered: list[Table] = []
    by_name = {table.name: table for table in tables}
    while by_name:
        ready = [name for name in sorted(by_name) if not parents[name] & by_name.keys()]
        ready = ready or sorted(by_name)[:1]  # a cycle: no order satisfies it, go on
        for name in ready:
            ordered.append(by_name.pop(name))
    return ordered


# -- the source side ----------------------------------------------------------------------


def source_select(table: Table, after: Sequence[Any] | None) -> tuple[str, list[Any]]:
    """The source's rows after key `after`, in key order (the key columns first)."""
    keys = ", ".join(q(k) if k != "rowid" else "rowid" for k in table.key)
    columns = ", ".join("rowid" if c == "rowid" else q(c) for c in table.columns)
    where, params = "", []
    if after is not None:
        where = f" WHERE ({keys}) > ({', '.join('?' for _ in after)})"
        params = list(after)
    return f"SELECT {keys}, {columns} FROM {q(table.name)}{where} ORDER BY {keys}", params


def source_rows(source: sqlite3.Connection, table: Table) -> Iterator[tuple[Any, ...]]:
    sql, params = source_select(table, None)
    width = len(table.key)
    for row in source.execute(sql, params):
        yield row[width:]


# -- copying ------------------------------------------------------------------------------


def ensure_progress(target: PgHandle) -> None:
    target.execute(
        f"CREATE TABLE IF NOT EXISTS {PROGRESS} (table_name text PRIMARY KEY,"
        " last_key text NOT NULL, rows_copied bigint NOT NULL, done bigint NOT NULL DEFAULT 0)"
    )


def progress_of(target: PgHandle) -> dict[str, tuple[list[Any], int, bool]]:
    rows = target.execute(f"SELECT table_name, last_key, rows_copied, done FROM {PROGRESS}")
    return {name: (json.loads(key), copied, bool(done)) for name, key, copied, done in rows}


def refuse_foreign_data(target: PgHandle, tables: list[Table]) -> None:
    """Raises when a target table holds rows other than those this tool copied into it."""
    progress = progress_of(target)
    for table in tables:
        count = target.execute(f"SELECT count(*) FROM {q(table.name)}").fetchone()[0]
        copied = progress.get(table.name, (None, 0, False))[1]
        if count != copied:
            raise CopyRefused(
                f"refusing: target table {table.label} already holds {count} row(s) not copied"
                " from this store; use an empty database"
            )


def copy_table(
    source: sqlite3.Connection,
    target: PgHandle,
    table: Table,
    batch_size: int = BATCH,
    after_batch: Callable[[str, int], None] | None = None,
) -> int:
    """Copies the rows after this table's progress; returns how many were copied now."""
    entry = progress_of(target).get(table.name)
    if entry is not None and entry[2]:
        return 0
    after, copied = (entry[0], entry[1]) if entry else (None, 0)
    sql, params = source_select(table, after)
    cursor = source.execute(sql, params)
    width, now, last_key = len(table.key), 0, after or []
    # COPY writes identity columns as given (as INSERT ... OVERRIDING SYSTEM VALUE would)
    copy_in = f"COPY {q(table.name)} ({', '.join(q(c) for c in table.columns)}) FROM STDIN"
    while batch := cursor.fetchmany(batch_size):
        last_key = list(batch[-1][:width])
        copied += len(batch)
        with target.transaction():
            # user triggers off for this transaction only (the totals' dirty-day marks are
            # copied as rows of their own): ALTER TABLE is transactional in PostgreSQL
            target.execute(f"ALTER TABLE {q(table.name)} DISABLE TRIGGER USER")
            with target.raw.cursor().copy(copy_in) as copy:
                for row in batch:
                    copy.write_row(row[width:])
            target.execute(f"ALTER TABLE {q(table.name)} ENABLE TRIGGER USER")
            _record(target, table.name, last_key, copied, done=False)
        now += len(batch)
        if after_batch is not None:
            after_batch(table.label, len(batch))
    with target.transaction():
        _record(target, table.name, last_key, copied, done=True)
    return now


def _record(target: PgHandle, name: str, key: list[Any], copied: int, done: bool) -> None:
    target.execute(
        f"INSERT INTO {PROGRESS} (table_name, last_key, rows_copied, done) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (table_name) DO UPDATE SET last_key = excluded.last_key,"
        " rows_copied = excluded.rows_copied, done = excluded.done",
        [name, json.dumps(key), copied, int(done)],
    )


def advance_identities(source: sqlite3.Connection, target: PgHandle) -> None:
    """Every identity column's sequence past the highest id copied (or ever handed out by
    SQLite's AUTOINCREMENT), so rows made after the move get fresh ids."""
    handed_out = {}
    if source.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        handed_out = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    identities = target.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        highest = target.execute(f"SELECT max({q(column)}) FROM {q(table)}").fetchone()[0] or 0
        highest = max(highest, handed_out.get(table, 0) if column != "rowid" else 0)
        if highest:
            target.execute(
                "SELECT setval(pg_get_serial_sequence(?, ?), ?)", [q(table), column, highest]
            )


# -- verifying ----------------------------------------------------------------------------


def normalised(value: Any) -> str:
    """One spelling of a value on both sides: NULL apart from any text, integers in decimal,
    floats as Python's shortest round-trip repr, text as itself, bytes in hex."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | memoryview):
        return "\\x" + bytes(value).hex()
    return "t" + str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def row_digest(rows: Iterator[Sequence[Any]]) -> tuple[int, str]:
    digest, count = hashlib.md5(usedforsecurity=False), 0
    for row in rows:
        digest.update(("\t".join(normalised(v) for v in row) + "\n").encode())
        count += 1
    return count, digest.hexdigest()


def target_rows(target: PgHandle, table: Table) -> Iterator[tuple[Any, ...]]:
    # text compared bytewise, as SQLite's BINARY; no key: every column (the source too)
    by = table.key if table.key_in_target else table.columns
    order = ", ".join(f'{q(k)} COLLATE "C"' if _is_text(target, table, k) else q(k) for k in by)
    select = ", ".join(q(c) for c in table.columns)
    with target.raw.cursor(name=f"verify_{table.name}") as cursor:
        cursor.execute(f"SELECT {select} FROM {q(table.name)} ORDER BY {order}")
        yield from cursor


def _is_text(target: PgHandle, table: Table, column: str) -> bool:
    kind = target.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND column_name = ?",
        [table.name, column],
    ).fetchone()[0]
    return kind == "text"


def verify_table(source: sqlite3.Connection, target: PgHandle, table: Table) -> Verified:
    if table.key_in_target:
        source_side = source_rows(source, table)
    else:
        columns = ", ".join(q(c) for c in table.columns)
        source_side = iter(
            source.execute(f"SELECT {columns} FROM {q(table.name)} ORDER BY {columns}")
        )
    with target.transaction():  # a named (server-side) cursor lives in a transaction
        source_count, source_md5 = row_digest(source_side)
        target_count, target_md5 = row_digest(target_rows(target, table))
    return Verified(table.label, source_count, target_count, source_md5, target_md5)
