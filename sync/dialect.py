"""Where the index's SQL has no form both engines run, as named rewrites for PostgreSQL.

Sync's SQL is written once, for SQLite, in the subset PostgreSQL shares (ON CONFLICT,
RETURNING, CTEs, `->>` on JSON text). What SQLite alone spells its own way is rewritten on
the way to PostgreSQL by `for_postgresql(sql)`, which the index's PostgreSQL connections
apply to every statement (sync/db.connect_pg); each rewrite is one named function here:

- `json_each(p)` over a JSON array of strings, read as `value`: json_array_elements_text;
  `json_each(p) AS k` (elements read as `k.value ->> n`): json_array_elements.
- `x IN (SELECT value FROM json_each(p))`: `x = ANY(ARRAY(...))`, a list the index scan takes
  as its own condition. As a semi join, a library's first sync (no statistics yet for its
  drive_id) read every item of the library per page through items_pkey's drive_id prefix,
  filtering on item_id: 178 ms a page at 100,000 items (issue 17).
- `INDEXED BY index` pins SQLite's plan: PostgreSQL has no such clause (and the statistics).
- `x COLLATE NOCASE`: lower(x) (people_by_upn is on lower(upn) there).
- `LIKE` ignores case on SQLite (ASCII letters): ILIKE.

Beware what the rewrites cannot fix: psycopg sends each use of a `:name` as a parameter of
its own, so a parameter only tested for NULL needs its type said: `CAST(:p AS TEXT) IS NULL`.

Anything else differing (PRAGMA, lastrowid, FTS5) is kept off PostgreSQL by its caller,
asking `is_postgres(db)`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sync.pg import DIALECT as POSTGRESQL

_PARAM = r"(\?|:\w+)"
_IN_EACH = re.compile(rf"([\w.]+) (NOT )?IN \(SELECT value FROM json_each\({_PARAM}\)\)")
_EACH_AS = re.compile(rf"json_each\({_PARAM}\) AS (\w+)")
_EACH = re.compile(rf"json_each\({_PARAM}\)")
_INDEXED_BY = re.compile(r" INDEXED BY \w+")
_EQUALS_NOCASE = re.compile(rf"([\w.]+) = {_PARAM} COLLATE NOCASE")
_NOCASE = re.compile(r"([\w.]+) COLLATE NOCASE")
_LIKE = re.compile(r"\bLIKE\b")


def is_postgres(conn: Any) -> bool:
    return getattr(conn, "dialect", None) == POSTGRESQL


def _any_of(match: re.Match) -> str:
    listed = f"ARRAY(SELECT json_array_elements_text(CAST({match[3]} AS json)))"
    return f"{match[1]} <> ALL({listed})" if match[2] else f"{match[1]} = ANY({listed})"


def listed(sql: str) -> str:
    return _IN_EACH.sub(_any_of, sql)


def array_elements(sql: str) -> str:
    sql = _EACH_AS.sub(r"json_array_elements(CAST(\1 AS json)) AS \2(value)", sql)
    return _EACH.sub(r"json_array_elements_text(CAST(\1 AS json)) AS value", sql)


def unpinned(sql: str) -> str:
    return _INDEXED_BY.sub("", sql)


def caseless(sql: str) -> str:
    sql = _EQUALS_NOCASE.sub(r"lower(\1) = lower(\2)", sql)
    return _NOCASE.sub(r"lower(\1)", sql)


def caseless_like(sql: str) -> str:
    return _LIKE.sub("ILIKE", sql)


@lru_cache(maxsize=2048)
def for_postgresql(sql: str) -> str:
    """`sql` as PostgreSQL takes it (the same text when nothing SQLite-only is in it)."""
    return caseless_like(caseless(unpinned(array_elements(listed(sql)))))
