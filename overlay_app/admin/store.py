"""The SQL of the admin console's tables in overlay.db (migration m007_admin): `reports`,
`moderation_acts`, `feature_switches`, `terms_versions`, `terms_acceptances`. No other module
touches them. Functions take the connection to run on (a write's transaction, or
`db.social()` for reads) and return tuples, dicts or plain values. Each write of the tables
that every request reads (switches, terms, acceptances erased) announces itself to the other
nodes (admin/held.py).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from overlay_app.admin.held import announce
from overlay_app.db import SocialConn

# -- reports -------------------------------------------------------------------------------------


def add_report(
    conn: sqlite3.Connection, report_id: str, kind: str, target_id: str, reporter_id: str,
    reason: str, at: str,
) -> bool:  # fmt: skip
    """A new open report; False if the reporter already has one open on that target."""
    cursor = conn.execute(
        "INSERT INTO reports (id, kind, target_id, reporter_id, reason, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [report_id, kind, target_id, reporter_id, reason, at],
    )
    return cursor.rowcount == 1


def open_reports(conn: SocialConn) -> list[dict[str, Any]]:
    """Every open report, oldest first."""
    cursor = conn.execute(
        "SELECT id, kind, target_id, reporter_id, reason, created_at FROM reports"
        " WHERE resolved_at IS NULL ORDER BY created_at, id"
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def resolve_reports(
    conn: sqlite3.Connection, kind: str, target_id: str, moderator_id: str, resolution: str,
    at: str,
) -> int:  # fmt: skip
    """Closes the target's open reports; how many there were."""
    return conn.execute(
        "UPDATE reports SET resolved_at = ?, resolved_by = ?, resolution = ?"
        " WHERE kind = ? AND target_id = ? AND resolved_at IS NULL",
        [at, moderator_id, resolution, kind, target_id],
    ).rowcount


def reports_by(conn: SocialConn, reporter_id: str) -> list[tuple]:
    """(kind, target_id, reason, created_at, resolution) of a person's reports (data export)."""
    return conn.execute(
        "SELECT kind, target_id, reason, created_at, resolution FROM reports"
        " WHERE reporter_id = ? ORDER BY created_at",
        [reporter_id],
    ).fetchall()


# -- moderation acts -------------------------------------------------------------------------------


def add_act(
    conn: sqlite3.Connection, kind: str, target_id: str, act: str, reason: str,
    moderator_id: str, author_id: str, at: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO moderation_acts (kind, target_id, act, reason, moderator_id, author_id, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [kind, target_id, act, reason, moderator_id, author_id, at],
    )


def acts_about_author(conn: SocialConn, author_id: str) -> list[tuple[str, str, str, str]]:
    """(kind, act, reason, at) of the acts on the person's words, newest first: what the author
    is told (never who the moderator was)."""
    return conn.execute(
        "SELECT kind, act, reason, at FROM moderation_acts WHERE author_id = ? ORDER BY id DESC",
        [author_id],
    ).fetchall()


# -- feature switches ------------------------------------------------------------------------------


def switches(conn: SocialConn) -> dict[str, bool]:
    """The switches an admin has set (unset ones keep their default)."""
    rows = conn.execute("SELECT name, enabled FROM feature_switches")
    return {name: bool(on) for name, on in rows}


def set_switch(conn: sqlite3.Connection, name: str, enabled: bool, by: str, at: str) -> None:
    conn.execute(
        "INSERT INTO feature_switches (name, enabled, changed_by, changed_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled,"
        " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        [name, int(enabled), by, at],
    )
    announce(conn)


# -- terms of use ----------------------------------------------------------------------------------


def current_terms(conn: SocialConn) -> tuple[int, str, str] | None:
    """(version, body, published_at) of the newest terms, or None before any."""
    return conn.execute(
        "SELECT version, body, published_at FROM terms_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()


def publish_terms(conn: sqlite3.Connection, body: str, by: str, at: str) -> int:
    cursor = conn.execute(
        "INSERT INTO terms_versions (body, published_by, published_at) VALUES (?, ?, ?)"
        " RETURNING version",
        [body, by, at],
    )
    version = int(cursor.fetchone()[0])
    announce(conn)
    return version


def has_accepted(conn: SocialConn, person_id: str) -> bool:
    """Whether the person accepted the newest terms (True before any are published), in one
    statement: every write asks it."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM terms_acceptances AS a"
        " WHERE a.person_id = ? AND a.version = t.version)"
        " FROM terms_versions AS t ORDER BY t.version DESC LIMIT 1",
        [person_id],
    ).fetchone()
    return row is None or bool(row[0])


def accept_terms(conn: sqlite3.Connection, person_id: str, version: int, at: str) -> None:
    conn.execute(
        "INSERT INTO terms_acceptances (person_id, version, accepted_at)"
        " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [person_id, version, at],
    )


def acceptances_of(conn: SocialConn, person_id: str) -> list[tuple[int, str]]:
    return conn.execute(
        "SELECT version, accepted_at FROM terms_acceptances WHERE person_id = ? ORDER BY version",
        [person_id],
    ).fetchall()


# -- data requests -------------------------------------------------------------------------------


def erase_person(conn: sqlite3.Connection, person_id: str, erased: str) -> None:
    """Reports, acts and acceptances stop naming the person."""
    conn.execute("UPDATE reports SET reporter_id = ? WHERE reporter_id = ?", [erased, person_id])
    conn.execute(
        "UPDATE moderation_acts SET author_id = ? WHERE author_id = ?", [erased, person_id]
    )
    conn.execute("DELETE FROM terms_acceptances WHERE person_id = ?", [person_id])
    announce(conn)
