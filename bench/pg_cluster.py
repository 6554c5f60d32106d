"""A throwaway PostgreSQL cluster for the benchmarks, with production durability.

tests/postgres.py starts its clusters with fsync, synchronous_commit and full_page_writes off
(a test cluster dies with its data), and imports pytest; a benchmark beside SQLite's
synchronous=FULL must keep PostgreSQL's durability, so this one leaves every durability setting
at PostgreSQL's default (fsync=on, synchronous_commit=on, full_page_writes=on, wal_level=
replica; initdb syncs its files) and sets only what a production tuning of a small server would
(the server is plaza/local_postgres.py's, as the tests' and the demo's, with these settings):

- shared_buffers=256MB (default 128MB), effective_cache_size=2GB (planner's hint only),
- maintenance_work_mem=128MB (index builds of the million-row search tables),
- max_connections=200 (default 100: several Plaza processes with a pool of up to 20 each),
- listen_addresses='' and a unix socket in the cluster's own temporary directory (no TCP port).

    with throwaway_cluster() as cluster:
        url = cluster.new_database()  # migrated to the social store's schema
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from plaza import local_postgres

TUNING = {
    "shared_buffers": "256MB",
    "effective_cache_size": "2GB",
    "maintenance_work_mem": "128MB",
    "max_connections": "200",
}


@dataclass
class Cluster:
    server: local_postgres.LocalCluster
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str) -> str:
        return self.server.url(database)

    def new_database(self, migrated: bool = True) -> str:
        """A new database's URL, holding the social store's schema unless `migrated=False`."""
        from overlay_app.pg import conn as pg_conn
        from overlay_app.pg import schema as pg_schema

        url = self.server.create_database(f"bench{next(self._numbers)}")
        if migrated:
            handle = pg_conn.connect(url)
            try:
                pg_schema.migrate(handle)
            finally:
                handle.close()
        return url

    def settings(self) -> dict[str, str]:
        """The durability and tuning settings the server runs with, as it reports them."""
        names = ["fsync", "synchronous_commit", "full_page_writes", "wal_level", *TUNING]
        with psycopg.connect(self.url("postgres")) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


def start() -> Cluster:
    try:
        server = local_postgres.start_throwaway(settings=TUNING, sync_initdb=True)
    except local_postgres.PostgresMissing as missing:
        raise SystemExit(str(missing)) from None
    return Cluster(server)


def stop(cluster: Cluster) -> None:
    cluster.server.discard(fast=True)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    cluster = start()
    try:
        yield cluster
    finally:
        stop(cluster)


def describe(cluster: Cluster) -> str:
    """One line for a benchmark's output: the server's version and settings."""
    with psycopg.connect(cluster.url("postgres")) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    pairs = ", ".join(f"{name}={value}" for name, value in cluster.settings().items())
    return f"PostgreSQL {version.split()[0]} on a unix socket: {pairs}"


def index_into(url: str, index: Path) -> bool:
    """Where PLAZA_DATABASE_URL holds the sync index too (code with
    plaza.migrate_pg.copy_index), a synced index.db copied into that database, so that Plaza
    on PostgreSQL sees the same documents and people; False (nothing done) where the index is
    SQLite only."""
    try:
        from plaza.migrate_pg import copy_index
    except ImportError:
        return False
    copy_index(index, url)
    return True
