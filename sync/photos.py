"""Profile photos: fetched when a person's photo changed, kept in `photos` beside them.

The users round's profile batch already asks Graph for each changed user's photo metadata,
whose @odata.mediaEtag lands in people.photo_etag. Here, after the round, the people whose
stored photo is missing or older than that etag get theirs in $batch calls (a hundred people
a transaction, so a long first sync commits as it goes), and the photos of people who no
longer have one, or are gone, are dropped.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import sqlite_utils

from sync.db import transaction
from sync.source import Connector

CHUNK = 100
STALE = """
SELECT p.id, p.photo_etag FROM people p LEFT JOIN photos ph ON ph.person_id = p.id
WHERE p.deleted = 0 AND p.has_photo = 1 AND p.photo_etag IS NOT NULL
  AND (ph.etag IS NULL OR ph.etag != p.photo_etag)
ORDER BY p.id
"""
GONE = """
DELETE FROM photos WHERE person_id IN (
    SELECT id FROM people WHERE deleted = 1 OR has_photo = 0
) OR person_id NOT IN (SELECT id FROM people)
"""
SAVE = """
INSERT INTO photos (person_id, etag, content_type, data, fetched_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (person_id) DO UPDATE SET etag = excluded.etag,
    content_type = excluded.content_type, data = excluded.data, fetched_at = excluded.fetched_at
"""


def refresh_photos(db: sqlite_utils.Database, connector: Connector) -> int:
    """Fetches every changed photo; the number fetched."""
    stale = db.execute(STALE).fetchall()
    with transaction(db) as conn:
        conn.execute(GONE)
    fetched = 0
    for start in range(0, len(stale), CHUNK):
        chunk = dict(stale[start : start + CHUNK])
        found = connector.photos(list(chunk))
        with transaction(db) as conn:
            fetched += _save(conn, chunk, found)
    return fetched


def _save(conn: sqlite3.Connection, etags: dict[str, str], found: dict) -> int:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    saved = 0
    for person_id, photo in found.items():
        if photo is None:  # gone since the profile batch looked
            conn.execute("DELETE FROM photos WHERE person_id = ?", [person_id])
            continue
        content_type, data = photo
        conn.execute(SAVE, [person_id, etags[person_id], content_type, data, now])
        saved += 1
    return saved
