"""The SQL of insights' daily totals (m013_insight_totals): `insight_day_people`,
`insight_threads`, `insight_dirty_days`, `insight_totals_state`; no other module touches them.

`recompute_day` reads the day's rows of the tables the totals are made of (comments, likes,
notifications read, document rooms' messages and read markers), read-only and by their
time indexes, with the same conditions as the direct reads in discussion.store,
notifications.store and chat.store_messages (a counted comment: neither deleted nor hidden).
The reads take the documents a viewer may open (`keys`, already trimmed) and, for a unit
scope, its people: a document outside `keys` contributes nothing, not even as a number.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from overlay_app.db import SocialConn

Key = tuple[str, str]

COUNTED = "{0}.deleted_at IS NULL AND {0}.hidden_at IS NULL"

DAY_SOURCES_SQL = f"""
    SELECT c.drive_id, c.item_id, c.author_id AS person_id, c.parent_id IS NULL AS threads,
           c.parent_id IS NOT NULL AS replies, 0 AS likes, 0 AS messages, 0 AS reads
      FROM comments AS c WHERE c.created_at >= :a AND c.created_at < :b AND {COUNTED.format("c")}
    UNION ALL
    SELECT c.drive_id, c.item_id, l.person_id, 0, 0, 1, 0, 0
      FROM comment_likes AS l JOIN comments AS c ON c.id = l.comment_id
     WHERE l.created_at >= :a AND l.created_at < :b AND {COUNTED.format("c")}
    UNION ALL
    SELECT drive_id, item_id, person_id, 0, 0, 1, 0, 0 FROM document_likes
     WHERE created_at >= :a AND created_at < :b
    UNION ALL
    SELECT drive_id, item_id, person_id, 0, 0, 0, 0, 1 FROM notifications
     WHERE read_at >= :a AND read_at < :b AND drive_id != ''
    UNION ALL
    SELECT r.drive_id, r.item_id, m.author_id, 0, 0, 0, 1, 0
      FROM messages AS m JOIN rooms AS r ON r.id = m.room_id
     WHERE m.created_at >= :a AND m.created_at < :b AND {COUNTED.format("m")}
       AND r.kind = 'document'
    UNION ALL
    SELECT r.drive_id, r.item_id, k.person_id, 0, 0, 0, 0, 1
      FROM read_markers AS k JOIN rooms AS r ON r.id = k.room_id
     WHERE k.updated_at >= :a AND k.updated_at < :b AND r.kind = 'document'
"""

DAY_THREADS_SQL = f"""
    SELECT t.id, t.drive_id, t.item_id, t.author_id, t.created_at,
           (SELECT min(r.created_at) FROM comments AS r
             WHERE r.parent_id = t.id AND r.author_id != t.author_id AND {COUNTED.format("r")})
      FROM comments AS t
     WHERE t.created_at >= :a AND t.created_at < :b AND t.parent_id IS NULL
       AND {COUNTED.format("t")}
