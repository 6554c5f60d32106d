"""The discussion's SQL that write-back reads (overlay_app/writeback): per document, the totals
it writes to SharePoint's columns, from the tables of discussion.store.
"""

from __future__ import annotations

from overlay_app.db import SocialConn

# Per document with any comment or like: live comments, the newest live comment's time, the
# newest activity of any kind (a comment written, edited or deleted, a like) and likes.
DISCUSSION_TOTALS_SQL = """
    SELECT drive_id, item_id, CAST(sum(live) AS BIGINT), max(last_comment), max(activity),
           CAST(sum(likes) AS BIGINT) FROM (
        SELECT drive_id, item_id,
               count(*) FILTER (WHERE deleted_at IS NULL AND hidden_at IS NULL) AS live,
               max(CASE WHEN deleted_at IS NULL AND hidden_at IS NULL THEN created_at END)
                   AS last_comment,
               max(CASE  -- the latest of the three times (SQLite's max(a, b, c))
                   WHEN created_at >= coalesce(edited_at, '')
                    AND created_at >= coalesce(deleted_at, '') THEN created_at
                   WHEN coalesce(edited_at, '') >= coalesce(deleted_at, '') THEN edited_at
                   ELSE deleted_at END) AS activity,
               0 AS likes
        FROM comments GROUP BY drive_id, item_id
        UNION ALL
        SELECT drive_id, item_id, 0, NULL, max(created_at), count(*)
        FROM document_likes GROUP BY drive_id, item_id
    ) AS totals GROUP BY drive_id, item_id"""


def discussion_totals(conn: SocialConn) -> list[tuple[str, str, int, str | None, str, int]]:
    """(drive_id, item_id, live comments, newest live comment's time, newest activity, likes)
    of every document with a comment (deleted ones too) or a like. Untrimmed: for write-back,
    which writes the total discussion where whoever sees the file sees it."""
    return conn.execute(DISCUSSION_TOTALS_SQL).fetchall()
