"""`plaza sync visible` and `plaza sync explain`: the access queries, for an admin's eyes.

Both read the index at PLAZA_DATA_DIR through a read-only connection (they never migrate or
write it) and are registered onto the `sync` group by `register`. Unknown people or items, a
missing index or one from a newer Plaza are one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlite_utils

from sync import access, pg_schema, visibility
from sync.db import IndexTooNew, Location, connect, is_url
from sync.pg import PgHandle
from sync.schema import MIGRATIONS
from sync.settings import SyncSettings
from sync.trimming import find_person


class AccessCommandError(Exception):
    """What the admin asked for cannot be answered; the message says why, in one line."""


def register(group: click.Group) -> None:
    """Add `visible` and `explain` to the `sync` group."""
    group.add_command(visible_command)
    group.add_command(explain_command)


@click.command("visible")
@click.option("--user", required=True, metavar="OID|UPN", help="The person, by id or UPN.")
def visible_command(user: str) -> None:
    """Prints DRIVE_ID/ITEM_ID of every item USER may see in the index, one per line, sorted."""
    with _answering() as db:
        require_person(db, user)
        for drive_id, item_id in access.visible_item_keys(db, user):
            sys.stdout.write(f"{drive_id}/{item_id}\n")


@click.command("explain")
@click.option("--user", required=True, metavar="OID|UPN", help="The person, by id or UPN.")
@click.option(
    "--item",
    "item_key",
    required=True,
    metavar="DRIVE_ID/ITEM_ID",
    help="The item, as `plaza sync visible` prints it.",
)
def explain_command(user: str, item_key: str) -> None:
    """Says whether USER may see an item and why: which principal, inherited from where."""
    drive_id, _, item_id = item_key.rpartition("/")
    with _answering() as db:
        if not drive_id or not item_id:
            raise AccessCommandError(
                "--item takes DRIVE_ID/ITEM_ID, as `plaza sync visible` prints them; "
                f"got {item_key!r}"
            )
        require_person(db, user)
        if not visibility.item_known(db, drive_id, item_id):
            raise AccessCommandError(f"no item {drive_id}/{item_id} in the index")
        for reason in access.explain(db, user, drive_id, item_id).reasons:
            click.echo(reason)


def require_person(db: sqlite_utils.Database, person: str) -> None:
    if find_person(db, person) is None:
        raise AccessCommandError(f"no person '{person}' in the index (has the people job run?)")


@contextmanager
def _answering() -> Iterator[sqlite_utils.Database]:
    """The index, read-only; expected failures become one line and exit status 1."""
    try:
        db = open_readonly(SyncSettings.from_env().index_location)
        try:
            yield db
        finally:
            db.close()
    except (AccessCommandError, IndexTooNew) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


def open_readonly(path: Location) -> sqlite_utils.Database:
    """A read-only connection to the index at `path`, refusing a missing or newer one."""
    if is_url(path):
        return _open_postgresql(str(path))
    path = Path(path)
    if not path.is_file():
        raise AccessCommandError(f"no index at {path}: run `plaza sync run` first")
    db = connect(path, readonly=True)
    if not db["_sqlite_migrations"].exists():
        db.close()
        raise AccessCommandError(f"no index at {path}: run `plaza sync run` first")
    known = {m.name for m in MIGRATIONS._migrations}
    unknown = {m.name for m in MIGRATIONS.applied(db)} - known
    if unknown:
        db.close()
        raise IndexTooNew(
            f"{path} was written by a newer Plaza (migrations {', '.join(sorted(unknown))}): "
            "upgrade Plaza or point PLAZA_DATA_DIR at another directory"
        )
    return db


def _open_postgresql(url: str) -> PgHandle:
    db = connect(url)
    applied = set(pg_schema.applied(db))
    unknown = applied - {name for name, _ in pg_schema.MIGRATIONS}
    if not applied or unknown:
        db.close()
    if not applied:
        raise AccessCommandError("no index in PLAZA_DATABASE_URL: run `plaza sync run` first")
    if unknown:
        raise IndexTooNew(
            "the index in PLAZA_DATABASE_URL was written by a newer Plaza (migrations"
            f" {', '.join(sorted(unknown))}): upgrade Plaza"
        )
    return db
