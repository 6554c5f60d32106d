"""A throwaway PostgreSQL cluster for the tests: one per pytest process (xdist worker).

`postgres_cluster` (session) starts one with plaza/local_postgres.py (initdb, pg_ctl; a unix
socket only: no TCP port, no root service) in a temporary directory, with durability off
(fsync, synchronous_commit: a test cluster dies with its data anyway); it is stopped at the
end of the session. `postgres_cluster.new_database()` makes a database holding the social
store's schema (a copy of one migrated once; `migrated=False`: empty) and returns its
`postgresql://` URL. Skips, saying why, when PostgreSQL's server is not installed.

`PLAZA_TEST_BACKEND=postgres` makes the web app's fixtures (tests/overlay_app/conftest.py) keep
the social store in such a database instead of overlay.db, and sync's (tests/sync/conftest.py)
the index (`backend_is_postgres()`).
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from plaza import local_postgres

SUPERUSER = local_postgres.SUPERUSER
TEMPLATE = "plaza_migrated"  # both stores' schemas, copied into each new database
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=200 -c shared_buffers=32MB"
)


def backend_is_postgres() -> bool:
    return os.environ.get("PLAZA_TEST_BACKEND", "sqlite").lower() in ("postgres", "postgresql")


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """For a test of something only SQLite has (its query plans, its files): skipped when the
    suite runs on PostgreSQL."""
    return pytest.mark.skipif(backend_is_postgres(), reason=f"SQLite only: {reason}")


@dataclass
class PgCluster:
    """A running throwaway cluster and a database counter."""

    server: local_postgres.LocalCluster
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _template_ready: bool = False
    _by_key: dict[str, str] = field(default_factory=dict)

    @property
    def socket_dir(self) -> Path:
        return self.server.socket_dir

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def new_database(self, migrated: bool = True) -> str:
        """A new database's URL (its name unique in this cluster): a copy of one migrated
        once per cluster (migrating costs more than copying), or empty."""
        import psycopg

        if migrated and not self._template_ready:
            self._make_template()
        name = f"t{os.getpid()}_{next(self._numbers)}"
        template = TEMPLATE if migrated else "template1"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {template}')
        return self.url(name)

    def copy_for(self, source_key: str, key: str) -> str:
        """A copy of `source_key`'s database (CREATE DATABASE ... TEMPLATE: nobody may be
        connected to it) as the one for `key`; its URL."""
        import psycopg

        source = urlsplit(self.database_for(source_key)).path.lstrip("/")
        name = f"t{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        self._by_key[key] = self.url(name)
        return self._by_key[key]

    def database_for(self, key: str) -> str:
        """The URL of a database of its own for `key` (made on first asking, the same after)."""
        if key not in self._by_key:
            self._by_key[key] = self.new_database()
        return self._by_key[key]

    def _make_template(self) -> None:
        import psycopg

        from overlay_app.pg import conn as pg_conn
        from overlay_app.pg import schema as pg_schema
        from sync.db import open_index

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        handle = pg_conn.connect(self.url(TEMPLATE))
        try:
            pg_schema.migrate(handle)
        finally:
            handle.close()
        open_index(self.url(TEMPLATE)).close()
        self._template_ready = True


def start_cluster() -> PgCluster:
    return PgCluster(local_postgres.start_throwaway(options=SERVER_OPTIONS))


def stop_cluster(cluster: PgCluster) -> None:
    """Stops the session's cluster and removes it in the background: a run leaves hundreds of
    databases (gigabytes of small files), whose removal took the last test's teardown 20 s."""
    cluster.server.stop(fast=False)
    directory = shlex.quote(str(cluster.server.data_dir.parent))
    subprocess.run(["sh", "-c", f"rm -rf -- {directory} >/dev/null 2>&1 &"], check=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PgCluster]:
    try:
        local_postgres.server_bin_dir()
    except local_postgres.PostgresMissing as missing:
        pytest.skip(str(missing))
    global _running
    cluster = _running = start_cluster()
    yield cluster
    _running = None
    stop_cluster(cluster)


_running: PgCluster | None = None


def index_at(path: Path) -> Path | str:
    """Where a test's index at `path` is: that file, or with PLAZA_TEST_BACKEND=postgres a
    database of its own in the session's cluster (the same one for the same path), so a test
    naming index.db paths runs on either engine. Needs `postgres_cluster` started (sync's
    conftest starts it for every test when the backend is PostgreSQL)."""
    if not backend_is_postgres():
        return path
    assert _running is not None, "postgres_cluster is not running"
    return _running.database_for(str(path))


def index_env(path: Path) -> dict[str, str]:
    """PLAZA_DATABASE_URL naming index_at(path) when that is a database ({} on SQLite): for
    the environment of a process that must find the index there."""
    location = index_at(path)
    return {"PLAZA_DATABASE_URL": location} if isinstance(location, str) else {}


def copy_index(source: Path, target: Path) -> None:
    """The index at `source` (an index.db path) copied whole to `target`'s: SQLite's backup
    API, or on PostgreSQL a copy of the database index_at(source) names."""
    import sqlite3

    if backend_is_postgres():
        assert _running is not None, "postgres_cluster is not running"
        _running.copy_for(str(source), str(target))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        reading.close()
        writing.close()


def database_with_index(cluster: PgCluster, synced: Path, key: str) -> str:
    """A database for web nodes to share: the social store's schema and a copy of the synced
    index at `synced` (an index.db path: on PostgreSQL, the database index_at names)."""
    if backend_is_postgres():  # the synced index is a database already: a copy of it
        return cluster.copy_for(str(synced), key)
    from plaza.migrate_pg import copy_index

    url = cluster.new_database()
    assert all(table.matches for table in copy_index(synced, url))
    return url


@pytest.fixture
def postgres_url(postgres_cluster: PgCluster) -> str:
    """A fresh, empty database for this test."""
    return postgres_cluster.new_database(migrated=False)
