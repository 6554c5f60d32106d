"""The SQL of `person_locales` in overlay.db (migration m014_locale): the language each person
chose in their settings. No other module touches the table."""

from __future__ import annotations

import sqlite3

from overlay_app.db import SocialConn


def locale_of(conn: SocialConn, person_id: str) -> str | None:
    """The language the person chose ("en", "nl"), or None: then their browser's decides."""
    row = conn.execute(
        "SELECT locale FROM person_locales WHERE person_id = ?", [person_id]
    ).fetchone()
    return row[0] if row else None


def set_locale(conn: sqlite3.Connection, person_id: str, locale: str | None, at: str) -> None:
    """Save the person's choice; None forgets it (the browser's language decides again)."""
    if locale is None:
        conn.execute("DELETE FROM person_locales WHERE person_id = ?", [person_id])
        return
    conn.execute(
        "INSERT INTO person_locales (person_id, locale, set_at) VALUES (?, ?, ?)"
        " ON CONFLICT (person_id) DO UPDATE SET locale = excluded.locale, set_at = excluded.set_at",
        [person_id, locale, at],
    )


def erase_person(conn: sqlite3.Connection, person_id: str) -> None:
    """Forget the person's choice (admin/data_requests.py's erasure)."""
    conn.execute("DELETE FROM person_locales WHERE person_id = ?", [person_id])
