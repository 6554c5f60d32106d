"""The few places where SQLite and PostgreSQL have no common form, as named helpers.

Store SQL is written once, in what both engines run (ON CONFLICT, RETURNING, FILTER, CTEs,
window functions, `->>` on JSON text); a store calls one of these only where that subset has
nothing, passing the connection it runs on (`db.SocialConn`: SQLite's, or overlay_app/pg's).
"""

from __future__ import annotations

from typing import Any

from overlay_app.pg.conn import DIALECT as POSTGRESQL


def is_postgres(conn: Any) -> bool:
    return getattr(conn, "dialect", None) == POSTGRESQL


def unpinned(conn: Any, sql: str, index: str) -> str:
    """`sql`, whose `INDEXED BY index` pins SQLite's plan where its planner guesses wrong,
    without that clause on PostgreSQL (which has none, and the statistics to choose)."""
    return sql.replace(f" INDEXED BY {index}", "") if is_postgres(conn) else sql


def caseless(conn: Any, expression: str) -> str:
    """`expression` compared and ordered without case: SQLite's NOCASE collation (the one the
    unique index rooms_by_channel_name has), lower() on PostgreSQL (its index is on lower)."""
    return f"lower({expression})" if is_postgres(conn) else f"{expression} COLLATE NOCASE"


def json_array_of(conn: Any, expression: str) -> str:
    """An aggregate: the group's values as a JSON array (text)."""
    return f"json_agg({expression})" if is_postgres(conn) else f"json_group_array({expression})"


def joined(conn: Any, expression: str) -> str:
    """An aggregate: the group's non-null values as text joined by commas."""
    if is_postgres(conn):
        return f"string_agg(CAST({expression} AS text), ',')"
    return f"group_concat({expression})"


def milliseconds_between(conn: Any, later: str, earlier: str) -> str:
    """Whole milliseconds from one stamp (ISO 8601 text, UTC) to another; null if either is."""
    if is_postgres(conn):
        span = f"CAST({later} AS timestamptz) - CAST({earlier} AS timestamptz)"
        return f"CAST(round(EXTRACT(EPOCH FROM {span}) * 1000) AS BIGINT)"
    return f"CAST(round((julianday({later}) - julianday({earlier})) * 86400000) AS INTEGER)"
