"""`plaza migrate-to-postgres`: an existing deployment's social store and index into
PostgreSQL (the index into the schema plaza_index of the same database).

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

import click
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table as RichTable

from overlay_app.pg import conn as pg_conn
from overlay_app.pg import copy as pg_copy
from overlay_app.pg import schema as pg_schema
from sync import db as index_db
from sync import pg_schema as pg_index
from sync.leader import LEADER_FILE, FileElection

HELP = """Copy overlay.db and index.db (in PLAZA_DATA_DIR) into the PostgreSQL database
PLAZA_DATABASE_URL (the index into its schema plaza_index).

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
    results = _copy_store(
        Store(source_path, "plaza.social", [n for n, _ in pg_schema.MIGRATIONS], *_social(url)),
        batch_size,
        console,
        after_batch,
    )
    index_path = source_path.parent / "index.db"
    if index_path.is_file():  # a deployment that never synced has none
        results += copy_index(index_path, url, batch_size, console, after_batch)
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
    return _copy_store(store, batch_size, console or Console(quiet=True), after_batch)


@dataclass(frozen=True)
class Store:
    """One SQLite store to copy: its file, migration set and history, how to connect to its
    target (the social store's schema, or the index's plaza_index) and to migrate it."""

    path: Path
    migration_set: str
    history: list[str]
    connect: Callable[[], pg_conn.PgHandle]
    migrate: Callable[[pg_conn.PgHandle], object]


def _social(url: str) -> tuple[Callable[[], pg_conn.PgHandle], Callable]:
    return (lambda: pg_conn.connect(url)), pg_schema.migrate


def _index(url: str) -> tuple[Callable[[], pg_conn.PgHandle], Callable]:
    return (lambda: index_db.connect_pg(url)), index_db.migrate_pg


def _copy_store(
    store: Store,
    batch_size: int,
    console: Console,
    after_batch: Callable[[str, int], None] | None,
) -> list[pg_copy.Verified]:
    """Copies and verifies one store; exits with one line when refused or failed."""
    name = store.path.name
    try:
        source = pg_copy.open_source(store.path)
    except pg_copy.CopyRefused as refused:
        _fail(str(refused))
    try:
        target = store.connect()
    except psycopg.Error as refused:
        source.close()
        _fail(str(refused).strip().splitlines()[0])
    try:
        pg_copy.check_source(source, store.history, store.migration_set, name)
        store.migrate(target)
        pg_copy.ensure_progress(target)
        tables = pg_copy.target_tables(target, source, name)
        pg_copy.refuse_foreign_data(target, tables)
        _copy_all(source, target, tables, batch_size, console, after_batch)
        pg_copy.advance_identities(source, target)
        results = [pg_copy.verify_table(source, target, table) for table in tables]
    except (pg_copy.CopyRefused, index_db.IndexTooNew) as refused:
        _fail(str(refused))
    except (psycopg.Error, sqlite3.Error) as failed:  # what was committed stays: run again
        _fail(f"{type(failed).__name__}: {str(failed).strip().splitlines()[0]}")
    finally:
        source.close()
        target.close()
    return results


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
            bar = bars.add_task(table.name, total=total, completed=done)

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


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
