"""The SQL of write-back's tables in overlay.db: `writeback_state` (per document, what was
last written into SharePoint and when) and `writeback_rounds` (per job and round that did
something: counts and the error to fix). No other module touches them.

The discussion itself is read through the discussion and tags stores (`discussion_totals`,
`tag_totals`): this module only puts their answers together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from overlay_app.db import SocialConn
from overlay_app.discussion.store_writeback import discussion_totals
from overlay_app.tags.store import tag_totals

Key = tuple[str, str]  # (drive_id, item_id)


@dataclass(frozen=True)
class Discussion:
    """What write-back writes for one document: the total discussion."""

    comments: int = 0
    likes: int = 0
    last_discussed: str | None = None  # newest live comment, ISO 8601
    tags: str = ""  # alphabetically, comma separated


NONE = Discussion()


@dataclass(frozen=True)
class Current:
    discussion: Discussion
    activity: str  # newest change of any kind, ISO 8601 ("" when unknown)


def current(conn: SocialConn) -> dict[Key, Current]:
    """Every document with any discussion, comment, like or tag (removed ones included)."""
    found: dict[Key, Current] = {}
    for drive_id, item_id, live, last, activity, likes in discussion_totals(conn):
        found[(drive_id, item_id)] = Current(
            Discussion(int(live or 0), int(likes or 0), last), activity or ""
        )
    for key, (tags, newest) in tag_totals(conn).items():
        before = found.get(key, Current(NONE, ""))
        discussion = Discussion(
            before.discussion.comments,
            before.discussion.likes,
            before.discussion.last_discussed,
            ", ".join(tags),
        )
        found[key] = Current(discussion, max(before.activity, newest))
    return found


def written(conn: SocialConn) -> dict[Key, Discussion]:
    rows = conn.execute(
        "SELECT drive_id, item_id, comments, likes, last_discussed, tags FROM writeback_state"
    )
    return {(d, i): Discussion(c, n, last, tags) for d, i, c, n, last, tags in rows}


def record_written(conn: SocialConn, key: Key, discussion: Discussion) -> None:
    conn.execute(
        """INSERT INTO writeback_state
           (drive_id, item_id, comments, likes, last_discussed, tags, written_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (drive_id, item_id) DO UPDATE SET comments = excluded.comments,
             likes = excluded.likes, last_discussed = excluded.last_discussed,
             tags = excluded.tags, written_at = excluded.written_at""",
        [*key, discussion.comments, discussion.likes, discussion.last_discussed,
         discussion.tags, _now()],
    )  # fmt: skip


@dataclass(frozen=True)
class Round:
    """One job's share of a write-back round."""

    job: str
    started_at: str
    ended_at: str = ""
    written: int = 0
    failed: int = 0
    archived: int = 0
    error: str | None = None


def record_round(conn: SocialConn, done: Round) -> None:
    conn.execute(
        "INSERT INTO writeback_rounds (job, started_at, ended_at, written, failed, archived, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [done.job, done.started_at, done.ended_at or _now(), done.written, done.failed,
         done.archived, done.error],
    )  # fmt: skip


def rounds(conn: SocialConn, job: str | None = None, limit: int = 20) -> list[Round]:
    """The latest rounds, newest first, of one job or of all."""
    where, params = ("WHERE job = ?", [job]) if job else ("", [])
    rows = conn.execute(
        "SELECT job, started_at, ended_at, written, failed, archived, error"
        f" FROM writeback_rounds {where} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    )
    return [Round(*row) for row in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
