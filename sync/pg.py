"""A PostgreSQL connection shaped like the SQLite one Plaza's stores use (both the social store,
overlay_app/pg, and the sync index, sync/pg_schema.py: one adapter, engine-neutral, here in
sync so that both layers reach it).

`PgHandle` answers what the stores call on a SQLite connection or sqlite_utils.Database:
`execute(sql, params)` and `executemany` (returning psycopg cursors: fetchone, fetchall,
iteration, description, rowcount), `.conn` (itself), `in_transaction`, `close()`. Store SQL
is written once, in the subset both engines understand; only its placeholders are
translated here (`?` and `:name` to psycopg's `%s` and `%(name)s`, a literal `%` doubled),
skipping quoted text.

Connections run in autocommit mode, as SQLite's do (isolation_level=None): a read is its own
statement, a write is `transaction()` (`pipelined=True`: its statements sent without waiting
for each answer, see there). Write transactions are serialised by one advisory lock,
as SQLite's BEGIN IMMEDIATE serialises them, so every check-then-write keeps the meaning it has
on SQLite (a finer scheme can come once measured). Each store has its own lock key (the
social store's WRITER_LOCK, the index's sync/pg_schema.INDEX_WRITER_LOCK), so a job writing
both never waits on itself; a handle may also carry a `search_path` (the index's schema).
JSON columns (`json`) and every other value come back as SQLite gives them: JSON as its
text, not parsed.

Connections come from a psycopg_pool per database URL, search_path and process (never
shared across fork).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.types.numeric import NumericLoader
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

DIALECT = "postgresql"
WRITER_LOCK = 7_301_017  # pg_advisory_xact_lock key: one social-store writer at a time
POOL_MAX = 20


class PgHandle:
    """One pooled PostgreSQL connection lent to one request (or job) at a time."""

    dialect = DIALECT

    def __init__(
        self,
        raw: psycopg.Connection,
        pool: ConnectionPool | None = None,
        writer_lock: int = WRITER_LOCK,
        rewrite: Callable[[str], str] | None = None,
    ) -> None:
        self.raw = raw
        self._pool = pool
        self.writer_lock = writer_lock
        self._rewrite = rewrite  # a store's SQLite-only spellings -> PostgreSQL's (sync/dialect)
        self.url = ""  # what it was opened with: more connections like it (sync's workers)
        self._trace: Callable[[str], object] | None = None
        self._pipelined = False  # inside transaction(pipelined=True)

    def set_trace_callback(self, trace: Callable[[str], object] | None) -> None:
        """As sqlite3's: `trace(sql)` is called with each statement run from now on (BEGIN and
        COMMIT of `transaction()` included, as SQLite's trace shows them)."""
        self._trace = trace

    @property
    def conn(self) -> PgHandle:  # sqlite_utils.Database.conn's place
        return self

    @property
    def in_transaction(self) -> bool:
        # In pipeline mode libpq says IDLE between a fetch and the next Sync, BEGIN or not.
        status = self.raw.info.transaction_status
        return self._pipelined or status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None):
        if self._trace is not None:
            self._trace(sql)
        if self._rewrite is not None:
            sql = self._rewrite(sql)
        if not params:  # no placeholders: psycopg reads the text as it is
            return self.raw.execute(sql)
        return self.raw.execute(to_psycopg(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any] | Mapping[str, Any]]):
        if self._trace is not None:
            self._trace(sql)
        if self._rewrite is not None:
            sql = self._rewrite(sql)
        cursor = self.raw.cursor()
        cursor.executemany(to_psycopg(sql), list(rows))
        return cursor

    @contextmanager
    def transaction(self, pipelined: bool = False) -> Iterator[PgHandle]:
        """One write transaction, writers one at a time (as BEGIN IMMEDIATE on SQLite).

        `pipelined`: in psycopg's pipeline mode, statements are sent without waiting for their
        answers; the client waits only where it reads one (a fetch) and at COMMIT. The writes
        after the last read then cost one round trip together, which matters most here: every
        writer of the store waits while the lock's holder waits for the server. A cursor's
        rowcount is not known before that wait, so only a write that reads none may ask for
        it. A failed statement fails the rest: the error is raised and everything rolled back."""
        if pipelined:
            with self._pipelined_transaction():
                yield self
            return
        # BEGIN and the lock in one round trip (simple protocol, no parameters): a write
        # waits for the server once before its first statement, not twice.
        try:
            self._raw_execute(f"BEGIN; SELECT pg_advisory_xact_lock({int(self.writer_lock)})")
            yield self
        except BaseException:
            if self.in_transaction:
                self._raw_execute("ROLLBACK")
            raise
        self._raw_execute("COMMIT")

    @contextmanager
    def _pipelined_transaction(self) -> Iterator[None]:
        # Two statements (pipeline mode takes one per message), sent with the first read.
        try:
            self._pipelined = True
            with self.raw.pipeline():
                self._raw_execute("BEGIN")
                self._raw_execute(f"SELECT pg_advisory_xact_lock({int(self.writer_lock)})")
                yield
                self._raw_execute("COMMIT")
        except BaseException:
            self._pipelined = False  # out of pipeline mode: the server's status is known
            if self.in_transaction:
                self._raw_execute("ROLLBACK")
            raise
        finally:
            self._pipelined = False

    def _raw_execute(self, sql: str) -> None:
        """A statement of our own (no placeholders, no rewrite), traced like the stores'."""
        if self._trace is not None:
            self._trace(sql)
        self.raw.execute(sql)

    def close(self) -> None:
        if self._pool is None:
            self.raw.close()
            return
        self._pool.putconn(self.raw)
        self._pool = None


