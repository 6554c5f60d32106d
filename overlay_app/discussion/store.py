"""The SQL of a document's discussion in overlay.db: `comments` (and its full-text index
`comments_fts`), `comment_likes`, `document_likes` and `mentions`. No other module touches
these tables.

Nothing here decides who may see what: callers pass documents and comments that access let
through, or trim what comes back (search candidates, a profile's documents). Each function
takes the connection to run on (writes: the transaction's; reads: `db.SocialConn`, that or
`db.social()`) and returns rows as plain tuples, ids or dicts.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from overlay_app.db import SocialConn

Key = tuple[str, str]  # (drive_id, item_id)

# The hot queries, as constants so that tests can check their plans (comments_by_document).
COMMENTS_SQL = """
    SELECT id, parent_id, author_id, body, body_html, created_at, edited_at,
           deleted_at IS NOT NULL
    FROM comments
    WHERE drive_id = :drive_id AND item_id = :item_id
    ORDER BY created_at, rowid"""

# Every like on the document's comments in one query (comments_by_document, then the pk).
COMMENT_LIKES_SQL = """
    SELECT l.comment_id, l.person_id
    FROM comments AS c JOIN comment_likes AS l ON l.comment_id = c.id
    WHERE c.drive_id = :drive_id AND c.item_id = :item_id
    ORDER BY l.created_at, l.person_id"""

DOCUMENT_LIKES_SQL = """
    SELECT person_id FROM document_likes
    WHERE drive_id = :drive_id AND item_id = :item_id
    ORDER BY created_at, person_id"""

COUNTS_SQL = """
    SELECT drive_id, item_id, sum(kind = 'c'), sum(kind = 'l') FROM (
        SELECT drive_id, item_id, 'c' AS kind FROM comments
        WHERE deleted_at IS NULL AND (drive_id, item_id) IN
            (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
        UNION ALL
        SELECT drive_id, item_id, 'l' FROM document_likes
        WHERE (drive_id, item_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
    ) GROUP BY drive_id, item_id"""

# This store's part of access.INTERACTED_AMONG_SQL (one query over every social table): among
# the keys in the CTE `wanted`, the documents :person commented on, liked (the document or one
# of its comments) or was mentioned on. Deleted comments count: they were interactions.
INTERACTED_SQL = """
    SELECT c.drive_id, c.item_id FROM wanted AS w
    JOIN comments AS c ON c.drive_id = w.drive_id AND c.item_id = w.item_id
    WHERE c.author_id = :person
       OR EXISTS (SELECT 1 FROM comment_likes AS l
                  WHERE l.comment_id = c.id AND l.person_id = :person)
       OR EXISTS (SELECT 1 FROM mentions AS m WHERE m.comment_id = c.id AND m.person_id = :person)
    UNION
    SELECT drive_id, item_id FROM document_likes
    WHERE person_id = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)"""


# --- comments -----------------------------------------------------------------------------------


def comment_by_id(conn: SocialConn, comment_id: str) -> dict[str, Any] | None:
    """The comment's row by column name (deleted ones too), or None."""
    cursor = conn.execute("SELECT * FROM comments WHERE id = ?", [comment_id])
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([c[0] for c in cursor.description], found, strict=True))


def parent_on_document(
    conn: SocialConn, comment_id: str, drive_id: str, item_id: str
) -> tuple[str, str | None] | None:
    """(author_id, deleted_at) of a comment on that document, or None if it is not one."""
    return conn.execute(
        "SELECT author_id, deleted_at FROM comments WHERE id = ? AND drive_id = ? AND item_id = ?",
        [comment_id, drive_id, item_id],
    ).fetchone()


