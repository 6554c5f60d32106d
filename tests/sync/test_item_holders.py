"""item_holders, the narrow copy of each item's acl holder that search walks (schema m009),
follows every way the engine changes items: inserts in any order, a new holder, a tombstone,
a resurrection, a hard delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.db import open_index
from tests.postgres import index_at, sqlite_only
from tests.sync.conftest import insert_rows
from tests.sync.index_checks import stale_item_holders

DRIVE = "b!docs"


@pytest.fixture
def db(tmp_path: Path):
    index = open_index(index_at(tmp_path / "index.db"))
    insert_rows(index, "sites", [{"id": "site", "title": "Site"}])
    insert_rows(index, "drives", [{"id": DRIVE, "site_id": "site", "name": "Documents"}])
    yield index
    index.close()


def add(db, item_id: str, holder: str | None, deleted: int = 0) -> None:
    insert_rows(db, "items", [
        {"drive_id": DRIVE, "item_id": item_id, "name": item_id, "acl_item_id": holder,
         "perms_state": "ok", "deleted": deleted}
    ])  # fmt: skip


def holder_of(db, item_id: str) -> str | None:
    row = db.execute(
        "SELECT h.item_id FROM items AS i JOIN item_holders AS ih ON ih.item_rowid = i.rowid "
        "LEFT JOIN items AS h ON h.rowid = ih.holder_rowid WHERE i.item_id = ?",
        [item_id],
    ).fetchone()
    return row[0]


def test_each_item_points_at_its_holder_whatever_the_insert_order(db) -> None:
    add(db, "root", "root")
    add(db, "report", "folder")  # before its holder is indexed: nobody's yet
    assert holder_of(db, "report") is None
    add(db, "folder", "folder")
    add(db, "memo", "root")
    assert [holder_of(db, i) for i in ("root", "folder", "report", "memo")] == [
        "root", "folder", "folder", "root"
    ]  # fmt: skip
    assert stale_item_holders(db) == []


def test_a_new_holder_a_tombstone_and_a_resurrection_are_followed(db) -> None:
    for item_id, holder in (("root", "root"), ("folder", "folder"), ("report", "folder")):
        add(db, item_id, holder)
    db.execute("UPDATE items SET acl_item_id = 'root' WHERE item_id = 'report'")
    assert holder_of(db, "report") == "root"
    db.execute("UPDATE items SET deleted = 1 WHERE item_id = 'report'")
    assert holder_of(db, "report") is None
    db.execute("UPDATE items SET deleted = 0 WHERE item_id = 'report'")
    assert holder_of(db, "report") == "root"
    db.execute("UPDATE items SET acl_item_id = NULL WHERE item_id = 'report'")
    assert holder_of(db, "report") is None
    assert stale_item_holders(db) == []


def test_deleting_a_holder_row_leaves_its_items_with_none(db) -> None:
    for item_id, holder in (("root", "root"), ("folder", "folder"), ("report", "folder")):
        add(db, item_id, holder)
    db.execute("DELETE FROM items WHERE item_id = 'folder'")
    assert holder_of(db, "report") is None
    assert db.execute("SELECT count(*) FROM item_holders").fetchone() == (2,)
    add(db, "folder", "folder")  # indexed again (a new rowid): found again
    assert holder_of(db, "report") == "folder"
    assert stale_item_holders(db) == []


@sqlite_only("an index migrated before m009 (PostgreSQL indexes start at m013)")
def test_an_index_made_before_the_table_is_filled_by_the_migration(tmp_path: Path) -> None:
    index = open_index(index_at(tmp_path / "index.db"))
    insert_rows(index, "sites", [{"id": "site", "title": "Site"}])
    insert_rows(index, "drives", [{"id": DRIVE, "site_id": "site", "name": "Documents"}])
    index.executescript(
        "DROP TRIGGER item_holders_ai; DROP TRIGGER item_holders_au; DROP TRIGGER item_holders_ad;"
        "DROP TABLE item_holders;"
        "DELETE FROM _sqlite_migrations WHERE name = 'm009_item_holders';"
    )
    add(index, "root", "root")
    add(index, "gone", "root", deleted=1)
    index.close()
    index = open_index(index_at(tmp_path / "index.db"))
    assert [holder_of(index, i) for i in ("root", "gone")] == ["root", None]
    assert stale_item_holders(index) == []
    index.close()
