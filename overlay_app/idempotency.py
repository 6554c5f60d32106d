"""At most once per key: the one way a retried write of user content (a comment, a chat
message) is answered with what the first attempt did, never done twice.

A write that carries a key (`check_key`: 1 to MAX_KEY_CHARS characters, not all blank) runs
through `once`. The earlier answer is looked up before the write's checks, so a retry is
answered as the first attempt was even if, say, the document was archived since, and again
inside the write's BEGIN IMMEDIATE transaction, so that two concurrent attempts cannot both
write; the new answer is remembered in that same transaction. The same key for a different
request is a 409, in the words of the API that took it.

Where each kind of write keeps its keys is its `Ledger`:

- comments: the `idempotency` table (this module owns its SQL) keeps the answer (status and
  JSON) per (person, key) with a hash of the request (`stored_answers`);
- chat messages: the key is the message row's `client_key` (unique per author), so the ledger
  finds the message itself and there is nothing more to remember (chat.actions.replay).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from overlay_app import db
from overlay_app.errors import BadInput, Conflict

MAX_KEY_CHARS = 200
Draft = TypeVar("Draft")


@dataclass(frozen=True)
class Outcome:
    """A write's answer: the status and JSON body sent, and whether it is a replay."""

    status: int
    payload: dict[str, Any]
    replayed: bool = False


def _kept_with_the_row(_conn: sqlite3.Connection, _key: str, _outcome: Outcome) -> None:
    """Nothing to remember: the write stored its key on the row it wrote."""


@dataclass(frozen=True)
class Ledger:
    """Where one kind of write finds what a key already answered (`earlier`, None if nothing;
    Conflict if the key was used for another request) and keeps a new answer (`remember`,
    inside the write's transaction)."""

    earlier: Callable[[str], Outcome | None]
    remember: Callable[[sqlite3.Connection, str, Outcome], None] = _kept_with_the_row


def check_key(key: str | None, name: str = "Idempotency-Key") -> str | None:
    """The key as given (None: the write is not keyed); 400 when empty, blank or too long."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise BadInput("%(name)s must be 1 to %(most)s characters.", name=name, most=MAX_KEY_CHARS)
    return key


def request_hash(*parts: Any) -> str:
    """What a keyed request asked for, as a digest: a retry must ask for the same."""
    return hashlib.sha256(json.dumps(list(parts)).encode()).hexdigest()


def once(
    ledger: Ledger,
    key: str | None,
    prepare: Callable[[], Draft],
    write: Callable[[sqlite3.Connection, Draft], Outcome],
    pipelined: bool = False,
) -> Outcome:
    """The earlier answer to this key, or else: `prepare()` (the checks) then `write(conn,
    draft)` in one transaction, remembered with the key (`pipelined`: db.transaction's)."""
    if key is not None:
        earlier = ledger.earlier(key)
        if earlier is not None:
            return earlier
    draft = prepare()
    with db.transaction(pipelined) as conn:
        if key is not None:
            earlier = ledger.earlier(key)  # a concurrent retry may have won the race
            if earlier is not None:
                return earlier
        outcome = write(conn, draft)
        if key is not None:
            ledger.remember(conn, key, outcome)
    return outcome


# --- the idempotency table ----------------------------------------------------------------------


def stored_answers(person_id: str, digest: str, reused: str) -> Ledger:
    """The ledger of the `idempotency` table for one person's request (its `request_hash`);
    `reused` is the 409's message when the key was used for another request."""

    def earlier(key: str) -> Outcome | None:
        row = (
            db.social()
            .execute(
                "SELECT request_hash, status, response FROM idempotency"
                " WHERE person_id = ? AND key = ?",
                [person_id, key],
            )
            .fetchone()
        )
        if row is None:
            return None
        if row[0] != digest:
            raise Conflict(reused)
        return Outcome(row[1], json.loads(row[2]), replayed=True)

    def remember(conn: sqlite3.Connection, key: str, outcome: Outcome) -> None:
        conn.execute(
            "INSERT INTO idempotency (person_id, key, request_hash, status, response, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [person_id, key, digest, outcome.status, json.dumps(outcome.payload), _now()],
        )

    return Ledger(earlier, remember)


def forget_words(conn: sqlite3.Connection, author_id: str, resource_id: str) -> None:
    """Blanks the words of the author's stored answers about that resource (now deleted)."""
    # A stored answer about a comment whose words were deleted keeps none of them: a retried
    # POST answers with the comment as it is now. (Rewritten here, not by SQL's json_set:
    # PostgreSQL has none; the rows are one person's answers about one comment.)
    rows = conn.execute(
        "SELECT key, response FROM idempotency WHERE person_id = ? AND response ->> 'id' = ?",
        [author_id, resource_id],
    ).fetchall()
    for key, response in rows:
        answer = json.loads(response) | {"body": "", "bodyHtml": "", "deleted": True}
        conn.execute(
            "UPDATE idempotency SET response = ? WHERE person_id = ? AND key = ?",
            [json.dumps(answer), author_id, key],
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def forget_person(conn: sqlite3.Connection, person_id: str) -> None:
    """Drops the person's stored answers (an erased person retries nothing)."""
    conn.execute("DELETE FROM idempotency WHERE person_id = ?", [person_id])
