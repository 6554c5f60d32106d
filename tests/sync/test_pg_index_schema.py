"""The index's PostgreSQL schema (sync/pg_schema.py) against its SQLite history."""

from __future__ import annotations

import pytest

from sync import pg_schema
from sync.db import IndexTooNew, index_version, open_index, transaction
from sync.schema import MIGRATIONS
from tests.sync.index_checks import stale_item_holders


def test_the_postgresql_history_is_the_sqlite_history_name_for_name():
    assert [name for name, _ in pg_schema.MIGRATIONS] == [m.name for m in MIGRATIONS._migrations]


def test_the_index_migrates_into_its_own_schema_once(postgres_url):
    db = open_index(postgres_url)
    try:
        assert pg_schema.applied(db) == [name for name, _ in pg_schema.MIGRATIONS]
        tables = db.execute(
            "SELECT table_schema, count(*) FROM information_schema.tables"
            " WHERE table_name IN ('items', 'people', 'runs', 'item_holders', 'photos')"
            " GROUP BY table_schema"
        ).fetchall()
        assert tables == [("plaza_index", 5)]
    finally:
        db.close()
    again = open_index(postgres_url)
    assert pg_schema.migrate(again) == []
    again.close()


def test_items_carry_a_rowid_holders_and_a_weighted_search_vector(postgres_url):
    db = open_index(postgres_url)
    with transaction(db) as conn:
        conn.execute("INSERT INTO sites (id, title) VALUES ('s', 'Tax')")
        conn.execute("INSERT INTO drives (id, site_id) VALUES ('d', 's')")
        conn.execute(
            "INSERT INTO items (drive_id, item_id, name, path, site_title, acl_item_id)"
            " VALUES ('d', 'f', 'Café plan', '/Clients/Café plan', 'Tax', 'root')"
        )
        conn.execute(
            "INSERT INTO items (drive_id, item_id, acl_item_id) VALUES ('d', 'root', 'root')"
        )
    rows = db.execute("SELECT item_id, rowid FROM items ORDER BY rowid").fetchall()
    assert rows == [("f", 1), ("root", 2)]
    assert db.execute("SELECT * FROM item_holders ORDER BY 1").fetchall() == [(1, 2), (2, 2)]
    vector = db.execute("SELECT CAST(search_vector AS text) FROM items WHERE rowid = 1").fetchone()
    assert vector == ("'cafe':1A,5C 'clients':4C 'plan':2A,6C 'tax':3B",)
    db.execute("UPDATE items SET deleted = 1 WHERE item_id = 'f'")
    assert db.execute("SELECT * FROM item_holders ORDER BY 1").fetchall() == [(1, None), (2, 2)]
    db.execute("DELETE FROM items WHERE item_id = 'root'")
    assert db.execute("SELECT * FROM item_holders ORDER BY 1").fetchall() == [(1, None)]
    db.close()


def test_an_index_written_by_a_newer_plaza_is_refused(postgres_url):
    open_index(postgres_url).close()
    db = open_index(postgres_url)
    db.execute(f"INSERT INTO {pg_schema.MIGRATIONS_TABLE} (name) VALUES ('m999_future')")
    db.close()
    with pytest.raises(IndexTooNew, match="m999_future"):
        open_index(postgres_url)


def test_index_writers_take_their_own_lock_not_the_social_stores(postgres_url):
    db = open_index(postgres_url)
    try:
        with transaction(db):
            locks = db.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            ).fetchall()
        assert locks == [(pg_schema.INDEX_WRITER_LOCK,)]
    finally:
        db.close()


def test_index_version_counts_each_committed_writing_transaction_once(postgres_url):
    db = open_index(postgres_url)
    try:
        before = index_version(db)
        with transaction(db) as conn:  # three writing statements: one count
            conn.execute("INSERT INTO sites (id, title) VALUES ('site', 'Site')")
            conn.execute("INSERT INTO drives (id, site_id, name) VALUES ('b!docs', 'site', 'D')")
            conn.execute("UPDATE sites SET title = 'Renamed' WHERE id = 'site'")
        assert index_version(db) == before + 1
        db.execute("UPDATE drives SET name = 'Docs' WHERE id = 'b!docs'")  # its own transaction
        assert index_version(db) == before + 2
    finally:
        db.close()


def test_item_holders_triggers_pin_their_schema_and_follow_thousands_of_inserts(postgres_url):
    """The functions keep PL/pgSQL's cached plans (planning each row cost most of an insert,
    issue 17; sync/pg_analyze.py keeps those plans sound); 1,200 inserts in one transaction,
    each file before its folder, all find their holders."""
    db = open_index(postgres_url)
    try:
        settings = db.execute(
            "SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'item_holders_a_'"
            " ORDER BY proname"
        ).fetchall()
        pinned = ["search_path=plaza_index, public"]
        assert settings == [(name, pinned) for name in ("item_holders_ad", "item_holders_ai",
                                                        "item_holders_au")]  # fmt: skip
        files = [("b!docs", f"file-{n}", f"folder-{n // 10}") for n in range(1_200)]
        folders = [("b!docs", f"folder-{n}", f"folder-{n}") for n in range(120)]
        with transaction(db) as conn:
            conn.execute("INSERT INTO sites (id, title) VALUES ('site', 'Site')")
            conn.execute("INSERT INTO drives (id, site_id, name) VALUES ('b!docs', 'site', 'D')")
            for rows in (files, folders):
                conn.executemany(
                    "INSERT INTO items (drive_id, item_id, acl_item_id) VALUES (?, ?, ?)", rows
                )
        assert stale_item_holders(db) == []
        held = db.execute(
            "SELECT count(*) FROM items AS i JOIN item_holders AS ih ON ih.item_rowid = i.rowid"
            " JOIN items AS h ON h.rowid = ih.holder_rowid AND h.item_id = i.acl_item_id"
        ).fetchone()
        assert held == (1_320,)
    finally:
        db.close()
