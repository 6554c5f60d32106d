"""The discussion's SQL that only insights reads (overlay_app/insights): contributions, likes,
mentions and threads over a period, and the evidence of expertise, from the tables of
discussion.store (whose SHOWN rule applies here too: `COUNTED_COMMENT`).

Nothing here decides who may see what: insights trims what comes back to the documents the
viewer may open.
"""

from __future__ import annotations

import json

from overlay_app.db import SocialConn
from overlay_app.discussion.store import Key

# The one predicate saying which comments count in aggregates: live ones. Moderation's "hidden"
# state (the admin feature) joins here, so that a hidden comment counts for nobody.
COUNTED_COMMENT = "c.deleted_at IS NULL AND c.hidden_at IS NULL"


def comments_since(
    conn: SocialConn, since: str
) -> list[tuple[str, str, str, str | None, str, str]]:
    """(id, drive_id, item_id, parent_id, author_id, created_at) of every counted comment
    written at or after `since`, oldest first."""
    return conn.execute(
        f"""SELECT c.id, c.drive_id, c.item_id, c.parent_id, c.author_id, c.created_at
            FROM comments AS c WHERE c.created_at >= ? AND {COUNTED_COMMENT}
            ORDER BY c.created_at, c.rowid""",
        [since],
    ).fetchall()


def document_likes_since(conn: SocialConn, since: str) -> list[tuple[str, str, str, str]]:
    """(drive_id, item_id, person_id, created_at) of document likes given at or after `since`."""
    return conn.execute(
        "SELECT drive_id, item_id, person_id, created_at FROM document_likes WHERE created_at >= ?",
        [since],
    ).fetchall()


def mentions_since(conn: SocialConn, since: str) -> list[tuple[str, str]]:
    """(comment_id, person_id) of the mentions in counted comments written at or after
    `since`."""
    return conn.execute(
        f"""SELECT m.comment_id, m.person_id FROM mentions AS m
            JOIN comments AS c ON c.id = m.comment_id
            WHERE c.created_at >= ? AND {COUNTED_COMMENT}""",
        [since],
    ).fetchall()


def commented_keys_of(conn: SocialConn, person_id: str) -> list[Key]:
    """(drive_id, item_id) of every document the person wrote a counted comment on."""
    rows = conn.execute(
        f"SELECT DISTINCT c.drive_id, c.item_id FROM comments AS c"
        f" WHERE c.author_id = ? AND {COUNTED_COMMENT}",
        [person_id],
    )
    return [(drive_id, item_id) for drive_id, item_id in rows]


def comments_on(conn: SocialConn, keys: list[Key]) -> list[tuple[str, str, str, str | None, str]]:
    """(id, drive_id, item_id, parent_id, author_id) of the counted comments on those
    documents, with no time limit (expertise evidence)."""
    return conn.execute(
        f"""SELECT c.id, c.drive_id, c.item_id, c.parent_id, c.author_id FROM comments AS c
            WHERE {COUNTED_COMMENT} AND (c.drive_id, c.item_id) IN
                (SELECT value ->> 0, value ->> 1 FROM json_each(?))""",
        [json.dumps([list(key) for key in keys])],
    ).fetchall()


def likes_received(conn: SocialConn, comment_ids: list[str]) -> list[tuple[str, str]]:
    """(comment_id, liker) of the likes on those comments."""
    return conn.execute(
        "SELECT comment_id, person_id FROM comment_likes"
        " WHERE comment_id IN (SELECT value FROM json_each(?))",
        [json.dumps(comment_ids)],
    ).fetchall()


def commented_keys_since(conn: SocialConn, since: str) -> list[Key]:
    """(drive_id, item_id) of the documents with a counted comment written at or after
    `since`."""
    rows = conn.execute(
        f"SELECT DISTINCT c.drive_id, c.item_id FROM comments AS c"
        f" WHERE c.created_at >= ? AND {COUNTED_COMMENT}",
        [since],
    )
    return [(drive_id, item_id) for drive_id, item_id in rows]


def comment_likes_on_since(conn: SocialConn, since: str) -> list[tuple[str, str, str, str]]:
    """(drive_id, item_id, person_id, created_at) of likes given at or after `since` on
    counted comments, however old the comment (insights count a like on its document)."""
    return conn.execute(
        f"""SELECT c.drive_id, c.item_id, l.person_id, l.created_at
            FROM comment_likes AS l JOIN comments AS c ON c.id = l.comment_id
            WHERE l.created_at >= ? AND {COUNTED_COMMENT}""",
        [since],
    ).fetchall()


# This store's part of insights' daily totals (insights/store_totals.py: DAY_SOURCES_SQL):
# (drive_id, item_id, person_id, threads, replies, likes, messages, reads) of the counted
# comments written and the likes given on the day [:a, :b).
DAY_CONTRIBUTIONS_SQL = f"""
    SELECT c.drive_id, c.item_id, c.author_id AS person_id,
           CASE WHEN c.parent_id IS NULL THEN 1 ELSE 0 END AS threads,
           CASE WHEN c.parent_id IS NULL THEN 0 ELSE 1 END AS replies,
           0 AS likes, 0 AS messages, 0 AS reads
      FROM comments AS c WHERE c.created_at >= :a AND c.created_at < :b AND {COUNTED_COMMENT}
    UNION ALL
    SELECT c.drive_id, c.item_id, l.person_id, 0, 0, 1, 0, 0
      FROM comment_likes AS l JOIN comments AS c ON c.id = l.comment_id
     WHERE l.created_at >= :a AND l.created_at < :b AND {COUNTED_COMMENT}
    UNION ALL
    SELECT drive_id, item_id, person_id, 0, 0, 1, 0, 0 FROM document_likes
     WHERE created_at >= :a AND created_at < :b"""


# (id, drive_id, item_id, author_id, created_at, first_reply_at) of the counted threads
# started on the day [:a, :b), with their first counted reply by someone else (insights).
DAY_THREADS_SQL = f"""
    SELECT c.id, c.drive_id, c.item_id, c.author_id, c.created_at,
           (SELECT min(r.created_at) FROM comments AS r
             WHERE r.parent_id = c.id AND r.author_id != c.author_id
               AND r.deleted_at IS NULL AND r.hidden_at IS NULL) AS first_reply_at
      FROM comments AS c
     WHERE c.created_at >= :a AND c.created_at < :b AND c.parent_id IS NULL
       AND {COUNTED_COMMENT}"""
