"""Inserting items into the PostgreSQL index in one transaction: does it stay linear?

Run: .venv/bin/python bench/pg_item_holders.py [--sizes 2000,4000,8000] [--custom-plans]

Each size: a fresh index database in a throwaway cluster (bench/pg_cluster.py), one site and
one library, then N items upserted in one transaction with sync/apply.py's UPSERT, pages of
200 rows through executemany, as the sync writes a delta page: a folder for every 50 items
holding its own permissions, its files pointing at it (acl_item_id), so item_holders' triggers
do their work. Prints seconds and items/s per size; linear means the seconds double with N.
`--custom-plans`: the session runs with plan_cache_mode = force_custom_plan (every trigger
statement planned per row, as the triggers did until issue 17's second fix). Without it the
triggers keep generic plans made on the empty table, never replaced within the one
transaction: the worst case, which the sync avoids by analyzing items as a first sync fills
it (sync/pg_analyze.py; its pages commit one by one).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_cluster

from sync.apply import ROW_VALUES, UPSERT
from sync.db import open_index
from sync.plan import ItemRow

DRIVE, PAGE, PER_FOLDER = "b!bench", 200, 50


def item_rows(count: int) -> list[tuple]:
    """Folders first in each group of PER_FOLDER, as Graph's delta lists parents first."""
    rows = []
    for n in range(count):
        folder = f"folder-{n // PER_FOLDER}"
        item_id = folder if n % PER_FOLDER == 0 else f"file-{n}"
        values = dict.fromkeys((f.name for f in fields(ItemRow)), None)
        values.update(drive_id=DRIVE, item_id=item_id, parent_id="root", name=f"{item_id}.docx",
                      is_folder=0, is_root=0, site_id="site", path=f"/{folder}/{item_id}.docx",
                      acl_item_id=folder, has_unique_perms=int(item_id == folder))  # fmt: skip
        row = ItemRow(**values)
        rows.append((*ROW_VALUES(row), "ok"))
    return rows


def insert_seconds(url: str, count: int, custom_plans: bool) -> float:
    db = open_index(url)
    try:
        db.execute("INSERT INTO sites (id, title) VALUES ('site', 'Site')")
        db.execute(f"INSERT INTO drives (id, site_id, name) VALUES ('{DRIVE}', 'site', 'Docs')")
        if custom_plans:
            db.execute("SET plan_cache_mode = force_custom_plan")
        rows = item_rows(count)
        began = time.perf_counter()
        with db.transaction():
            for start in range(0, count, PAGE):
                db.executemany(UPSERT, rows[start : start + PAGE])
        seconds = time.perf_counter() - began
        stale = db.execute(
            "SELECT count(*) FROM items AS i JOIN item_holders AS ih ON ih.item_rowid = i.rowid"
            " JOIN items AS h ON h.rowid = ih.holder_rowid WHERE h.item_id = i.acl_item_id"
        ).fetchone()[0]
        if stale != count:
            raise SystemExit(f"item_holders wrong: {stale} of {count} items point at holders")
        return seconds
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,4000,8000")
    parser.add_argument("--custom-plans", action="store_true")
    args = parser.parse_args()
    with pg_cluster.throwaway_cluster() as cluster:
        for size in (int(s) for s in args.sizes.split(",")):
            seconds = insert_seconds(cluster.new_database(migrated=False), size, args.custom_plans)
            print(f"{size:>8,} items in one transaction: {seconds:6.2f} s"
                  f" = {size / seconds:8,.0f} items/s")  # fmt: skip


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
