"""`plaza migrate-to-postgres`: an existing deployment's social store, index and sessions into
PostgreSQL: one database, the index in its schema plaza_index and the sessions (sign-ins and
token caches, so nobody is signed out by the move) in plaza_auth.

The steps live in overlay_app/pg/copy.py; this is the command around them: settings, the
order of the steps, progress and the table of results. Exit status 0 only when every table
verified equal; 1 when the copy was refused or a table differs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table as RichTable

from overlay_app.auth import pg_schema as auth_schema
from overlay_app.pg import conn as pg_conn
from overlay_app.pg import copy as pg_copy
from overlay_app.pg import schema as pg_schema
from sync import db as index_db
from sync import pg_schema as pg_index
from sync.leader import LEADER_FILE, FileElection

HELP = """Copy overlay.db, index.db and auth.db (in PLAZA_DATA_DIR) into the PostgreSQL database
PLAZA_DATABASE_URL (the index into its schema plaza_index, the sessions into plaza_auth).

Stop the web app, `plaza realtime` and `plaza scheduler` first and keep them stopped until
this command ends: rows written to overlay.db during the copy would be left behind. The
SQLite files are only read. The target is migrated first, then every table is copied in
batches; a copy that stops (killed, connection lost) resumes where it stopped when run
again. Every table is then verified (row counts and an md5 of the rows on both sides).
Exit 0 only when all match; then set PLAZA_DATABASE_URL and start Plaza again."""


@click.command("migrate-to-postgres", help=HELP)
@click.option(
    "--data-dir",
    envvar="PLAZA_DATA_DIR",
    default="plaza-data",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Where overlay.db is (PLAZA_DATA_DIR).",
)
@click.option(
    "--to",
    "url",
    envvar="PLAZA_DATABASE_URL",
    default="",
    help="postgresql://... (default: PLAZA_DATABASE_URL).",
)
@click.option("--batch-size", default=pg_copy.BATCH, show_default=True, type=click.IntRange(1))
def migrate_to_postgres_command(data_dir: Path, url: str, batch_size: int) -> None:
    if not url.startswith(("postgresql://", "postgres://")):
        _fail("no PostgreSQL target: set PLAZA_DATABASE_URL or pass --to postgresql://...")
    _refuse_while_scheduling(data_dir)
    code = run(data_dir / "overlay.db", url, batch_size, Console())
    sys.exit(code)


def _refuse_while_scheduling(data_dir: Path) -> None:
    """The scheduler's lock file shows it running (the web app keeps no such lock: stopping
    it is the operator's part, as the help says)."""
    leader = FileElection(data_dir / LEADER_FILE).leader()
    if leader is not None:
        _fail(
            f"refusing: plaza scheduler (process {leader.pid} on {leader.host}) is running on"
            f" {data_dir}; stop it and the web app first"
        )


def run(
    source_path: Path,
    url: str,
    batch_size: int = pg_copy.BATCH,
    console: Console | None = None,
    after_batch: Callable[[str, int], None] | None = None,
) -> int:
    """The whole move; the exit status. `after_batch(table, rows)` is called after each
    committed batch (progress; tests stop a copy there)."""
    console = console or Console()
    stores = _stores_in(source_path.parent, source_path, url)
    for store in stores:  # every source checked before anything is written, even a schema
        _check_source(store)
    prepared: list[Prepared] = []
    try:
        for store in stores:  # and every target refused or migrated before a row is copied
            prepared.append(_prepare(store))
        results = [
            verified for p in prepared for verified in _copy(p, batch_size, console, after_batch)
        ]
    finally:
        for p in prepared:
            p.close()
    console.print(_results_table(results))
    differing = [result.name for result in results if not result.matches]
    if differing:
        console.print(f"[red]differs:[/red] {', '.join(differing)}")
        return 1
    console.print(f"all {len(results)} tables verified equal")
    return 0


def copy_index(
    index_path: Path,
    url: str,
    batch_size: int = pg_copy.BATCH,
    console: Console | None = None,
    after_batch: Callable[[str, int], None] | None = None,
) -> list[pg_copy.Verified]:
    """index.db into `url`'s schema plaza_index, resumable; each table's verification."""
    store = Store(index_path, "plaza.index", [n for n, _ in pg_index.MIGRATIONS], *_index(url))
    prepared = _prepare(store)
    try:
        return _copy(prepared, batch_size, console or Console(quiet=True), after_batch)
    finally:
        prepared.close()


@dataclass(frozen=True)
class Store:
    """One SQLite store to copy: its file, migration set and history, how to connect to its
    target (the social store's schema, or the index's plaza_index) and to migrate it."""

    path: Path
    migration_set: str
    history: list[str]
    connect: Callable[[], pg_conn.PgHandle]
    migrate: Callable[[pg_conn.PgHandle], object]


