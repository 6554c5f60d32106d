"""All SQL on `embedded_sessions` (overlay.db, migration m010_embedded).

A row is one Plaza token handed to an embedded page, stored by its SHA-256 (the token itself
is never stored), with the delegated Graph token its sign-in exchanged for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from overlay_app.db import SocialConn


@dataclass(frozen=True)
class EmbeddedSession:
    person_id: str
    roles: list[str]
    expires_at: float
    graph_token: str | None
    graph_expires_at: float | None


def insert(
    conn: SocialConn, token_hash: str, person_id: str, roles: list[str], now: float,
    expires_at: float, graph_token: str, graph_expires_at: float,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO embedded_sessions (token_hash, person_id, roles, created_at, expires_at,"
        " graph_token, graph_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token_hash, person_id, json.dumps(roles), now, expires_at, graph_token,
         graph_expires_at),
    )  # fmt: skip


def live(conn: SocialConn, token_hash: str, now: float) -> EmbeddedSession | None:
    """The session of a token that is neither revoked nor expired."""
    row = conn.execute(
        "SELECT person_id, roles, expires_at, graph_token, graph_expires_at"
        " FROM embedded_sessions WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
        (token_hash, now),
    ).fetchone()
    if row is None:
        return None
    return EmbeddedSession(row[0], json.loads(row[1]), row[2], row[3], row[4])


def revoke(conn: SocialConn, token_hash: str) -> None:
    """Revoked, and its Graph token forgotten at once."""
    conn.execute(
        "UPDATE embedded_sessions SET revoked = 1, graph_token = NULL WHERE token_hash = ?",
        (token_hash,),
    )


def revoke_person(conn: SocialConn, person_id: str) -> None:
    conn.execute(
        "UPDATE embedded_sessions SET revoked = 1, graph_token = NULL WHERE person_id = ?",
        (person_id,),
    )


def forget_expired(conn: SocialConn, now: float) -> None:
    conn.execute("DELETE FROM embedded_sessions WHERE expires_at <= ?", (now,))
