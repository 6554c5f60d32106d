"""The audit log: `audit()` appends to the append-only `audit` table (admin actions, access
denials); `audit_entries` reads it back for the admin viewer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, g, has_request_context

from overlay_app import db

MAX_AUDIT_FIELD = 500  # target and detail come partly from URLs: keep the log bounded


def audit(actor_id: str | None, action: str, target: str | None = None, detail: Any = None) -> None:
    """Appends one entry to the audit log. Inside an open transaction it commits with it (an
    admin action and its record stand or fall together); otherwise it commits on its own."""
    entry = _audit_entry(actor_id, action, target, detail)
    with db.joined_transaction() as conn:
        _insert_audit(conn, [entry])


def audit_denial(
    actor_id: str | None, action: str, target: str | None = None, detail: Any = None
) -> None:
    """Like audit(), for refusals: the refusal usually rolls back the transaction it happens
    in, so then the entry waits and is written when the request ends."""
    entry = _audit_entry(actor_id, action, target, detail)
    if has_request_context() and db.social().conn.in_transaction:
        g.setdefault("pending_audit", []).append(entry)
        return
    with db.joined_transaction() as conn:
        _insert_audit(conn, [entry])


def record(conn, actor_id: str | None, action: str, target: str | None = None, detail=None) -> None:
    """Appends one audit entry on `conn`, inside its transaction: for callers outside a request
    (the `plaza admin` commands)."""
    _insert_audit(conn, [_audit_entry(actor_id, action, target, detail)])


def _audit_entry(actor_id, action, target, detail) -> tuple:
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, sort_keys=True, default=str)
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return (at, actor_id, action, _bounded(target), _bounded(detail))


def _bounded(text: str | None) -> str | None:
    return None if text is None else text[:MAX_AUDIT_FIELD]


def _insert_audit(conn, entries: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO audit (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        entries,
    )


def audit_entries(
    conn, actor_id: str | None, action_prefix: str, since: str, until: str, limit: int
) -> list[tuple]:
    """(id, at, actor_id, action, target, detail) of the newest entries matching the filters
    ("" = any; `since`/`until` ISO dates, `until` inclusive), newest first (the admin viewer)."""
    try:  # the day after `until` (not SQL's date(): PostgreSQL has another)
        before = (date.fromisoformat(until) + timedelta(days=1)).isoformat() if until else ""
    except ValueError:
        return []  # no such day: nothing was before it
    return conn.execute(
        "SELECT id, at, actor_id, action, target, detail FROM audit"
        " WHERE (CAST(:actor AS TEXT) IS NULL OR actor_id = :actor)"
        " AND (:action = '' OR substr(action, 1, length(:action)) = :action)"
        " AND (:since = '' OR at >= :since) AND (:before = '' OR at < :before)"
        " ORDER BY id DESC LIMIT :limit",
        {"actor": actor_id, "action": action_prefix, "since": since, "before": before,
         "limit": limit},
    ).fetchall()  # fmt: skip


def _flush_pending_audit(_error: BaseException | None) -> None:
    entries = g.pop("pending_audit", None)
    if entries:
        with db.joined_transaction() as conn:
            _insert_audit(conn, entries)


def init_audit(app: Flask) -> None:
    """Refusals' entries held back during a request are written when it ends."""
    app.teardown_request(_flush_pending_audit)