# -- connecting ----------------------------------------------------------------------------

_pools: dict[tuple[str, str, int], ConnectionPool] = {}
_pools_lock = threading.Lock()


class _BoolAsInteger(Dumper):
    """True and False written as 1 and 0, as Python's sqlite3 writes them."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsSqlite(NumericLoader):
    """numeric (what sum() of integers and avg() give) as SQLite answers: an integer when
    whole, else a float; never a Decimal."""

    def load(self, data: Any) -> int | float:
        value = super().load(data)
        whole = isinstance(value.as_tuple().exponent, int) and value.as_tuple().exponent >= 0
        return int(value) if whole else float(value)


def configure(raw: psycopg.Connection) -> None:
    """SQLite's view of values: JSON as text, booleans as integers, sums as numbers."""
    for name in ("json", "jsonb"):
        raw.adapters.register_loader(name, TextLoader)
    raw.adapters.register_loader("numeric", _NumericAsSqlite)
    raw.adapters.register_dumper(bool, _BoolAsInteger)


@dataclass(frozen=True)
class Options:
    """What a store opens its handles with, beyond the URL (the same for `connect` and `lend`):
    the search_path of every session, the advisory lock its write transactions take, and its
    SQLite-only spellings' rewrite (sync/dialect)."""

    search_path: str = ""
    writer_lock: int = WRITER_LOCK
    rewrite: Callable[[str], str] | None = None

    def session(self) -> dict[str, str]:
        """Connection keywords giving every session of the connection `search_path`."""
        names = self.search_path.replace(" ", "")  # libpq's options split at spaces
        return {"options": f"-c search_path={names}"} if names else {}


SOCIAL = Options()  # the social store's: the database's default search_path, WRITER_LOCK


def connect(url: str, options: Options = SOCIAL) -> PgHandle:
    """A connection of its own (not pooled): migrations, command-line jobs, LISTEN."""
    raw = psycopg.connect(url, autocommit=True, **options.session())
    configure(raw)
    handle = PgHandle(raw, None, options.writer_lock, options.rewrite)
    handle.url = url
    return handle


def lend(url: str, options: Options = SOCIAL) -> PgHandle:
    """A connection from this process's pool for `url` (and `options.search_path`); `close()`
    gives it back."""
    key = (url, options.search_path, os.getpid())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ConnectionPool(
                url,
                min_size=1,
                max_size=POOL_MAX,
                kwargs={"autocommit": True, **options.session()},
                configure=configure,
                open=True,
            )
    handle = PgHandle(pool.getconn(), pool, options.writer_lock, options.rewrite)
    handle.url = url
    return handle


def close_pool(url: str) -> None:
    """Closes this process's pools for `url`, whatever their search_path (an app shutting
    down; tests)."""
    with _pools_lock:
        keys = [key for key in _pools if key[0] == url and key[2] == os.getpid()]
        pools = [_pools.pop(key) for key in keys]
    for pool in pools:
        pool.close()


# -- placeholders ----------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> str:
    """`?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`, outside quoted text and `::` casts."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            end = n if end < 0 else end + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)
