"""How big the index is, for the admin console's health page and `plaza status`."""

from __future__ import annotations

import sqlite_utils


def index_totals(db: sqlite_utils.Database) -> dict[str, int]:
    """Items (files and folders) and people the index holds, tombstones left out."""
    items = db.execute("SELECT count(*) FROM items WHERE deleted = 0").fetchone()[0]
    people = db.execute("SELECT count(*) FROM people WHERE deleted = 0").fetchone()[0]
    return {"items": items, "people": people}
