"""The discussion's SQL that search reads (overlay_app/search): comments matching the words
(SQLite's FTS5 index `comments_fts`, PostgreSQL's full-text search), their bodies and their
snippets. Untrimmed: search keeps only the documents the person may open.
"""

from __future__ import annotations

import json

from overlay_app import search_sql
from overlay_app.db import SocialConn
from overlay_app.dialect import is_postgres
from overlay_app.discussion.store import SHOWN


def matching_comments(conn: SocialConn, match: str) -> list[tuple[str, str, int]]:
    """(drive_id, item_id, comment rowid) of every live comment matching the FTS5 expression.
    Untrimmed, and unscored: search scores each row by its own text (bodies_by_rowid)."""
    if is_postgres(conn):
        return conn.execute(
            f"""SELECT c.drive_id, c.item_id, c.rowid FROM comments AS c
               WHERE {search_sql.matches("c.body", "?")} AND c.deleted_at IS NULL
                 AND c.{SHOWN}""",
            [search_sql.tsquery_text(match)],
        ).fetchall()
    return conn.execute(
        f"""SELECT c.drive_id, c.item_id, c.rowid
           FROM comments_fts JOIN comments AS c ON c.rowid = comments_fts.rowid
           WHERE comments_fts MATCH ? AND c.deleted_at IS NULL AND c.{SHOWN}""",
        [match],
    ).fetchall()


def bodies_by_rowid(conn: SocialConn, rowids: list[int]) -> dict[int, str]:
    """The Markdown of those comments, by rowid."""
    rows = conn.execute(
        "SELECT rowid, body FROM comments"
        " WHERE rowid IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
        [json.dumps(rowids)],
    )
    return dict(rows)


def comment_snippets(
    conn: SocialConn, rowids: list[int], match: str, open_mark: str, close_mark: str
) -> list[tuple[int, str]]:
    """(rowid, snippet) of those comments, matches between open_mark and close_mark."""
    if is_postgres(conn):
        return _pg_comment_snippets(conn, rowids, match, open_mark, close_mark)
    return conn.execute(
        f"""SELECT rowid, snippet(comments_fts, 0, ?, ?, '…', 16) FROM comments_fts
            WHERE comments_fts MATCH ? AND rowid IN ({",".join("?" * len(rowids))})""",
        [open_mark, close_mark, match, *rowids],
    ).fetchall()


def _pg_comment_snippets(
    conn: SocialConn, rowids: list[int], match: str, open_mark: str, close_mark: str
) -> list[tuple[int, str]]:
    query = search_sql.tsquery_text(match)
    rows = conn.execute(
        f"""SELECT rowid, {search_sql.marked_all("body", "?", "?")} FROM comments
            WHERE {search_sql.matches("body", "?")}
              AND rowid IN (SELECT CAST(value AS BIGINT) FROM json_each(?))""",
        [query, search_sql.headline_options(open_mark, close_mark), query, json.dumps(rowids)],
    ).fetchall()
    return [(rowid, search_sql.snippet(text, open_mark, close_mark)) for rowid, text in rows]
