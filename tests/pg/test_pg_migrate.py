"""The one PostgreSQL migration runner (sync/pg_migrate.py) every store's history goes through."""

from __future__ import annotations

import psycopg
import pytest

from sync import pg
from sync.pg_migrate import applied, apply_migrations

LOCK = 7_399_001
TABLE = "plaza_try.plaza_migrations"
FIRST = ("m001_notes", ("CREATE TABLE plaza_try.notes (id bigint PRIMARY KEY)",))
SECOND = ("m002_tags", ("CREATE TABLE plaza_try.tags (id bigint PRIMARY KEY)",))


def test_each_name_runs_once_and_a_failing_one_leaves_no_trace(postgres_url: str) -> None:
    handle = pg.connect(postgres_url)
    try:
        assert applied(handle, TABLE) == []
        assert apply_migrations(handle, TABLE, LOCK, [FIRST], schema="plaza_try") == ["m001_notes"]
        broken = ("m002_tags", (*SECOND[1], "CREATE TABLE plaza_try.notes (id bigint)"))
        with pytest.raises(psycopg.errors.DuplicateTable):
            apply_migrations(handle, TABLE, LOCK, [FIRST, broken], schema="plaza_try")
        assert applied(handle, TABLE) == ["m001_notes"]
        assert handle.execute("SELECT to_regclass('plaza_try.tags')").fetchone() == (None,)
        both = [FIRST, SECOND]
        assert apply_migrations(handle, TABLE, LOCK, both, schema="plaza_try") == ["m002_tags"]
        assert apply_migrations(handle, TABLE, LOCK, both, schema="plaza_try") == []
        assert applied(handle, TABLE) == ["m001_notes", "m002_tags"]
    finally:
        handle.close()
