"""The SQL of insights' daily totals (m013_insight_totals): `insight_documents`,
`insight_people`, `insight_day_people`, `insight_day_documents`, `insight_threads`,
`insight_dirty_days`, `insight_totals_state`; no other module touches them.

`recompute_day` reads the day's rows of the tables the totals are made of (comments, likes,
notifications read, document rooms' messages and read markers) through each owning store's
SQL part (`DAY_*_SQL`: read-only, by their time indexes, with the same conditions as their
direct reads: a counted comment or message is neither deleted nor hidden). The reads take
the numbers of the documents a viewer may open (`documents`, already trimmed) and, for a
unit scope, its people: a document outside `documents` contributes nothing, not even as a
number. Days are numbered (UTC days since 1970-01-01).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from overlay_app.chat import store_insights
from overlay_app.db import SocialConn
from overlay_app.dialect import joined, milliseconds_between
from overlay_app.discussion import store_insights as discussion_store
from overlay_app.notifications import store as notifications_store

Key = tuple[str, str]

# One day's contributions and reads, (drive_id, item_id, person_id, threads, replies, likes,
# messages, reads) per row, for the day [:a, :b): each owning store's part of it.
DAY_SOURCES_SQL = " UNION ALL ".join(
    (
        discussion_store.DAY_CONTRIBUTIONS_SQL,
        notifications_store.DAY_READS_SQL,
        store_insights.DAY_DOCUMENT_ROOMS_SQL,
    )
)


def _day_threads_sql(conn: SocialConn) -> str:
    """The day's threads as insight_threads' rows, with their waits."""
    wait = milliseconds_between(conn, "t.first_reply_at", "t.created_at")
    return f"""
    SELECT t.id, d.n, p.n, t.created_at, t.first_reply_at, {wait}
      FROM ({discussion_store.DAY_THREADS_SQL}) AS t
      JOIN insight_documents AS d ON d.drive_id = t.drive_id AND d.item_id = t.item_id
      JOIN insight_people AS p ON p.person_id = t.author_id"""


# -- the nightly job's side ------------------------------------------------------------------


def dirty_days(conn: SocialConn, before: str) -> list[str]:
    rows = conn.execute("SELECT day FROM insight_dirty_days WHERE day < ? ORDER BY day", [before])
    return [day for (day,) in rows]


def mark_every_day(conn: sqlite3.Connection) -> None:
    """Marks every day with any activity (the first run, over what came before the totals)."""
    conn.execute("""INSERT INTO insight_dirty_days (day)
        SELECT DISTINCT substr(at, 1, 10) FROM (
            SELECT created_at AS at FROM comments UNION ALL SELECT created_at FROM comment_likes
            UNION ALL SELECT created_at FROM document_likes
            UNION ALL SELECT read_at FROM notifications WHERE read_at IS NOT NULL
            UNION ALL SELECT created_at FROM messages
            UNION ALL SELECT updated_at FROM read_markers) AS every
        WHERE at IS NOT NULL ON CONFLICT DO NOTHING""")


def recompute_day(conn: sqlite3.Connection, day: str, number: int, a: str, b: str) -> int:
    """Replaces the totals of one UTC day (`number`; [a, b) as stamps) from the day's rows;
    the rows written."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS insight_day_rows (drive_id TEXT, item_id TEXT,"
        " person_id TEXT, threads INTEGER, replies INTEGER, likes INTEGER, messages INTEGER,"
        " reads INTEGER)"
    )  # a temporary table is found before any other of its name, on both engines
    conn.execute("DELETE FROM insight_day_rows")
    conn.execute(
        f"""INSERT INTO insight_day_rows
            SELECT drive_id, item_id, person_id, sum(threads), sum(replies), sum(likes),
                   sum(messages), sum(reads)
              FROM ({DAY_SOURCES_SQL}) AS day_rows GROUP BY drive_id, item_id, person_id""",
        {"a": a, "b": b},
    )
    conn.execute(
        "INSERT INTO insight_documents (drive_id, item_id)"
        " SELECT DISTINCT drive_id, item_id FROM insight_day_rows WHERE TRUE"
        " ON CONFLICT DO NOTHING"
    )  # WHERE: SQLite would read ON as a join's
    conn.execute(
        "INSERT INTO insight_people (person_id)"
        " SELECT DISTINCT person_id FROM insight_day_rows WHERE TRUE ON CONFLICT DO NOTHING"
    )
    for table in ("insight_day_people", "insight_day_documents"):
        conn.execute(f"DELETE FROM {table} WHERE day = ?", [number])
    written = conn.execute(
        """INSERT INTO insight_day_people
           SELECT :day, d.n, p.n, r.threads, r.replies, r.likes, r.messages, r.reads
             FROM insight_day_rows AS r
             JOIN insight_documents AS d ON d.drive_id = r.drive_id AND d.item_id = r.item_id
             JOIN insight_people AS p ON p.person_id = r.person_id""",
        {"day": number},
    ).rowcount
    conn.execute(
        """INSERT INTO insight_day_documents
           SELECT day, document, sum(threads), sum(replies), sum(threads + replies + messages)
             FROM insight_day_people WHERE day = ? GROUP BY day, document""",
        [number],
    )
    conn.execute("DELETE FROM insight_threads WHERE created_at >= ? AND created_at < ?", [a, b])
    conn.execute(f"INSERT INTO insight_threads {_day_threads_sql(conn)}", {"a": a, "b": b})
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
        "INSERT INTO insight_totals_state (id, complete_until, computed_at, seconds, days)"
        " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " complete_until = excluded.complete_until, computed_at = excluded.computed_at,"
        " seconds = excluded.seconds, days = excluded.days",
        [complete_until, at, seconds, days],
    )


