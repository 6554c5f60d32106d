"""Statistics for a PostgreSQL index that a first sync is filling (issue 17).

Autovacuum analyzes a table once a minute at most, and only after a tenth of it changed, so a
first sync into an empty index writes most of its pages with plans made on a nearly empty
items table. Every estimate is one row there: the item_holders triggers' cached generic plans
(sync/pg_schema.py) then look a holder up through items_by_acl on drive_id alone instead of
items_pkey, reading the whole library for every inserted item, and keep doing so as the
library grows, until something replaces their plans. An ANALYZE of items does: it invalidates
every session's cached plans, which are then made again with the table's real size.

So after each committed page the sync calls `analyze_if_grown(db)`: once items holds
FIRST_AT live rows, and again whenever it has doubled since it was last analyzed (by us or by
autovacuum), it analyzes the columns the sync looks items up by (not search_vector, whose
statistics take most of a full ANALYZE: autovacuum's own ANALYZE still does all columns),
and item_holders. A 100,000-item first sync analyzed five or six times (1 to 2 s in
all); an incremental sync, whose items table does not grow, never (one catalog read per
page). SQLite needs none of this: without statistics its planner goes by its own rules,
which look a holder up by its primary key whatever the table's size.
"""

from __future__ import annotations

import threading
from typing import Any

from sync.dialect import is_postgres

FIRST_AT = 1_000  # live items before the first ANALYZE (a plan for fewer costs little)
GROWTH = 2.0  # analyze again once items has this many times the rows it was analyzed with
LOOKUP_COLUMNS = (
    "drive_id",
    "item_id",
    "parent_id",
    "acl_item_id",
    "deleted",
    "perms_state",
    "has_unique_perms",
    "seen_round",
)
SIZES = """SELECT pg_stat_get_live_tuples(c.oid), c.reltuples FROM pg_class AS c
WHERE c.oid = to_regclass('items')"""

_analyzing = threading.Lock()  # the sync's workers share a process: one ANALYZE at a time


def is_due(live: int, analyzed_rows: float) -> bool:
    """Whether items, now `live` rows, should be analyzed, having been analyzed with
    `analyzed_rows` (pg_class.reltuples: -1 before the first ANALYZE)."""
    return live >= max(FIRST_AT, GROWTH * analyzed_rows)


def analyze_if_grown(db: Any) -> bool:
    """Analyzes the index's items (lookup columns) and item_holders when items has grown
    enough (see the module's docstring); True when it did. Runs outside any transaction, on
    `db`'s own connection: ANALYZE does not block the writers. A no-op on SQLite."""
    if not is_postgres(db) or db.in_transaction:
        return False
    live, analyzed_rows = db.execute(SIZES).fetchone()
    if not is_due(int(live), float(analyzed_rows)):
        return False
    if not _analyzing.acquire(blocking=False):
        return False  # another worker is analyzing right now
    try:
        db.execute(f"ANALYZE items ({', '.join(LOOKUP_COLUMNS)})")
        db.execute("ANALYZE item_holders")
    finally:
        _analyzing.release()
    return True
