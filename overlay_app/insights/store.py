"""The SQL of insights' own table in overlay.db, `insights_cache`; no other module touches it.

A row is one computed answer (the network analysis of one set of visible documents, unit
kind, window, threshold and ethical walls), keyed by a hash of the sorted keys of the documents
with activity that a viewer may open: two people whose principal sets open exactly the same
such documents get the same answer (it is computed from those documents alone), and nobody
else can read it. Every principal set holds the person's own id, so keying by the set would
give everyone an answer of their own; keying by what it opens shares them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from overlay_app.db import SocialConn


def visibility_hash(visible: set[tuple[str, str]]) -> str:
    return hashlib.sha256(json.dumps(sorted(visible)).encode()).hexdigest()


def cached(conn: SocialConn, key: str, kind: str, params: str) -> tuple[str, Any] | None:
    """(computed_at, answer) of the cached answer, or None."""
    row = conn.execute(
        "SELECT computed_at, payload FROM insights_cache"
        " WHERE visibility_hash = ? AND kind = ? AND params = ?",
        [key, kind, params],
    ).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def store(
    conn: sqlite3.Connection, key: str, kind: str, params: str, at: str, seconds: float, answer: Any
) -> None:
    conn.execute(
        "INSERT INTO insights_cache"
        " (visibility_hash, kind, params, computed_at, seconds, payload) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (visibility_hash, kind, params) DO UPDATE SET"
        " computed_at = excluded.computed_at, seconds = excluded.seconds,"
        " payload = excluded.payload",
        [key, kind, params, at, seconds, json.dumps(answer)],
    )


def forget_older_than(conn: sqlite3.Connection, at: str) -> int:
    """Drops answers computed before `at` (the nightly run's start): sets nobody holds now."""
    return conn.execute("DELETE FROM insights_cache WHERE computed_at < ?", [at]).rowcount
