"""Every SQL statement a request runs, on all three stores (index, social store, sessions),
and on PostgreSQL its round trips to the server.

Each statement outside a pipeline is a round trip to PostgreSQL, so the count per request is
what PostgreSQL pays beyond SQLite (bench/README.md, issue 17). Recorded from outside our code:
sqlite3's trace callback, and sync/pg.PgHandle's, which sees the same statements (BEGIN and
COMMIT included). The recorder is attached when each request starts (Flask's request_started
signal, before any before_request function of the app), to every store's handle.

A pipelined transaction (sync/pg.PgHandle.transaction(pipelined=True)) sends several
statements before it waits: its round trips are counted from libpq's own trace of the wire
protocol (PQtrace, one file per connection): each time the client sends what makes it wait
(Sync, Flush, a simple Query) and the server's answer follows.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

from flask import Flask, request_started

from overlay_app import db
from overlay_app.auth import sessions

LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
WAITS = ("Sync", "Flush", "Query")  # frontend messages after which libpq reads the answer


def _shape(sql: str) -> str:
    """The statement with its literals blanked and its whitespace squeezed."""
    return " ".join(LITERALS.sub("?", sql).split())


class Statements:
    """The statements of the requests made inside `of(call)`; `round_trips`: their round trips
    to PostgreSQL (None on SQLite)."""

    def __init__(self, app: Flask) -> None:
        self.seen: list[str] | None = None
        self.round_trips: int | None = None
        self._pgconns: dict[int, Any] = {}  # libpq connections of the stores seen so far
        self._wires: dict[int, tuple[Any, IO[str]]] = {}  # those traced now, with their file
        request_started.connect(self._trace, app)  # kept alive by the instance's own reference

    def _trace(self, _app: Flask, **_extra: object) -> None:
        for store in (db.index(), db.social(), sessions.store()):
            store.conn.set_trace_callback(self._record)
            if hasattr(store.conn, "raw"):
                self._pgconns.setdefault(id(store.conn.raw.pgconn), store.conn.raw.pgconn)
        if self.seen is not None:
            self._wire_trace()

    def _record(self, sql: str) -> None:
        if self.seen is not None:
            self.seen.append(_shape(sql))

    def _wire_trace(self) -> None:
        """libpq's trace on every store connection seen so far: like the trace callbacks,
        which stay set, it then also sees what a request runs before request_started (its
        session)."""
        from psycopg import pq

        for key, pgconn in self._pgconns.items():
            if key in self._wires or pgconn.status != pq.ConnStatus.OK:
                continue
            trace = tempfile.TemporaryFile("w+")  # noqa: SIM115  # closed by _waits
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            self._wires[key] = (pgconn, trace)

    def of(self, call: Callable[[], object]) -> list[str]:
        self.seen, self.round_trips = [], None
        self._wire_trace()
        try:
            call()
            return self.seen
        finally:
            self.seen = None
            if self._pgconns:
                self.round_trips = sum(_waits(*wire) for wire in self._wires.values())
            self._wires = {}


def _waits(pgconn: Any, trace: IO[str]) -> int:
    """The times the client waited for the server on this connection (untraced after). A wait
    that ran nothing is not counted: psycopg preparing a statement it has run 5 times (a Parse
    alone, once per connection and statement)."""
    pgconn.untrace()  # flushes libpq's buffer into the file
    with trace:
        trace.seek(0)
        waits, running, last = 0, False, ("", "")
        for line in trace:
            fields = line.split("\t")
            if len(fields) < 3:
                continue
            side, message = fields[0], fields[2].split(" ")[0].strip()
            running = running or message in ("Execute", "Query")
            if side == "B" and last[0] == "F" and last[1] in WAITS:
                waits, running = waits + running, False
            last = (side, message)
        return waits


def tally(statements: list[str], width: int = 110) -> str:
    """A readable summary (for a failing assertion): each statement's count and start."""
    counted = Counter(statements)
    return "\n".join(f"{n:3d} {sql[:width]}" for sql, n in counted.most_common())