def document_comments(conn: SocialConn, drive_id: str, item_id: str) -> list[tuple]:
    """Every comment of the document, oldest first: (id, parent_id, author_id, body, body_html,
    created_at, edited_at, deleted)."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return conn.execute(COMMENTS_SQL, params).fetchall()


def live_bodies(conn: SocialConn, comment_ids: set[str]) -> dict[str, str]:
    """The Markdown of those comments that are not deleted, by id."""
    rows = conn.execute(
        "SELECT id, body FROM comments WHERE deleted_at IS NULL"
        " AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(comment_ids))],
    )
    return dict(rows)


def discussed_by(conn: SocialConn, author_id: str) -> list[tuple[str, str, int, str]]:
    """(drive_id, item_id, live comments, latest comment's time) of every document the person
    commented on, latest first. Untrimmed."""
    return conn.execute(
        """SELECT drive_id, item_id, count(*), max(created_at) FROM comments
           WHERE author_id = ? AND deleted_at IS NULL
           GROUP BY drive_id, item_id ORDER BY max(created_at) DESC, drive_id, item_id""",
        [author_id],
    ).fetchall()


def counts_by_document(conn: SocialConn, keys: list[Key]) -> list[tuple[str, str, int, int]]:
    """(drive_id, item_id, live comments, document likes) of the documents that have any."""
    return conn.execute(COUNTS_SQL, {"keys": json.dumps([list(key) for key in keys])}).fetchall()


def matching_comments(conn: SocialConn, match: str) -> list[tuple[str, str, int]]:
    """(drive_id, item_id, comment rowid) of every live comment matching the FTS5 expression.
    Untrimmed, and unscored: search scores each row by its own text (bodies_by_rowid)."""
    return conn.execute(
        """SELECT c.drive_id, c.item_id, c.rowid
           FROM comments_fts JOIN comments AS c ON c.rowid = comments_fts.rowid
           WHERE comments_fts MATCH ? AND c.deleted_at IS NULL""",
        [match],
    ).fetchall()


def bodies_by_rowid(conn: SocialConn, rowids: list[int]) -> dict[int, str]:
    """The Markdown of those comments, by rowid."""
    rows = conn.execute(
        "SELECT rowid, body FROM comments WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps(rowids)],
    )
    return dict(rows)


def comment_snippets(
    conn: SocialConn, rowids: list[int], match: str, open_mark: str, close_mark: str
) -> list[tuple[int, str]]:
    """(rowid, snippet) of those comments, matches between open_mark and close_mark."""
    return conn.execute(
        f"""SELECT rowid, snippet(comments_fts, 0, ?, ?, '…', 16) FROM comments_fts
            WHERE comments_fts MATCH ? AND rowid IN ({",".join("?" * len(rowids))})""",
        [open_mark, close_mark, match, *rowids],
    ).fetchall()


def insert_comment(
    conn: sqlite3.Connection,
    comment_id: str,
    key: Key,
    parent_id: str | None,
    author_id: str,
    text: tuple[str, str],
    at: str,
) -> None:
    """A new comment on the document `key`; `text` is (Markdown, its safe HTML)."""
    conn.execute(
        "INSERT INTO comments (id, drive_id, item_id, parent_id, author_id, body, body_html,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [comment_id, *key, parent_id, author_id, *text, at],
    )


def update_text(
    conn: sqlite3.Connection, comment_id: str, body: str, body_html: str, at: str
) -> None:
    conn.execute(
        "UPDATE comments SET body = ?, body_html = ?, edited_at = ? WHERE id = ?",
        [body, body_html, at, comment_id],
    )


def delete_softly(conn: sqlite3.Connection, comment_id: str, at: str) -> None:
    """The row stays (replies hang from it); its words, mentions and likes go."""
    conn.execute(
        "UPDATE comments SET body = '', body_html = '', deleted_at = ? WHERE id = ?",
        [at, comment_id],
    )
    conn.execute("DELETE FROM mentions WHERE comment_id = ?", [comment_id])
    conn.execute("DELETE FROM comment_likes WHERE comment_id = ?", [comment_id])


# --- mentions -----------------------------------------------------------------------------------


def mentioned_in(conn: SocialConn, comment_id: str) -> set[str]:
    """The people the comment mentions now."""
    rows = conn.execute("SELECT person_id FROM mentions WHERE comment_id = ?", [comment_id])
    return {person_id for (person_id,) in rows}


def set_mentions(conn: sqlite3.Connection, comment_id: str, person_ids: list[str]) -> None:
    """The edited comment now mentions exactly these people."""
    conn.execute("DELETE FROM mentions WHERE comment_id = ?", [comment_id])
    add_mentions(conn, comment_id, person_ids)


def add_mentions(conn: sqlite3.Connection, comment_id: str, person_ids: list[str]) -> None:
    conn.executemany(
        "INSERT INTO mentions (comment_id, person_id) VALUES (?, ?)",
        [(comment_id, person_id) for person_id in person_ids],
    )


# --- likes --------------------------------------------------------------------------------------


def document_comment_likes(conn: SocialConn, drive_id: str, item_id: str) -> list[tuple[str, str]]:
    """(comment_id, person_id) of every like on the document's comments, earliest first."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return conn.execute(COMMENT_LIKES_SQL, params).fetchall()


def document_likers(conn: SocialConn, drive_id: str, item_id: str) -> list[str]:
    """Who liked the document, earliest like first."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return [person_id for (person_id,) in conn.execute(DOCUMENT_LIKES_SQL, params)]


def comment_likers(conn: SocialConn, comment_id: str) -> list[str]:
    """Who liked the comment, earliest like first."""
    rows = conn.execute(
        "SELECT person_id FROM comment_likes WHERE comment_id = ? ORDER BY created_at, person_id",
        [comment_id],
    )
    return [person_id for (person_id,) in rows]


def like_document(conn: sqlite3.Connection, key: Key, person_id: str, at: str) -> None:
    """Idempotent: a second like is no second row."""
    conn.execute(
        "INSERT OR IGNORE INTO document_likes (drive_id, item_id, person_id, created_at)"
        " VALUES (?, ?, ?, ?)",
        [*key, person_id, at],
    )


def unlike_document(conn: sqlite3.Connection, key: Key, person_id: str) -> None:
    conn.execute(
        "DELETE FROM document_likes WHERE drive_id = ? AND item_id = ? AND person_id = ?",
        [*key, person_id],
    )


def like_comment(conn: sqlite3.Connection, comment_id: str, person_id: str, at: str) -> bool:
    """Whether the like is new (a second like of the same comment changes nothing)."""
    return bool(
        conn.execute(
            "INSERT OR IGNORE INTO comment_likes (comment_id, person_id, created_at)"
            " VALUES (?, ?, ?)",
            [comment_id, person_id, at],
        ).rowcount
    )


def unlike_comment(conn: sqlite3.Connection, comment_id: str, person_id: str) -> None:
    conn.execute(
        "DELETE FROM comment_likes WHERE comment_id = ? AND person_id = ?",
        [comment_id, person_id],
    )


# --- for the feed and notification levels (overlay_app/feed) -------------------------------------


def thread_authors(conn: SocialConn, comment_id: str) -> set[str]:
    """Everyone who wrote a live comment in the thread of `comment_id` (from its top-level
    comment down), the comment's own author included."""
    rows = conn.execute(
        """WITH RECURSIVE up(id, parent_id, depth) AS (
               SELECT id, parent_id, 0 FROM comments WHERE id = :id
               UNION ALL
               SELECT c.id, c.parent_id, up.depth + 1 FROM comments AS c
               JOIN up ON c.id = up.parent_id WHERE up.depth < 64),
           root(id) AS (SELECT id FROM up WHERE parent_id IS NULL),
           down(id, author_id, deleted_at, depth) AS (
               SELECT c.id, c.author_id, c.deleted_at, 0 FROM comments AS c
               WHERE c.id IN (SELECT id FROM root)
               UNION ALL
               SELECT c.id, c.author_id, c.deleted_at, down.depth + 1 FROM comments AS c
               JOIN down ON c.parent_id = down.id WHERE down.depth < 64)
           SELECT DISTINCT author_id FROM down WHERE deleted_at IS NULL""",
        {"id": comment_id},
    )
    return {author_id for (author_id,) in rows}


def latest_live_comment(conn: SocialConn, drive_id: str, item_id: str) -> tuple | None:
    """(id, author_id, created_at) of the document's newest live comment, or None."""
    return conn.execute(
        "SELECT id, author_id, created_at FROM comments"
        " WHERE drive_id = ? AND item_id = ? AND deleted_at IS NULL"
        " ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [drive_id, item_id],
    ).fetchone()
