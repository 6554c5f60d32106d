"""The SQL of `follows`, `levels` and `delivery_choices` in overlay.db; no other module
touches them. Nothing here trims: follow.targets checks a target when it is followed, and the
feed and notifications trim what they show. Functions take the connection to run on."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from overlay_app.db import SocialConn
from overlay_app.dialect import unpinned

Place = list[tuple[str, str]]  # (kind, key) pairs, most specific first

# Every (kind, key) target at once: one statement on the write's path, one index probe per
# target (follows_by_target).
FOLLOWERS_SQL = """SELECT DISTINCT f.person_id FROM json_each(?) AS t
    JOIN follows AS f INDEXED BY follows_by_target
      ON f.kind = t.value ->> 0 AND f.target = t.value ->> 1"""


# -- follows -------------------------------------------------------------------------------------


def follow(conn: sqlite3.Connection, person_id: str, kind: str, key: str, at: str) -> bool:
    """Whether the follow is new (following twice is one follow)."""
    cursor = conn.execute(
        "INSERT INTO follows (person_id, kind, target, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [person_id, kind, key, at],
    )
    return cursor.rowcount > 0


def unfollow(conn: sqlite3.Connection, person_id: str, kind: str, key: str) -> None:
    conn.execute(
        "DELETE FROM follows WHERE person_id = ? AND kind = ? AND target = ?",
        [person_id, kind, key],
    )


def follows_of(conn: SocialConn, person_id: str) -> list[tuple[str, str, str]]:
    """(kind, key, created_at) of everything the person follows, newest first."""
    rows = conn.execute(
        "SELECT kind, target, created_at FROM follows WHERE person_id = ?"
        " ORDER BY created_at DESC, kind, target",
        [person_id],
    )
    return rows.fetchall()


def followers(conn: SocialConn, targets: Place) -> set[str]:
    """Everyone who follows one of the (kind, key) targets (follows_by_target)."""
    if not targets:
        return set()
    sql = unpinned(conn, FOLLOWERS_SQL, "follows_by_target")
    rows = conn.execute(sql, [json.dumps(sorted(set(targets)))])
    return {person_id for (person_id,) in rows}


def following_and_level(
    conn: SocialConn, person_id: str, kind: str, key: str
) -> tuple[bool, str | None]:
    """Whether the person follows the target, and the level they set on it (None: the
    default): what a page's follow button shows, in one statement."""
    following, level = conn.execute(
        "SELECT (SELECT 1 FROM follows WHERE person_id = :person AND kind = :kind"
        " AND target = :key), (SELECT level FROM levels WHERE person_id = :person"
        " AND kind = :kind AND target = :key)",
        {"person": person_id, "kind": kind, "key": key},
    ).fetchone()
    return following is not None, level


# -- levels --------------------------------------------------------------------------------------


def set_level(
    conn: sqlite3.Connection, person_id: str, kind: str, key: str, level: str | None, at: str
) -> None:
    """The person's level on the target; None goes back to the default."""
    if level is None:
        conn.execute(
            "DELETE FROM levels WHERE person_id = ? AND kind = ? AND target = ?",
            [person_id, kind, key],
        )
        return
    conn.execute(
        "INSERT INTO levels (person_id, kind, target, level, set_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (person_id, kind, target) DO UPDATE SET level = excluded.level,"
        " set_at = excluded.set_at",
        [person_id, kind, key, level, at],
    )


def levels_of(conn: SocialConn, person_id: str) -> dict[tuple[str, str], str]:
    rows = conn.execute("SELECT kind, target, level FROM levels WHERE person_id = ?", [person_id])
    return {(kind, key): level for kind, key, level in rows}


def levels_on(
    conn: SocialConn, person_ids: Iterable[str], place: Place
) -> dict[str, dict[tuple[str, str], str]]:
    """Each person's levels set on any target of the place: person -> (kind, key) -> level."""
    rows = conn.execute(
        "SELECT person_id, kind, target, level FROM levels"
        " WHERE (kind, target) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:place))"
        " AND person_id IN (SELECT value FROM json_each(:people))",
        {"place": json.dumps(place), "people": json.dumps(sorted(set(person_ids)))},
    )
    found: dict[str, dict[tuple[str, str], str]] = {}
    for person_id, kind, key, level in rows:
        found.setdefault(person_id, {})[(kind, key)] = level
    return found


def levels_around(
    conn: SocialConn, place: Place, level: str, candidates: Iterable[str]
) -> dict[str, dict[tuple[str, str], str]]:
    """`levels_on` for everyone who set `level` on some target of the place (levels_by_target)
    and for the `candidates`, in one statement: everyone in the answer, with no levels ({})
    for a candidate who set none."""
    wanted = set(candidates)
    rows = conn.execute(
        "SELECT person_id, kind, target, level FROM levels"
        " WHERE (kind, target) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:place))"
        " AND (person_id IN (SELECT value FROM json_each(:people)) OR person_id IN ("
        "  SELECT person_id FROM levels WHERE level = :level"
        "  AND (kind, target) IN (SELECT value ->> 0, value ->> 1 FROM json_each(:place))))",
        {"place": json.dumps(place), "people": json.dumps(sorted(wanted)), "level": level},
    )
    found: dict[str, dict[tuple[str, str], str]] = {person_id: {} for person_id in wanted}
    for person_id, kind, key, set_level in rows:
        found.setdefault(person_id, {})[(kind, key)] = set_level
    return found


# -- delivery choices ----------------------------------------------------------------------------


def choices_of(
    conn: SocialConn, person_ids: Iterable[str]
) -> dict[str, dict[tuple[str, str], bool]]:
    """The choices people made: person -> (event, channel) -> enabled (defaults not stored)."""
    rows = conn.execute(
        "SELECT person_id, event, channel, enabled FROM delivery_choices"
        " WHERE person_id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(set(person_ids)))],
    )
    found: dict[str, dict[tuple[str, str], bool]] = {}
    for person_id, event, channel, enabled in rows:
        found.setdefault(person_id, {})[(event, channel)] = bool(enabled)
    return found


def set_choice(
    conn: sqlite3.Connection, person_id: str, event: str, channel: str, enabled: bool
) -> None:
    conn.execute(
        "INSERT INTO delivery_choices (person_id, event, channel, enabled) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (person_id, event, channel) DO UPDATE SET enabled = excluded.enabled",
        [person_id, event, channel, int(enabled)],
    )