def _stores_in(data_dir: Path, social_path: Path, url: str) -> list[Store]:
    """The social store, then the sessions and the index where they exist (a data dir where
    the web app never ran has no auth.db; one that never synced has no index.db)."""
    stores = [
        Store(social_path, "plaza.social", [n for n, _ in pg_schema.MIGRATIONS], *_social(url))
    ]
    auth_path = data_dir / "auth.db"
    if auth_path.is_file():
        history = [n for n, _ in auth_schema.MIGRATIONS]
        stores.append(Store(auth_path, "plaza.auth", history, *_auth(url)))
    index_path = data_dir / "index.db"
    if index_path.is_file():
        history = [n for n, _ in pg_index.MIGRATIONS]
        stores.append(Store(index_path, "plaza.index", history, *_index(url)))
    return stores


def _check_source(store: Store) -> None:
    """Exits with one line when this Plaza cannot copy `store` (missing, not migrated, newer)."""
    _open_checked(store).close()


def _open_checked(store: Store) -> sqlite3.Connection:
    """`store`'s file, read-only, found copyable; exits with one line when it is not."""
    try:
        source = pg_copy.open_source(store.path)
    except pg_copy.CopyRefused as refused:
        _fail(str(refused))
    try:
        pg_copy.check_source(source, store.history, store.migration_set, store.path.name)
    except pg_copy.CopyRefused as refused:
        source.close()
        _fail(str(refused))
    return source


def _auth(url: str) -> tuple[Callable[[], pg_conn.PgHandle], Callable]:
    return (
        lambda: pg_conn.connect(url, pg_conn.Options(search_path=auth_schema.SCHEMA))
    ), auth_schema.migrate


def _social(url: str) -> tuple[Callable[[], pg_conn.PgHandle], Callable]:
    return (lambda: pg_conn.connect(url)), pg_schema.migrate


def _index(url: str) -> tuple[Callable[[], pg_conn.PgHandle], Callable]:
    return (lambda: index_db.connect_pg(url)), index_db.migrate_pg


@dataclass
class Prepared:
    """A store checked, its target migrated and found free of rows it did not copy."""

    source: sqlite3.Connection
    target: pg_conn.PgHandle
    tables: list[pg_copy.Table]

    def close(self) -> None:
        self.source.close()
        self.target.close()


def _prepare(store: Store) -> Prepared:
    """Opens, checks and migrates; exits with one line when `store` cannot be copied."""
    source = _open_checked(store)
    try:
        target = store.connect()
    except psycopg.Error as refused:
        source.close()
        _fail(str(refused).strip().splitlines()[0])
    try:
        store.migrate(target)
        pg_copy.ensure_progress(target)
        tables = pg_copy.target_tables(target, source, store.path.name)
        pg_copy.refuse_foreign_data(target, tables)
    except BaseException as error:
        source.close()
        target.close()
        _explain(error)
    return Prepared(source, target, tables)


def _copy(
    prepared: Prepared,
    batch_size: int,
    console: Console,
    after_batch: Callable[[str, int], None] | None,
) -> list[pg_copy.Verified]:
    """Copies and verifies one prepared store; exits with one line when it fails."""
    source, target, tables = prepared.source, prepared.target, prepared.tables
    try:
        _copy_all(source, target, tables, batch_size, console, after_batch)
        pg_copy.advance_identities(source, target)
        return [pg_copy.verify_table(source, target, table) for table in tables]
    except BaseException as error:
        _explain(error)


def _explain(error: BaseException) -> NoReturn:
    """One line for what refused or failed the copy (what was committed stays: run again)."""
    if isinstance(error, pg_copy.CopyRefused | index_db.IndexTooNew):
        _fail(str(error))
    if isinstance(error, psycopg.Error | sqlite3.Error):
        _fail(f"{type(error).__name__}: {str(error).strip().splitlines()[0]}")
    raise error


def _copy_all(
    source: sqlite3.Connection,
    target: pg_conn.PgHandle,
    tables: list[pg_copy.Table],
    batch_size: int,
    console: Console,
    after_batch: Callable[[str, int], None] | None,
) -> None:
    """Each table in turn, under one progress bar per table (rows left to copy)."""
    progress_rows = pg_copy.progress_of(target)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bars:
        for table in tables:
            total = source.execute(f"SELECT count(*) FROM {pg_copy.q(table.name)}").fetchone()[0]
            done = progress_rows.get(table.name, (None, 0, False))[1]
            bar = bars.add_task(table.label, total=total, completed=done)

            def advanced(name: str, rows: int, bar=bar) -> None:
                bars.advance(bar, rows)
                if after_batch is not None:
                    after_batch(name, rows)

            pg_copy.copy_table(source, target, table, batch_size, advanced)


def _results_table(results: list[pg_copy.Verified]) -> RichTable:
    shown = RichTable("table", "SQLite rows", "PostgreSQL rows", "md5", "result")
    for result in results:
        shown.add_row(
            result.name,
            str(result.source_rows),
            str(result.target_rows),
            result.source_md5[:12],
            "ok" if result.matches else "DIFFERS",
        )
    return shown


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
