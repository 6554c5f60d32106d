"""The SQL of a document's discussion in overlay.db: `comments` (and its full-text index
`comments_fts`), `comment_likes`, `document_likes` and `mentions`. No other module touches
these tables but its three siblings, by reader: store_search (search), store_insights
(insights) and store_writeback (write-back).

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
from overlay_app.times import now_stamp

Key = tuple[str, str]  # (drive_id, item_id)

# A comment a moderator hid (admin/moderation.py) leaves every surface: this predicate keeps
# it out; prefix the table's alias where there is one (e.g. "c." + SHOWN). Every read here
# applies it, and other features' queries over `comments` (feeds) must too. Where a hidden
# comment keeps its place (a thread, for its replies), it reads as deleted: no words.
SHOWN = "hidden_at IS NULL"

# The hot queries, as constants so that tests can check their plans (comments_by_document).
COMMENTS_SQL = """
    SELECT id, parent_id, author_id,
           CASE WHEN hidden_at IS NULL THEN body ELSE '' END,
           CASE WHEN hidden_at IS NULL THEN body_html ELSE '' END, created_at, edited_at,
           deleted_at IS NOT NULL OR hidden_at IS NOT NULL
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

# Both of the above in one statement (a page shows both): a document like has no comment_id.
ALL_LIKES_SQL = """
    SELECT l.comment_id, l.person_id, l.created_at
    FROM comments AS c JOIN comment_likes AS l ON l.comment_id = c.id
    WHERE c.drive_id = :drive_id AND c.item_id = :item_id
    UNION ALL
    SELECT NULL, person_id, created_at FROM document_likes
    WHERE drive_id = :drive_id AND item_id = :item_id
    ORDER BY 3, 2"""

COUNTS_SQL = """
    SELECT drive_id, item_id, count(*) FILTER (WHERE kind = 'c'),
           count(*) FILTER (WHERE kind = 'l') FROM (
        SELECT drive_id, item_id, 'c' AS kind FROM comments
        WHERE deleted_at IS NULL AND hidden_at IS NULL AND (drive_id, item_id) IN
            (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
        UNION ALL
        SELECT drive_id, item_id, 'l' FROM document_likes
        WHERE (drive_id, item_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
    ) AS counted GROUP BY drive_id, item_id"""

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
    """The comment's row by column name (deleted ones too), or None. A hidden comment reads
    as deleted (no words), so that no write or read path shows or revives it."""
    found = comment_for_moderation(conn, comment_id)
    if found is not None and found["hidden_at"]:
        found.update(body="", body_html="", deleted_at=found["deleted_at"] or found["hidden_at"])
    return found


def comment_for_moderation(conn: SocialConn, comment_id: str) -> dict[str, Any] | None:
    """The comment's row as stored, hidden words included: for moderators only."""
    cursor = conn.execute("SELECT * FROM comments WHERE id = ?", [comment_id])
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([c[0] for c in cursor.description], found, strict=True))


def set_hidden(conn: sqlite3.Connection, comment_id: str, at: str | None) -> None:
    """Hides the comment from every surface (at = when), or shows it again (None)."""
    conn.execute("UPDATE comments SET hidden_at = ? WHERE id = ?", [at, comment_id])


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
        f"SELECT id, body FROM comments WHERE deleted_at IS NULL AND {SHOWN}"
        " AND id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(comment_ids))],
    )
    return dict(rows)


def discussed_by(conn: SocialConn, author_id: str) -> list[tuple[str, str, int, str]]:
    """(drive_id, item_id, live comments, latest comment's time) of every document the person
    commented on, latest first. Untrimmed."""
    return conn.execute(
        f"""SELECT drive_id, item_id, count(*), max(created_at) FROM comments
           WHERE author_id = ? AND deleted_at IS NULL AND {SHOWN}
           GROUP BY drive_id, item_id ORDER BY max(created_at) DESC, drive_id, item_id""",
        [author_id],
    ).fetchall()


def newest_comments(conn: SocialConn, before: int, limit: int) -> list[tuple]:
    """(rowid, drive_id, item_id, author_id, body, created_at) of the newest live comments
    with rowid below `before`, newest first (rowids follow writing order). Untrimmed."""
    return conn.execute(
        f"""SELECT rowid, drive_id, item_id, author_id, body, created_at FROM comments
           WHERE rowid < ? AND deleted_at IS NULL AND {SHOWN} ORDER BY rowid DESC LIMIT ?""",
        [before, limit],
    ).fetchall()


def counts_by_document(conn: SocialConn, keys: list[Key]) -> list[tuple[str, str, int, int]]:
    """(drive_id, item_id, live comments, document likes) of the documents that have any."""
    return conn.execute(COUNTS_SQL, {"keys": json.dumps([list(key) for key in keys])}).fetchall()


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
    if not person_ids:  # most comments mention nobody: no statement (a round trip on PostgreSQL)
        return
    conn.executemany(
        "INSERT INTO mentions (comment_id, person_id) VALUES (?, ?)",
        [(comment_id, person_id) for person_id in person_ids],
    )


