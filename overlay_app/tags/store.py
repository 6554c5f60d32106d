"""The SQL of the `tags` table in overlay.db (a row: a tag on a document, who added it and
when). No other module touches it.

Nothing here decides who may see what: callers pass documents that access let through, or trim
what comes back (a tag's documents, search candidates, the documents counted for suggestions).
Each function takes the connection to run on (a write's transaction, or `db.social()` for a
read) and returns plain values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from overlay_app.db import SocialConn

Key = tuple[str, str]  # (drive_id, item_id)
Entry = tuple[str, str, str]  # (tag, added_by, added_at)

# The most used tags among documents given as a JSON array of [drive_id, item_id] pairs.
RANKING_SQL = """
    SELECT tag FROM tags WHERE (drive_id, item_id) IN
        (SELECT value ->> 0, value ->> 1 FROM json_each(:keys))
    GROUP BY tag ORDER BY count(*) DESC, tag LIMIT :limit"""

# count(*) alone is a b-tree count, and the newest row a single lookup; combined into one
# aggregate they would scan the table.
TAGS_STATE_SQL = """
    SELECT (SELECT count(*) FROM tags), rowid, added_at
    FROM tags ORDER BY rowid DESC LIMIT 1"""

# This store's part of access.INTERACTED_AMONG_SQL: among the keys in the CTE `wanted`, the
# documents :person tagged.
INTERACTED_SQL = """
    SELECT drive_id, item_id FROM tags
    WHERE added_by = :person AND (drive_id, item_id) IN (SELECT * FROM wanted)"""


def _keys_json(keys: Iterable[Key]) -> str:
    return json.dumps([list(key) for key in keys])


# -- reads ---------------------------------------------------------------------------------------


def tags_of(conn: SocialConn, drive_id: str, item_id: str) -> list[str]:
    """The document's tags, alphabetically."""
    rows = conn.execute(
        "SELECT tag FROM tags WHERE drive_id = ? AND item_id = ? ORDER BY tag",
        [drive_id, item_id],
    )
    return [tag for (tag,) in rows]


def entries_of(conn: SocialConn, drive_id: str, item_id: str) -> list[Entry]:
    """The document's tags with who added them and when, alphabetically."""
    rows = conn.execute(
        "SELECT tag, added_by, added_at FROM tags WHERE drive_id = ? AND item_id = ? ORDER BY tag",
        [drive_id, item_id],
    )
    return rows.fetchall()


def tags_on(conn: SocialConn, keys: list[Key]) -> dict[Key, list[str]]:
    """The tags of each of the documents, alphabetically (documents without any left out)."""
    rows = conn.execute(
        """SELECT drive_id, item_id, tag FROM tags WHERE (drive_id, item_id) IN
           (SELECT value ->> 0, value ->> 1 FROM json_each(?)) ORDER BY tag""",
        [_keys_json(keys)],
    )
    found: dict[Key, list[str]] = {}
    for drive_id, item_id, tag in rows:
        found.setdefault((drive_id, item_id), []).append(tag)
    return found


def tagged_keys(conn: SocialConn, tag: str) -> list[Key]:
    """Every document carrying `tag`."""
    rows = conn.execute("SELECT drive_id, item_id FROM tags WHERE tag = ?", [tag])
    return [(d, i) for d, i in rows]


def tagged_documents(conn: SocialConn) -> list[Key]:
    """Every document carrying any tag."""
    return [(d, i) for d, i in conn.execute("SELECT DISTINCT drive_id, item_id FROM tags")]


def most_used(conn: SocialConn, keys: Iterable[Key], limit: int) -> list[str]:
    """The `limit` tags most used on these documents, ties alphabetically."""
    rows = conn.execute(RANKING_SQL, {"keys": _keys_json(keys), "limit": limit})
    return [tag for (tag,) in rows]


def state(conn: SocialConn) -> tuple[Any, ...]:
    """The row count, the newest rowid and that row's added_at (empty for no tags): what
    changes whenever a tag is added or removed (tags.suggestions says why)."""
    return tuple(conn.execute(TAGS_STATE_SQL).fetchone() or ())


def matching(conn: SocialConn, words: list[str], whole: str) -> list[tuple[str, str, str]]:
    """(drive_id, item_id, tag) of tags equal to one of `words` or starting with `whole`."""
    rows = conn.execute(
        """SELECT drive_id, item_id, tag FROM tags
           WHERE tag IN (SELECT value FROM json_each(?)) OR substr(tag, 1, ?) = ?""",
        [json.dumps(words), len(whole), whole],
    )
    return rows.fetchall()


# -- writes --------------------------------------------------------------------------------------


def add(conn: SocialConn, drive_id: str, item_id: str, tag: str, person_id: str, at: str) -> bool:
    """Tags the document unless it already carries the tag; whether a row was added."""
    cursor = conn.execute(
        "INSERT INTO tags (drive_id, item_id, tag, added_by, added_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [drive_id, item_id, tag, person_id, at],
    )
    return cursor.rowcount == 1


def entry(conn: SocialConn, drive_id: str, item_id: str, tag: str) -> Entry | None:
    """The tag's row on the document: (tag, added_by, added_at), or None."""
    row = conn.execute(
        "SELECT tag, added_by, added_at FROM tags WHERE drive_id = ? AND item_id = ? AND tag = ?",
        [drive_id, item_id, tag],
    ).fetchone()
    return None if row is None else tuple(row)


def remove(conn: SocialConn, drive_id: str, item_id: str, tag: str) -> bool:
    """Takes the tag off the document; whether it was there."""
    cursor = conn.execute(
        "DELETE FROM tags WHERE drive_id = ? AND item_id = ? AND tag = ?",
        [drive_id, item_id, tag],
    )
    return cursor.rowcount == 1


def export_person(conn: SocialConn, person_id: str) -> list[tuple]:
    """(drive_id, item_id, tag, added_at) of the tags the person added (data requests)."""
    return conn.execute(
        "SELECT drive_id, item_id, tag, added_at FROM tags WHERE added_by = ? ORDER BY added_at",
        [person_id],
    ).fetchall()


def erase_person(conn: SocialConn, person_id: str, erased: str) -> None:
    """The tags stay on their documents; who added them is forgotten."""
    conn.execute("UPDATE tags SET added_by = ? WHERE added_by = ?", [erased, person_id])


def tag_totals(conn: SocialConn) -> dict[Key, tuple[list[str], str]]:
    """Every tagged document's tags (alphabetically) and when the newest was added. Untrimmed:
    for write-back (overlay_app/writeback)."""
    found: dict[Key, tuple[list[str], str]] = {}
    rows = conn.execute("SELECT drive_id, item_id, tag, added_at FROM tags ORDER BY tag")
    for drive_id, item_id, tag, added_at in rows:
        tags, newest = found.get((drive_id, item_id), ([], ""))
        tags.append(tag)
        found[(drive_id, item_id)] = (tags, max(newest, added_at))
    return found
