"""What tests read straight from an app's own databases, to hold an API answer against: rows of
the social database, people and document titles from the synced index, the event log."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from flask import Flask

from overlay_app import db
from overlay_app.pg import conn as pg_conn


def rows(app: Flask, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """The rows of a query on the app's social database (comments, likes, chat, events...)."""
    with app.app_context():
        return [tuple(row) for row in db.social().execute(sql, params or [])]


def committed_rows(app: Flask, sql: str, params: list[Any] | None = None) -> list[tuple]:
    """The rows of a query on the app's social database as another process reads them: on a
    connection of its own (overlay.db, or the PostgreSQL database of PLAZA_DATABASE_URL)."""
    settings = app.extensions["plaza.settings"]
    if settings.database_url:
        handle = pg_conn.connect(settings.database_url)
        try:
            return [tuple(row) for row in handle.execute(sql, params or [])]
        finally:
            handle.close()
    conn = sqlite3.connect(settings.social_path)
    try:
        return [tuple(row) for row in conn.execute(sql, params or [])]
    finally:
        conn.close()


def id_and_name(app: Flask, upn: str) -> tuple[str, str]:
    """(object id, display name) of a person, from the app's index."""
    with app.app_context():
        return tuple(
            db.index()
            .execute("SELECT id, display_name FROM people WHERE upn = ? COLLATE NOCASE", [upn])
            .fetchone()
        )


def who(app: Flask, upn: str) -> dict[str, str]:
    """A person as the API shows them: {"id", "displayName"}."""
    person_id, name = id_and_name(app, upn)
    return {"id": person_id, "displayName": name}


def title_of(app: Flask, document: tuple[str, str]) -> str:
    """A document's name, from the app's index."""
    with app.app_context():
        return (
            db.index()
            .execute("SELECT name FROM items WHERE drive_id = ? AND item_id = ?", list(document))
            .fetchone()[0]
        )


def events(app: Flask, after: int = 0) -> list[tuple]:
    """(kind, room_id, person_id, payload) of the event log after an id, oldest first."""
    found = rows(
        app,
        "SELECT kind, room_id, person_id, payload FROM events WHERE id > ? ORDER BY id",
        [after],
    )
    return [(kind, room, person, json.loads(payload)) for kind, room, person, payload in found]


def last_event_id(app: Flask) -> int:
    """The id of the newest event in the log (0 when it is empty): `events(app, after=...)`
    then shows what the next step appends."""
    return rows(app, "SELECT coalesce(max(id), 0) FROM events")[0][0]
