"""Where the demo keeps Plaza's data: SQLite files in the data directory (the default),
the PostgreSQL named by PLAZA_DATABASE_URL, or (`--postgres`) a PostgreSQL server of the demo's
own in `{data_dir}/postgres`, started with the demo and stopped with it.

As root the server runs as the `postgres` user, who usually cannot enter root's directories
(a home, pytest's temporary ones): its cluster then lives in the system's temporary directory,
one per data directory (named by a digest of its path), kept between runs all the same."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from plaza import local_postgres

DATABASE = "plaza"


def cluster_dir(data_dir: Path) -> Path:
    if os.geteuid() != 0:
        return data_dir / "postgres"
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"plaza-demo-pg-{digest}"


@contextmanager
def demo_database(data_dir: Path, own_server: bool) -> Iterator[None]:
    """Sets PLAZA_DATABASE_URL for the demo's processes while the block runs, when asked."""
    if not own_server:
        yield
        return
    if os.environ.get("PLAZA_DATABASE_URL"):
        raise click.ClickException(
            "--postgres starts the demo's own PostgreSQL: unset PLAZA_DATABASE_URL, "
            "or drop --postgres to use the database it names"
        )
    try:
        cluster = local_postgres.start(cluster_dir(data_dir))
    except (local_postgres.PostgresMissing, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    try:
        os.environ["PLAZA_DATABASE_URL"] = cluster.create_database(DATABASE)
        click.echo(f"PostgreSQL running for the demo, data in {cluster.data_dir}")
        yield
    finally:
        os.environ.pop("PLAZA_DATABASE_URL", None)
        cluster.stop()
