"""What every signed-in request asks of the admin tables (the feature switches, whether the
person accepted the terms in force), held per process on PostgreSQL instead of asked again.

Every write of those tables sends `NOTIFY plaza_admin` (`announce`, from admin/store.py: a
signal without content, delivered at commit to every node); each process keeps a connection
of its own that LISTENs on it. No thread: each lookup first takes in the notices that reached
the socket (no round trip), and any notice drops every held value. Values are trusted only
while that connection vouches for them; the process reads afresh (fails closed) while:
- it has no listening connection yet, or lost it (closed, or ended by the server, which says
  so before the socket closes); it reconnects at most every RETRY_SECONDS;
- the connection, silent for PROOF_SECONDS, fails a `SELECT 1`: one dead without a word (a
  firewall's dropped state) would otherwise vouch forever.
A value read while a notice arrived is not kept (the generation changed meanwhile). The node
that made a change also calls `forget()` after its commit, so its own next request never
waits for its own notice. What is left: another node's request that starts in the moment
between a commit and its notice reaching that node's socket (the server signals its
listeners as it commits, before the committer hears back; then one hop of the network).

SQLite keeps reading: the two statements cost about 6 and 10 us there (measured on a loaded
2-core machine), less than `PRAGMA data_version` (12 us), the cheapest check that sees another
process's commit; so `Held("")` holds nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import psycopg
from flask import Flask, current_app

from overlay_app.pg import conn as pg_conn

log = logging.getLogger("overlay_app.admin.held")

CHANNEL = "plaza_admin"
PROOF_SECONDS = 2.0
RETRY_SECONDS = 1.0
MAX_VALUES = 10_000  # one per person who accepted the terms, and the switches
LISTENER_NAME = "plaza-admin-listener"  # its application_name, as pg_stat_activity shows it
# A lost network path fails a probe in bounded time (libpq ignores these on a unix socket).
LISTENER_OPTIONS = {"application_name": LISTENER_NAME, "connect_timeout": 5,
                    "keepalives_idle": 30, "tcp_user_timeout": 5000}  # fmt: skip
T = TypeVar("T")
INHERITED: list[psycopg.Connection] = []  # a forked child's parents' connections


class Held:
    """Values read from the social store at `url`, kept while this process's listening
    connection vouches that none changed since; with no url (SQLite) nothing is kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._listener: psycopg.Connection | None = None
        self._closer: weakref.finalize | None = None  # closes it if the app is never closed
        self._pid = os.getpid()
        self._proved_at = self._retry_at = 0.0
        self._last_words: list[str] = []
        self._values: dict[Hashable, Any] = {}
        self._generation = 0

    def get(
        self, key: Hashable, read: Callable[[], T], keep: Callable[[T], bool] | None = None
    ) -> T:
        """The value held under `key`, else `read()`: held (if trusted, and `keep(value)`
        when given)."""
        with self._lock:
            vouched = self._listening()
            if vouched and key in self._values:
                return self._values[key]
            generation = self._generation
        value = read()
        if vouched and (keep is None or keep(value)):
            with self._lock:
                if generation == self._generation:
                    if len(self._values) >= MAX_VALUES:
                        self._values.clear()
                    self._values[key] = value
        return value

    def generation(self) -> int:
        """How many times the held values were dropped, once the notices received are taken
        in (a test waits for a notice with it)."""
        with self._lock:
            self._listening()
            return self._generation

    def forget(self) -> None:
        with self._lock:
            self._drop()

    def close(self) -> None:
        with self._lock:
            self._close_listener()
            self._drop()

    def _drop(self) -> None:
        self._values.clear()
        self._generation += 1

    def _listening(self) -> bool:
        """Takes in the notices received; whether the listening connection vouches for the
        held values (False: read afresh). Called with the lock held."""
        if not self.url:
            return False
        if self._pid != os.getpid():  # a forked child: its parent's connection is not its own
            self._listener, self._closer, self._pid = None, None, os.getpid()
            self._drop()
        try:
            if self._listener is None:
                return self._connect()
            if time.monotonic() - self._proved_at > PROOF_SECONDS:
                self._listener.execute("SELECT 1")  # notices sent before it arrive before it
                self._proved_at = time.monotonic()
            if list(self._listener.notifies(timeout=0)):
                self._drop()
            if self._last_words:
                raise psycopg.OperationalError(self._last_words[0])
            return True
        except psycopg.Error as exc:
            log.warning("admin values: the listening connection failed (%s); reading afresh", exc)
            self._lost()
            return False

    def _connect(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        listener = psycopg.connect(self.url, autocommit=True, **LISTENER_OPTIONS)
        self._closer = weakref.finalize(self, _close_in, listener, os.getpid())
        self._listener, self._last_words = listener, []
        # The server's words to an idle connection come only as it ends it ("terminating
        # connection due to administrator command"), before the socket closes: whatever they
        # say, the connection vouches no more.
        listener.add_notice_handler(_recorder(self._last_words))
        listener.execute(f"LISTEN {CHANNEL}")
        self._proved_at = time.monotonic()
        self._drop()  # nothing held before LISTEN took effect is vouched for
        return True

    def _lost(self) -> None:
        self._close_listener()
        self._retry_at = time.monotonic() + RETRY_SECONDS
        self._drop()

    def _close_listener(self) -> None:
        if self._closer is not None:
            self._closer()
        self._listener = self._closer = None


def _close_in(listener: psycopg.Connection, pid: int) -> None:
    """Closes the connection in the process that opened it. A forked child keeps it instead:
    closing would end it for the parent too, and psycopg warns of an open one collected."""
    if os.getpid() == pid:
        listener.close()
    else:
        INHERITED.append(listener)


def _recorder(words: list[str]) -> Callable[[psycopg.errors.Diagnostic], None]:
    """A notice handler keeping what the server said (and no reference to the Held)."""
    return lambda diagnostic: words.append(diagnostic.message_primary or "a server message")


def announce(conn: Any) -> None:
    """Inside a transaction writing the admin tables: every node drops its held values when
    it commits. SQLite holds none."""
    if getattr(conn, "dialect", None) == pg_conn.DIALECT:
        conn.execute(f"NOTIFY {CHANNEL}")


def held() -> Held:
    """This app's held values (the current app's)."""
    return current_app.extensions["plaza.admin_held"]


def forget() -> None:
    """After committing a change of the admin tables: this process reads afresh at once."""
    held().forget()


def init_app(app: Flask) -> None:
    values = Held(app.extensions["plaza.settings"].database_url)
    app.extensions["plaza.admin_held"] = values
    app.extensions.setdefault("plaza.on_close", []).append(values.close)
