"""How the sync writes a PostgreSQL index (issue 17): its page transactions skip the WAL flush
for themselves only, a page still lands with its cursor or not at all, and a first sync
analyzes items as it fills them."""

from __future__ import annotations

import pytest

from sync import pg_analyze
from sync.db import open_index, transaction
from sync.engine import sync_documents, sync_people
from sync.pg_analyze import analyze_if_grown, is_due
from sync.targets import DocumentTarget
from tests.sync.emulated import connector_for

HOLDER_LOOKUP = "SELECT rowid FROM items WHERE drive_id = $1 AND item_id = $2"
ALL_SITES = DocumentTarget(all_sites=True)
LIVE_ITEMS = """SELECT drive_id, item_id, path, acl_item_id, perms_state FROM items
WHERE deleted = 0 ORDER BY drive_id, item_id"""
DRIVE_CURSORS = "SELECT scope FROM cursors WHERE scope LIKE 'drive:%' ORDER BY scope"


def synchronous_commit(db) -> str:
    return db.execute("SHOW synchronous_commit").fetchone()[0]


def test_only_a_mirror_transaction_commits_without_waiting_for_the_disk(postgres_url):
    db = open_index(postgres_url)
    try:
        db.execute("SET synchronous_commit = on")  # the test cluster's own default is off
        with transaction(db, mirror=True) as conn:
            assert synchronous_commit(conn) == "off"
            conn.execute("INSERT INTO sites (id, title) VALUES ('s', 'Tax')")
        assert synchronous_commit(db) == "on"
        with transaction(db) as conn:
            assert synchronous_commit(conn) == "on"
        with pytest.raises(ZeroDivisionError), transaction(db, mirror=True) as conn:
            conn.execute("INSERT INTO sites (id, title) VALUES ('t', 'Deals')")
            raise ZeroDivisionError
        assert synchronous_commit(db) == "on"
        assert db.execute("SELECT id FROM sites ORDER BY id").fetchall() == [("s",)]
    finally:
        db.close()


def test_a_page_whose_cursor_cannot_be_written_leaves_no_item_behind(
    emulator, postgres_url, tmp_path
):
    """Every library's first page fails at its cursor (a constraint refusing drive cursors):
    none of its items stay. Once cursors are accepted again, the next run indexes exactly what
    a clean sync into SQLite does, each library with its cursor."""
    db, clean = open_index(postgres_url), open_index(tmp_path / "clean.db")
    connector = connector_for(emulator)
    try:
        sync_people(db, connector)
        db.execute("ALTER TABLE cursors ADD CONSTRAINT no_drive_cursor CHECK (scope NOT LIKE 'd%')")
        with pytest.raises(Exception, match="no_drive_cursor"):
            sync_documents(db, connector, ALL_SITES, workers=2)
        assert db.execute("SELECT count(*) FROM items").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM cursors WHERE scope LIKE 'd%'").fetchone() == (0,)
        db.execute("ALTER TABLE cursors DROP CONSTRAINT no_drive_cursor")
        sync_documents(db, connector, ALL_SITES, workers=2)
        sync_people(clean, connector)
        sync_documents(clean, connector, ALL_SITES)
        for query in (LIVE_ITEMS, DRIVE_CURSORS):
            assert db.execute(query).fetchall() == clean.execute(query).fetchall()
        assert len(db.execute(DRIVE_CURSORS).fetchall()) > 1
    finally:
        db.close()
        clean.close()


@pytest.mark.parametrize(
    ("live", "analyzed_rows", "due"),
    [(999, -1, False), (1_000, -1, True), (1_000, 0, True), (1_999, 1_000, False),
     (2_000, 1_000, True), (150_000, 100_000, False)],
)  # fmt: skip
def test_items_are_analyzed_first_at_a_thousand_rows_then_each_time_they_double(
    live, analyzed_rows, due
):
    assert is_due(live, analyzed_rows) is due


def test_a_first_sync_analyzes_items_so_holders_are_looked_up_by_key(postgres_url):
    db = open_index(postgres_url)
    try:
        with transaction(db) as conn:
            conn.execute("INSERT INTO sites (id, title) VALUES ('s', 'Tax')")
            conn.execute("INSERT INTO drives (id, site_id) VALUES ('d', 's')")
        db.execute("ALTER TABLE items SET (autovacuum_enabled = false)")  # no ANALYZE but ours
        db.execute("SET plan_cache_mode = force_generic_plan")  # what the triggers come to use
        db.execute(f"PREPARE holder (text, text) AS {HOLDER_LOOKUP}")
        assert "items_by_acl" in plan_of(db, "EXECUTE holder('d', 'f')")  # made on no rows
        rows = [("d", f"f{n}", f"f{n - n % 50}") for n in range(pg_analyze.FIRST_AT)]
        for start in range(0, len(rows), 200):  # pages, as the sync writes them
            with transaction(db, mirror=True) as conn:
                conn.executemany(
                    "INSERT INTO items (drive_id, item_id, acl_item_id) VALUES (?, ?, ?)",
                    rows[start : start + 200],
                )
        assert "items_by_acl" in plan_of(db, "EXECUTE holder('d', 'f')")  # still cached
        db.execute("SELECT pg_stat_force_next_flush()")  # this session's counts, now
        assert analyze_if_grown(db) is True
        assert "items_pkey" in plan_of(db, "EXECUTE holder('d', 'f')")  # made again
        analyzed = db.execute("SELECT reltuples FROM pg_class WHERE oid = 'items'::regclass")
        assert analyzed.fetchone() == (pg_analyze.FIRST_AT,)
        assert analyze_if_grown(db) is False  # not grown since
        held = db.execute(
            "SELECT count(*) FROM items AS i JOIN item_holders AS ih ON ih.item_rowid = i.rowid"
            " JOIN items AS h ON h.rowid = ih.holder_rowid AND h.item_id = i.acl_item_id"
        )
        assert held.fetchone() == (pg_analyze.FIRST_AT,)
    finally:
        db.close()


def test_sqlite_is_never_analyzed_by_the_sync(tmp_path):
    db = open_index(tmp_path / "index.db")
    try:
        assert analyze_if_grown(db) is False
    finally:
        db.close()


def plan_of(db, statement: str) -> str:
    return "\n".join(row[0] for row in db.execute(f"EXPLAIN {statement}"))
