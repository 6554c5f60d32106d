"""The only SQL on the change-notification tables (migration m012_subscriptions).

- subscriptions: one Graph subscription per synced library, with its clientState secret.
- change_notifications: what the web app's webhook accepted, waiting for the scheduler.
- freshness_state: whether notifications are on (or why libraries are polled), and each
  process's resource-unit figures (`budget:{process}`), for `plaza connector check` and admin.

`accept_notifications` is the web app's one write to the index: it checks each notification's
clientState against the secret stored here and queues the ones that match, in one short
transaction, so the webhook can answer 202 at once and leave the work to the scheduler.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync.db import connect, transaction

NOTIFICATIONS_STATE = "notifications"
UPDATED = "updated"


@dataclass(frozen=True)
class StoredSubscription:
    drive_id: str
    subscription_id: str
    client_state: str
    notification_url: str
    expires_at: datetime


@dataclass(frozen=True)
class Pending:
    """Notifications queued for one library: their row ids and the kinds among them."""

    drive_id: str
    ids: tuple[int, ...]
    kinds: frozenset[str]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- subscriptions ---------------------------------------------------------------------------


def save_subscription(conn: sqlite3.Connection, found: StoredSubscription) -> None:
    conn.execute(
        "INSERT INTO subscriptions (drive_id, subscription_id, client_state, notification_url,"
        " expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (drive_id) DO UPDATE SET subscription_id = excluded.subscription_id,"
        " client_state = excluded.client_state, notification_url = excluded.notification_url,"
        " expires_at = excluded.expires_at, created_at = excluded.created_at, renewed_at = NULL",
        (found.drive_id, found.subscription_id, found.client_state, found.notification_url,
         found.expires_at.isoformat(), now_iso()),
    )  # fmt: skip


def renewed(conn: sqlite3.Connection, subscription_id: str, expires_at: datetime) -> None:
    conn.execute(
        "UPDATE subscriptions SET expires_at = ?, renewed_at = ? WHERE subscription_id = ?",
        (expires_at.isoformat(), now_iso(), subscription_id),
    )


def drop_subscription(conn: sqlite3.Connection, drive_id: str) -> None:
    conn.execute("DELETE FROM subscriptions WHERE drive_id = ?", (drive_id,))


def stored_subscriptions(conn: sqlite3.Connection) -> dict[str, StoredSubscription]:
    """By drive id."""
    rows = conn.execute(
        "SELECT drive_id, subscription_id, client_state, notification_url, expires_at"
        " FROM subscriptions"
    ).fetchall()
    return {
        row[0]: StoredSubscription(*row[:4], datetime.fromisoformat(row[4]))  # type: ignore[call-arg]
        for row in rows
    }


# -- the queue -------------------------------------------------------------------------------


def accept_notifications(index_path: str | Path, values: Iterable[Any]) -> tuple[int, int]:
    """Queues each notification whose clientState matches its subscription's secret;
    returns (accepted, refused). Unknown subscriptions and malformed entries are refused.
    The secrets are checked before any write, so posts from strangers never take the lock."""
    given = list(values)
    db = connect(index_path)
    try:
        rows = []
        for entry in given:
            drive_id = _matching_drive(db.conn, entry) if isinstance(entry, dict) else None
            if drive_id is not None:
                kind = str(entry.get("lifecycleEvent") or UPDATED)[:40]
                rows.append((entry["subscriptionId"], drive_id, kind, now_iso()))
        if rows:
            with transaction(db) as conn:
                conn.executemany(
                    "INSERT INTO change_notifications (subscription_id, drive_id, kind,"
                    " received_at) VALUES (?, ?, ?, ?)",
                    rows,
                )
    finally:
        db.close()
    return len(rows), len(given) - len(rows)


def _matching_drive(conn: sqlite3.Connection, entry: dict[str, Any]) -> str | None:
    sub_id, state = entry.get("subscriptionId"), entry.get("clientState")
    if not isinstance(sub_id, str) or not isinstance(state, str):
        return None
    row = conn.execute(
        "SELECT drive_id, client_state FROM subscriptions WHERE subscription_id = ?", (sub_id,)
    ).fetchone()
    if row is None or not hmac.compare_digest(row[1].encode(), state.encode()):
        return None
    return row[0]


def pending(conn: sqlite3.Connection) -> list[Pending]:
    """Queued notifications grouped by library: a burst is one entry (one delta round)."""
    grouped: dict[str, tuple[list[int], set[str]]] = {}
    for row_id, drive_id, kind in conn.execute(
        "SELECT id, drive_id, kind FROM change_notifications ORDER BY id"
    ):
        ids, kinds = grouped.setdefault(drive_id, ([], set()))
        ids.append(row_id)
        kinds.add(kind)
    return [Pending(d, tuple(ids), frozenset(k)) for d, (ids, k) in grouped.items()]


def done(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM change_notifications WHERE id = ?", [(i,) for i in ids])


# -- state -----------------------------------------------------------------------------------


def set_state(conn: sqlite3.Connection, name: str, value: Any) -> None:
    text = json.dumps(asdict(value) if is_dataclass(value) else value)  # type: ignore[arg-type]
    conn.execute(
        "INSERT INTO freshness_state (name, value, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at",
        (name, text, now_iso()),
    )


def get_state(conn: sqlite3.Connection, name: str) -> tuple[Any, str] | None:
    """(value, updated_at) or None."""
    row = conn.execute(
        "SELECT value, updated_at FROM freshness_state WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else (json.loads(row[0]), row[1])


def budget_figures(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The connector's resource-unit figures per process (what admin shows), with their time:
    {"scheduler": {"per_minute": ..., "used_last_minute": ..., ..., "updated_at": ...}}."""
    rows = conn.execute(
        "SELECT name, value, updated_at FROM freshness_state WHERE name LIKE 'budget:%'"
    ).fetchall()
    return {name[7:]: {**json.loads(value), "updated_at": at} for name, value, at in rows}


def health_entry(index: Any) -> dict[str, Any] | None:
    """The admin health page's "budget used" entry (overlay_app.admin.health.BUDGET_HOOKS):
    the scheduler's resource units against its budget, and whether notifications are on."""
    figures = budget_figures(index.conn).get("scheduler")
    if figures is None:
        return None
    said = get_state(index.conn, NOTIFICATIONS_STATE)
    return {
        "used": figures["used_last_minute"],
        "limit": figures["per_minute"],
        "window": "per minute",
        "paced_at": figures["share"],
        "used_last_hour": figures["used_last_hour"],
        "throttled": figures["throttled"],
        "retry_after_seconds": figures["retry_after_seconds"],
        "paced_seconds": figures["paced_seconds"],
        "notifications": said[0] if said else None,
        "updated_at": figures["updated_at"],
    }