"""


# -- the nightly job's side ------------------------------------------------------------------


def dirty_days(conn: SocialConn, before: str) -> list[str]:
    rows = conn.execute("SELECT day FROM insight_dirty_days WHERE day < ? ORDER BY day", [before])
    return [day for (day,) in rows]


def mark_every_day(conn: sqlite3.Connection) -> None:
    """Marks every day with any activity (the first run, over what came before the totals)."""
    conn.execute("""INSERT OR IGNORE INTO insight_dirty_days (day)
        SELECT DISTINCT substr(at, 1, 10) FROM (
            SELECT created_at AS at FROM comments UNION ALL SELECT created_at FROM comment_likes
            UNION ALL SELECT created_at FROM document_likes
            UNION ALL SELECT read_at FROM notifications WHERE read_at IS NOT NULL
            UNION ALL SELECT created_at FROM messages
            UNION ALL SELECT updated_at FROM read_markers) WHERE at IS NOT NULL""")


def recompute_day(conn: sqlite3.Connection, day: str, a: str, b: str) -> int:
    """Replaces the totals of one UTC day ([a, b) as stamps) from the day's rows; the rows
    written."""
    conn.execute("DELETE FROM insight_day_people WHERE day = ?", [day])
    conn.execute("DELETE FROM insight_threads WHERE created_at >= ? AND created_at < ?", [a, b])
    written = conn.execute(
        f"""INSERT INTO insight_day_people
            SELECT :day, drive_id, item_id, person_id, sum(threads), sum(replies), sum(likes),
                   sum(messages), sum(reads)
              FROM ({DAY_SOURCES_SQL}) GROUP BY drive_id, item_id, person_id""",
        {"day": day, "a": a, "b": b},
    ).rowcount
    conn.execute(f"INSERT INTO insight_threads {DAY_THREADS_SQL}", {"a": a, "b": b})
    conn.execute("DELETE FROM insight_dirty_days WHERE day = ?", [day])
    return written


def state(conn: SocialConn) -> tuple[str, str] | None:
    """(complete_until, computed_at) of the last run, or None before the first."""
    row = conn.execute("SELECT complete_until, computed_at FROM insight_totals_state").fetchone()
    return None if row is None else (row[0], row[1])


def set_state(
    conn: sqlite3.Connection, complete_until: str, at: str, seconds: float, days: int
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO insight_totals_state VALUES (1, ?, ?, ?, ?)",
        [complete_until, at, seconds, days],
    )


# -- the reads (trimmed by `keys`) -----------------------------------------------------------

# The day range leads (the tables' keys), the documents are looked up in a set built once:
# joining them instead lets SQLite scan the whole table once per document.
WANTED = """(t.drive_id, t.item_id) IN (
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:keys))"""
PEOPLE = "(:people IS NULL OR t.person_id IN (SELECT value FROM json_each(:people)))"


def _params(first: str, until: str, keys: Iterable[Key], people: Iterable[str] | None) -> dict:
    return {
        "first": first,
        "until": until,
        "keys": json.dumps(sorted(keys)),
        "people": None if people is None else json.dumps(sorted(people)),
    }


def keys_between(conn: SocialConn, first: str, until: str) -> set[Key]:
    """The documents with any activity on the days [first, until) (to be trimmed)."""
    rows = conn.execute(
        "SELECT DISTINCT drive_id, item_id FROM insight_day_people WHERE day >= ? AND day < ?",
        [first, until],
    )
    return {(d, i) for d, i in rows}


def people_between(conn: SocialConn, first, until, keys, people) -> list[tuple]:
    """(person, contributions, reads) summed over the days [first, until) on `keys`."""
    return conn.execute(
        f"""SELECT t.person_id, sum(t.threads + t.replies + t.likes + t.messages), sum(t.reads)
              FROM insight_day_people AS t
             WHERE t.day >= :first AND t.day < :until AND {WANTED} AND {PEOPLE}
             GROUP BY t.person_id""",
        _params(first, until, keys, people),
    ).fetchall()


def days_between(conn: SocialConn, first, until, keys, people) -> list[tuple]:
    """(day, replies, comments and messages written) per day of [first, until) on `keys`."""
    return conn.execute(
        f"""SELECT t.day, sum(t.replies), sum(t.threads + t.replies + t.messages)
              FROM insight_day_people AS t
             WHERE t.day >= :first AND t.day < :until AND {WANTED} AND {PEOPLE}
             GROUP BY t.day""",
        _params(first, until, keys, people),
    ).fetchall()


def documents_between(conn: SocialConn, first, until, keys, people) -> list[tuple]:
    """(drive_id, item_id, comments written) of [first, until) on `keys`."""
    return conn.execute(
        f"""SELECT t.drive_id, t.item_id, sum(t.threads + t.replies)
              FROM insight_day_people AS t
             WHERE t.day >= :first AND t.day < :until AND {WANTED} AND {PEOPLE}
               AND t.threads + t.replies > 0
             GROUP BY t.drive_id, t.item_id""",
        _params(first, until, keys, people),
    ).fetchall()


def threads_between(conn: SocialConn, a: str, b: str, keys, people) -> list[tuple]:
    """(id, drive_id, item_id, author, created_at, first_reply_at) of the threads started in
    [a, b) (stamps) on `keys`, oldest first."""
    params = _params(a, b, keys, people)
    return conn.execute(
        f"""SELECT t.comment_id, t.drive_id, t.item_id, t.author_id, t.created_at,
                   t.first_reply_at
              FROM insight_threads AS t
             WHERE t.created_at >= :first AND t.created_at < :until AND {WANTED}
               AND {PEOPLE.replace("t.person_id", "t.author_id")}
             ORDER BY t.created_at, t.comment_id""",
        params,
    ).fetchall()
