"""`plaza migrate-to-postgres`: an existing deployment's social store (overlay.db) and
sessions store (auth.db: sign-ins and token caches, so nobody is signed out by the move) into
PostgreSQL.

The steps live in overlay_app/pg/copy.py; this is the command around them: settings, the
order of the steps, progress and the table of results. Exit status 0 only when every table
verified equal; 1 when the copy was refused or a table differs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import click
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table as RichTable

from overlay_app.auth import pg_schema as auth_schema
from overlay_app.pg import conn as pg_conn
from overlay_app.pg import copy as pg_copy
from overlay_app.pg import schema as pg_schema
from sync.leader import LEADER_FILE, FileElection

HELP = """Copy overlay.db and auth.db (in PLAZA_DATA_DIR) into the PostgreSQL database
PLAZA_DATABASE_URL (auth.db's sessions into its schema plaza_auth).

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
    help="Where overlay.db and auth.db are (PLAZA_DATA_DIR).",
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
    """The whole move; the exit status. auth.db beside `source_path` is copied too when there
    is one (a data dir where the web app never ran has none). `after_batch(table, rows)` is
    called after each committed batch (progress; tests stop a copy there)."""
    console = console or Console()
    auth_path = source_path.with_name("auth.db")
    try:
        source = pg_copy.open_source(source_path)
        auth = pg_copy.open_source(auth_path, "sessions store") if auth_path.is_file() else None
        target = pg_conn.connect(url)
    except (pg_copy.CopyRefused, psycopg.Error, sqlite3.Error) as refused:
        _fail(str(refused).strip().splitlines()[0])
    try:
        pg_copy.check_source(source, [name for name, _ in pg_schema.MIGRATIONS])
        if auth is not None:
            names = [name for name, _ in auth_schema.MIGRATIONS]
            pg_copy.check_source(auth, names, "plaza.auth", "auth.db")
        pg_schema.migrate(target)
        pg_copy.ensure_progress(target)
        tables = pg_copy.target_tables(target, source)
        auth_tables = _auth_tables(auth, target)
        pg_copy.refuse_foreign_data(target, tables + auth_tables)
        _copy_all(source, target, tables, batch_size, console, after_batch)
        pg_copy.advance_identities(source, target)
        if auth is not None:
            _copy_all(auth, target, auth_tables, batch_size, console, after_batch)
        results = [pg_copy.verify_table(source, target, table) for table in tables]
        results += [pg_copy.verify_table(auth, target, table) for table in auth_tables]
    except pg_copy.CopyRefused as refused:
        _fail(str(refused))
    except (psycopg.Error, sqlite3.Error) as failed:  # what was committed stays: run again
        _fail(f"{type(failed).__name__}: {str(failed).strip().splitlines()[0]}")
    finally:
        source.close()
        if auth is not None:
            auth.close()
        target.close()
    console.print(_results_table(results))
    differing = [result.name for result in results if not result.matches]
    if differing:
        console.print(f"[red]differs:[/red] {', '.join(differing)}")
        return 1
    console.print(f"all {len(results)} tables verified equal")
    return 0


def _auth_tables(auth: sqlite3.Connection | None, target: pg_conn.PgHandle) -> list[pg_copy.Table]:
    """auth.db's tables in their PostgreSQL schema (made first); none without auth.db."""
    if auth is None:
        return []
    auth_schema.migrate(target)
    return pg_copy.target_tables(target, auth, auth_schema.SCHEMA, "auth.db")


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
            done = progress_rows.get(table.progress_name, (None, 0, False))[1]
            bar = bars.add_task(table.progress_name, total=total, completed=done)

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