# --- likes --------------------------------------------------------------------------------------


def document_comment_likes(conn: SocialConn, drive_id: str, item_id: str) -> list[tuple[str, str]]:
    """(comment_id, person_id) of every like on the document's comments, earliest first."""
    params = {"drive_id": drive_id, "item_id": item_id}
    return conn.execute(COMMENT_LIKES_SQL, params).fetchall()


def every_like(
    conn: SocialConn, drive_id: str, item_id: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """`document_comment_likes` and `document_likers` together, in one statement."""
    on_comments: list[tuple[str, str]] = []
    on_document: list[str] = []
    for comment_id, person_id, _ in conn.execute(
        ALL_LIKES_SQL, {"drive_id": drive_id, "item_id": item_id}
    ):
        if comment_id is None:
            on_document.append(person_id)
        else:
            on_comments.append((comment_id, person_id))
    return on_comments, on_document


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


def like_document(conn: sqlite3.Connection, key: Key, person_id: str, at: str) -> bool:
    """Idempotent: a second like is no second row (False)."""
    cursor = conn.execute(
        "INSERT INTO document_likes (drive_id, item_id, person_id, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [*key, person_id, at],
    )
    return cursor.rowcount > 0


def unlike_document(conn: sqlite3.Connection, key: Key, person_id: str) -> None:
    conn.execute(
        "DELETE FROM document_likes WHERE drive_id = ? AND item_id = ? AND person_id = ?",
        [*key, person_id],
    )


def like_comment(conn: sqlite3.Connection, comment_id: str, person_id: str, at: str) -> bool:
    """Whether the like is new (a second like of the same comment changes nothing)."""
    return bool(
        conn.execute(
            "INSERT INTO comment_likes (comment_id, person_id, created_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [comment_id, person_id, at],
        ).rowcount
    )


def unlike_comment(conn: sqlite3.Connection, comment_id: str, person_id: str) -> None:
    conn.execute(
        "DELETE FROM comment_likes WHERE comment_id = ? AND person_id = ?",
        [comment_id, person_id],
    )


# --- data requests (admin/data_requests.py) ---------------------------------------------------


def rows_of(conn: SocialConn, sql: str, params: list) -> list[dict[str, Any]]:
    """Rows as dicts by column name."""
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def export_person(conn: SocialConn, person_id: str) -> dict[str, list[dict[str, Any]]]:
    """Everything of the person's in these tables: comments (as stored), likes, mentions."""
    return {
        "comments": rows_of(conn, "SELECT id, drive_id, item_id, parent_id, body, created_at,"
                            " edited_at, deleted_at, hidden_at FROM comments WHERE author_id = ?"
                            " ORDER BY created_at", [person_id]),
        "commentLikes": rows_of(conn, "SELECT comment_id, created_at FROM comment_likes"
                                " WHERE person_id = ? ORDER BY created_at", [person_id]),
        "documentLikes": rows_of(conn, "SELECT drive_id, item_id, created_at FROM document_likes"
                                 " WHERE person_id = ? ORDER BY created_at", [person_id]),
        "mentionedIn": rows_of(conn, "SELECT comment_id FROM mentions WHERE person_id = ?",
                               [person_id]),
    }  # fmt: skip


def erase_person(conn: sqlite3.Connection, person_id: str, erased: str, remove: bool) -> int:
    """The person's comments pass to `erased` (their words too, unless `remove`: then the words
    go, and the rows keep their place for the replies); their likes and mentions go. How many
    comments were theirs."""
    if remove:
        conn.execute("UPDATE comments SET body = '', body_html = '', deleted_at ="
                     " coalesce(deleted_at, ?) WHERE author_id = ?",
                     [now_stamp(), person_id])  # fmt: skip
    count = conn.execute(
        "UPDATE comments SET author_id = ? WHERE author_id = ?", [erased, person_id]
    ).rowcount
    for table in ("comment_likes", "document_likes", "mentions"):
        conn.execute(f"DELETE FROM {table} WHERE person_id = ?", [person_id])
    return count


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


def latest_document_like(conn: SocialConn, drive_id: str, item_id: str) -> tuple | None:
    """(person_id, created_at) of the document's newest like, or None."""
    return conn.execute(
        "SELECT person_id, created_at FROM document_likes WHERE drive_id = ? AND item_id = ?"
        " ORDER BY created_at DESC, person_id DESC LIMIT 1",
        [drive_id, item_id],
    ).fetchone()


def latest_live_comment(conn: SocialConn, drive_id: str, item_id: str) -> tuple | None:
    """(id, author_id, created_at) of the document's newest live comment, or None."""
    return conn.execute(
        "SELECT id, author_id, created_at FROM comments"
        f" WHERE drive_id = ? AND item_id = ? AND deleted_at IS NULL AND {SHOWN}"
        " ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [drive_id, item_id],
    ).fetchone()
