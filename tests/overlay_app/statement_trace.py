"""Every SQL statement a request runs, on all three stores (index, social store, sessions).

Each statement on PostgreSQL is a round trip to the server, so the count per request is what
PostgreSQL pays beyond SQLite (bench/README.md, issue 17). Recorded from outside our code:
sqlite3's trace callback, and sync/pg.PgHandle's, which sees the same statements (BEGIN and
COMMIT included). The recorder is attached when each request starts (Flask's request_started
signal, before any before_request function of the app), to every store's handle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from flask import Flask, request_started

from overlay_app import db
from overlay_app.auth import sessions

LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def _shape(sql: str) -> str:
    """The statement with its literals blanked and its whitespace squeezed."""
    return " ".join(LITERALS.sub("?", sql).split())


class Statements:
    """The statements of the requests made inside `of(call)`."""

    def __init__(self, app: Flask) -> None:
        self.seen: list[str] | None = None
        request_started.connect(self._trace, app)  # kept alive by the instance's own reference

    def _trace(self, _app: Flask, **_extra: object) -> None:
        for store in (db.index(), db.social(), sessions.store()):
            store.conn.set_trace_callback(self._record)

    def _record(self, sql: str) -> None:
        if self.seen is not None:
            self.seen.append(_shape(sql))

    def of(self, call: Callable[[], object]) -> list[str]:
        self.seen = []
        try:
            call()
            return self.seen
        finally:
            self.seen = None


def tally(statements: list[str], width: int = 110) -> str:
    """A readable summary (for a failing assertion): each statement's count and start."""
    counted = Counter(statements)
    return "\n".join(f"{n:3d} {sql[:width]}" for sql, n in counted.most_common())