# -- the reads (trimmed by `documents`) ------------------------------------------------------

DOCUMENTS = "t.document IN (SELECT CAST(value AS BIGINT) FROM json_each(:documents))"
PEOPLE = "(CAST(:people AS TEXT) IS NULL OR {0} IN (SELECT n FROM insight_people WHERE person_id IN (SELECT value FROM json_each(:people))))"  # noqa: E501


def _params(documents: Iterable[int], people: Iterable[str] | None, **more) -> dict:
    return more | {
        "documents": json.dumps(sorted(documents)),
        "people": None if people is None else json.dumps(sorted(people)),
    }


def documents_between(conn: SocialConn, first: int, until: int) -> dict[Key, int]:
    """The documents with any activity on the days [first, until), by key (to be trimmed)."""
    rows = conn.execute(
        """SELECT d.drive_id, d.item_id, d.n FROM insight_documents AS d WHERE d.n IN (
               SELECT document FROM insight_day_documents WHERE day >= ? AND day < ?)""",
        [first, until],
    )
    return {(drive_id, item_id): n for drive_id, item_id, n in rows}


def people_between(conn: SocialConn, first: int, cut: int, until: int, documents, people):
    """(person, contributions, reads before `cut`, contributions, reads from it) summed over
    the days [first, until) on `documents`: both periods in one pass."""
    return conn.execute(
        f"""SELECT p.person_id,
                   sum(CASE WHEN t.day < :cut THEN t.threads + t.replies + t.likes + t.messages
                       ELSE 0 END),
                   sum(CASE WHEN t.day < :cut THEN t.reads ELSE 0 END),
                   sum(CASE WHEN t.day >= :cut THEN t.threads + t.replies + t.likes + t.messages
                       ELSE 0 END),
                   sum(CASE WHEN t.day >= :cut THEN t.reads ELSE 0 END)
              FROM insight_day_people AS t JOIN insight_people AS p ON p.n = t.person
             WHERE t.day >= :first AND t.day < :until AND {DOCUMENTS}
               AND {PEOPLE.format("t.person")}
             GROUP BY t.person, p.person_id""",
        _params(documents, people, first=first, cut=cut, until=until),
    ).fetchall()


def days_between(conn: SocialConn, first: int, until: int, documents, people) -> list[tuple]:
    """(day, replies, comments and messages written) per day of [first, until)."""
    if people is None:
        sql = f"""SELECT t.day, sum(t.replies), sum(t.written) FROM insight_day_documents AS t
                  WHERE t.day >= :first AND t.day < :until AND {DOCUMENTS} GROUP BY t.day"""
    else:
        sql = f"""SELECT t.day, sum(t.replies), sum(t.threads + t.replies + t.messages)
                    FROM insight_day_people AS t
                   WHERE t.day >= :first AND t.day < :until AND {DOCUMENTS}
                     AND {PEOPLE.format("t.person")} GROUP BY t.day"""
    params = _params(documents, people, first=first, until=until)
    return conn.execute(sql, params).fetchall()


def comments_by_document(conn: SocialConn, first: int, until: int, documents, people):
    """(document, comments written) of the days [first, until) that have any."""
    table = "insight_day_documents" if people is None else "insight_day_people"
    return conn.execute(
        f"""SELECT t.document, sum(t.threads + t.replies) FROM {table} AS t
             WHERE t.day >= :first AND t.day < :until AND {DOCUMENTS}
               AND {PEOPLE.format("t.person") if people is not None else "TRUE"}
             GROUP BY t.document HAVING sum(t.threads + t.replies) > 0""",
        _params(documents, people, first=first, until=until),
    ).fetchall()


THREADS_WHERE = f"""t.created_at >= :a AND t.created_at < :b AND {DOCUMENTS}
    AND {PEOPLE.format("t.author")}
    AND t.comment_id NOT IN (SELECT value FROM json_each(:apart))"""


def thread_waits(conn: SocialConn, a: str, b: str, end: str, documents, people, apart):
    """(threads, the waits in ms of those answered before `end`, comma-separated) of the
    threads started in [a, b), less those `apart`."""
    return conn.execute(
        f"""SELECT count(*), {joined(conn, "CASE WHEN t.first_reply_at < :end THEN t.wait_ms END")}
              FROM insight_threads AS t WHERE {THREADS_WHERE}""",
        _params(documents, people, a=a, b=b, end=end, apart=json.dumps(sorted(apart))),
    ).fetchone()


def unanswered(conn: SocialConn, a: str, b: str, end: str, documents, people, apart, limit):
    """(id, document, created_at) of the first `limit` threads started in [a, b) with no
    answer before `end`, less those `apart`, oldest first."""
    return conn.execute(
        f"""SELECT t.comment_id, t.document, t.created_at FROM insight_threads AS t
             WHERE {THREADS_WHERE} AND (t.first_reply_at IS NULL OR t.first_reply_at >= :end)
             ORDER BY t.created_at, t.comment_id LIMIT :limit""",
        _params(documents, people, a=a, b=b, end=end, apart=json.dumps(sorted(apart)), limit=limit),
    ).fetchall()


def threads_among(conn: SocialConn, ids: Iterable[str], documents) -> list[tuple]:
    """(id, document, author, created_at, first_reply_at) of those threads on `documents`."""
    return conn.execute(
        f"""SELECT t.comment_id, t.document, p.person_id, t.created_at, t.first_reply_at
              FROM insight_threads AS t JOIN insight_people AS p ON p.n = t.author
             WHERE t.comment_id IN (SELECT value FROM json_each(:ids)) AND {DOCUMENTS}""",
        _params(documents, None, ids=json.dumps(sorted(ids))),
    ).fetchall()
