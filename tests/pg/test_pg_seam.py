"""The social store's PostgreSQL seam (overlay_app/pg): placeholders, one migration history
for both engines, values read back as SQLite gives them, writers one at a time (pipelined or
not), and idempotency keys unique in the database."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from overlay_app import schema as sqlite_schema
from overlay_app.pg import conn as pg_conn
from overlay_app.pg import schema as pg_schema
from overlay_app.pg.conn import to_psycopg


@pytest.fixture
def handle(postgres_url: str) -> Iterator[pg_conn.PgHandle]:
    made = pg_conn.connect(postgres_url)
    pg_schema.migrate(made)
    yield made
    made.close()


def test_placeholders_become_psycopg_ones_outside_quoted_text_and_casts() -> None:
    assert to_psycopg("SELECT a FROM t WHERE b = ? AND c = ?") == (
        "SELECT a FROM t WHERE b = %s AND c = %s"
    )
    assert to_psycopg("WHERE d = :drive_id AND x::text = :item_2") == (
        "WHERE d = %(drive_id)s AND x::text = %(item_2)s"
    )
    assert to_psycopg("WHERE a LIKE 'x%?:y' AND b = ? AND c LIKE '%' || ?") == (
        "WHERE a LIKE 'x%%?:y' AND b = %s AND c LIKE '%%' || %s"
    )
    assert to_psycopg('SELECT "a?b" FROM t') == 'SELECT "a?b" FROM t'


def test_the_postgresql_schema_has_the_sqlite_history_in_the_same_order() -> None:
    sqlite_names = [m.name for m in sqlite_schema.MIGRATIONS._migrations]
    assert [name for name, _ in pg_schema.MIGRATIONS] == sqlite_names


def test_migrating_twice_applies_nothing_the_second_time(postgres_url: str) -> None:
    first, second = pg_conn.connect(postgres_url), pg_conn.connect(postgres_url)
    try:
        assert pg_schema.migrate(first) == [name for name, _ in pg_schema.MIGRATIONS]
        assert pg_schema.migrate(second) == []
        applied = second.execute("SELECT name FROM plaza_migrations ORDER BY name").fetchall()
        assert [row[0] for row in applied] == sorted(name for name, _ in pg_schema.MIGRATIONS)
    finally:
        first.close()
        second.close()


def test_values_read_back_as_sqlite_gives_them(handle: pg_conn.PgHandle) -> None:
    answer = '{"id":"c1","body":"Hi"}'
    with handle.transaction():
        handle.execute(
            "INSERT INTO idempotency (person_id, key, request_hash, status, response, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            ["p1", "k1", "h", 201, answer, "2026-01-01T00:00:00.000Z"],
        )
        handle.execute(
            "INSERT INTO feature_switches (name, enabled, changed_by, changed_at)"
            " VALUES (?, ?, ?, ?)",
            ["chat", True, "admin", "2026-01-01T00:00:00.000Z"],
        )
    row = handle.execute(
        "SELECT response, response ->> 'id', status FROM idempotency WHERE key = :key",
        {"key": "k1"},
    ).fetchone()
    assert row == (answer, "c1", 201)  # the JSON text exactly as written
    assert handle.execute("SELECT enabled FROM feature_switches").fetchone() == (1,)
    keys = json.dumps([["p1", "k1"], ["p2", "k2"]])
    found = handle.execute(
        "SELECT key FROM idempotency WHERE (person_id, key) IN"
        " (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
        [keys],
    ).fetchall()
    assert found == [("k1",)]


def test_an_idempotency_key_is_unique_in_the_database(handle: pg_conn.PgHandle) -> None:
    insert = (
        "INSERT INTO idempotency (person_id, key, request_hash, status, response, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )
    row = ["p1", "k1", "h", 201, "{}", "2026-01-01T00:00:00.000Z"]
    handle.execute(insert, row)
    with pytest.raises(psycopg.errors.UniqueViolation):
        handle.execute(insert, row)
    assert not handle.in_transaction


@pytest.mark.parametrize("pipelined", [False, True])
def test_write_transactions_run_one_at_a_time(postgres_url: str, pipelined: bool) -> None:
    """Pipelined, the lock goes out with the first read (here the first writer's)."""
    first, second = pg_conn.connect(postgres_url), pg_conn.connect(postgres_url)
    order: list[str] = []
    try:
        with first.transaction(pipelined):
            assert first.execute("SELECT 1").fetchone() == (1,)
            waiting = threading.Thread(target=lambda: _write(second, order, pipelined))
            waiting.start()
            time.sleep(0.3)  # the second writer is waiting for the first's lock by now
            order.append("first commits")
        waiting.join(timeout=10)
        assert order == ["first commits", "second writes"]
    finally:
        first.close()
        second.close()


def _write(handle: pg_conn.PgHandle, order: list[str], pipelined: bool) -> None:
    with handle.transaction(pipelined):
        handle.execute("SELECT 1").fetchone()
        order.append("second writes")


FOLLOW = "INSERT INTO follows (person_id, kind, target, created_at) VALUES (?, ?, ?, ?)"


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_failed_transaction_is_rolled_back(handle: pg_conn.PgHandle, pipelined: bool) -> None:
    with pytest.raises(ValueError), handle.transaction(pipelined):
        handle.execute(FOLLOW, ["p", "tag", "x", "t"])
        raise ValueError("no")
    assert handle.execute("SELECT count(*) FROM follows").fetchone() == (0,)
    assert not handle.in_transaction


def test_a_failing_statement_rolls_a_pipelined_transaction_back(
    handle: pg_conn.PgHandle,
) -> None:
    """Nothing waits for the inserts' answers: the duplicate's error comes at COMMIT, which
    the server skipped, and the first insert is undone with it."""
    with pytest.raises(psycopg.errors.UniqueViolation), handle.transaction(pipelined=True):
        handle.execute(FOLLOW, ["p", "tag", "x", "t"])
        handle.execute(FOLLOW, ["p", "tag", "y", "t"])
        handle.execute(FOLLOW, ["p", "tag", "x", "t"])  # the same follow again
    assert not handle.in_transaction
    assert handle.execute("SELECT count(*) FROM follows").fetchone() == (0,)
    with handle.transaction(pipelined=True):  # the connection takes the next write
        handle.execute(FOLLOW, ["p", "tag", "z", "t"])
    assert handle.execute("SELECT target FROM follows").fetchall() == [("z",)]


def test_a_pipelined_transaction_reads_and_counts_as_open(handle: pg_conn.PgHandle) -> None:
    """A read inside waits for its answer; between two statements libpq's status says IDLE
    in pipeline mode, yet the handle is in a transaction (security.check_rate joins it)."""
    with handle.transaction(pipelined=True):
        handle.execute(FOLLOW, ["p", "tag", "x", "t"])
        assert handle.execute("SELECT count(*) FROM follows").fetchone() == (1,)
        assert handle.in_transaction
    assert not handle.in_transaction
    assert handle.execute("SELECT count(*) FROM follows").fetchone() == (1,)


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_writer_given_up_waiting_for_the_lock_leaves_no_transaction_open(
    postgres_url: str, pipelined: bool
) -> None:
    """BEGIN and the lock go in one round trip: when the lock is not granted, the BEGIN is
    undone too, and the connection takes the next write. (Pipelined, the error comes at
    the first wait, here COMMIT, skipped by the server.)"""
    first, second = pg_conn.connect(postgres_url), pg_conn.connect(postgres_url)
    try:
        second.execute("SET lock_timeout = '100ms'")
        with first.transaction():
            with pytest.raises(psycopg.errors.LockNotAvailable), second.transaction(pipelined):
                pass  # unpipelined, never reached: the lock is the first's
            assert not second.in_transaction
        with second.transaction(pipelined):
            assert second.execute("SELECT 1").fetchone() == (1,)
        assert not second.in_transaction
    finally:
        first.close()
        second.close()
