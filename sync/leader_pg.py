"""The scheduler election on PostgreSQL (PLAZA_DATABASE_URL): a session advisory lock.

The leader holds `pg_try_advisory_lock(KEY)` on a connection of its own, in autocommit, for
as long as it leads; PostgreSQL releases the lock when that session ends, and a follower's
next `pg_try_advisory_lock` wins. The connection names its process in `application_name`, so
any process can tell who leads from `pg_locks` joined with `pg_stat_activity`.

When does the session of a dead leader end?
- The process dies, its machine stays up (kill -9, a crash): its kernel closes the socket and
  the server ends the session at once.
- The machine vanishes (power off, network cut): nothing closes the socket. The server's TCP
  keepalives end the session: we set `tcp_keepalives_idle` 10 s, `_interval` 5 s, `_count` 3
  for this session (about 25 s; the system default is two hours). Through a proxy or a NAT
  that answers keepalives itself, only the proxy's own timeouts help.
- The leader must step down before the server gives the lock away: it checks the lock every
  CHECK_SECONDS (that query also keeps the session busy) with libpq keepalives and
  `tcp_user_timeout` of 10 s, so a cut link fails the check within about 12 s, before the
  server's 25 s. The jobs' own leases cover the rest (sync/leader.py).
- `idle_session_timeout` (PostgreSQL 14+) set for the whole server would end an idle session
  and hand the leadership over each time: we set it to 0 for this session (the checks keep it
  busy anyway). `idle_in_transaction_session_timeout` never applies: no transaction stays open.
- Session locks need a real session: PLAZA_DATABASE_URL must reach PostgreSQL directly or
  through a pool in session mode (PgBouncer's transaction pooling would lose the lock).
Keepalive settings in the URL (keepalives_idle=... etc.) win over ours.
"""

from __future__ import annotations

import os
import socket
import threading

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sync.leader import ElectionError, Leader

# Two int4 keys, as pg_locks shows them (classid, objid, objsubid = 2): "PLAZ", the scheduler.
KEY = (0x504C415A, 1)
APPLICATION = "plaza scheduler"
CLIENT_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
    "connect_timeout": "5",
}
SESSION_SETTINGS = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "statement_timeout": "5000",  # a check never waits long
}
HOLDER = f"""
SELECT a.application_name
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid::int8 = {KEY[0]} AND l.objid::int8 = {KEY[1]}
"""


class PostgresElection:
    """The advisory lock on one dedicated connection (opened on first use, again after a
    failure)."""

    def __init__(self, url: str) -> None:
        self.url = url
        params = conninfo_to_dict(url)
        self.where = (
            f"PostgreSQL advisory lock on {params.get('host') or 'localhost'}"
            f"/{params.get('dbname') or params.get('user') or ''}"
        )
        self._conn: psycopg.Connection | None = None
        self._leading = False
        self._lock = threading.Lock()  # the watchdog and the main thread share the connection

    def try_lead(self) -> bool:
        with self._lock:
            if self._leading:
                return True
            won = self._query("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", KEY)[0][0]
            self._leading = bool(won)
            return self._leading

    def still_leading(self) -> bool:
        with self._lock:
            if not self._leading:
                return False
            try:
                rows = self._query(f"{HOLDER} AND l.pid = pg_backend_pid()")
            except ElectionError:
                self._leading = False  # the session is gone, and the lock with it
                return False
            self._leading = bool(rows)
            return self._leading

    def leader(self) -> Leader | None:
        with self._lock:
            rows = self._query(HOLDER)
        if not rows:
            return None
        return _leader_of(rows[0][0] or "")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()  # ends the session: the lock goes with it
                self._conn = None
            self._leading = False

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except psycopg.Error as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise ElectionError(f"PostgreSQL: {' '.join(str(exc).split())}") from exc

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            given = conninfo_to_dict(self.url)
            extra = {k: v for k, v in CLIENT_KEEPALIVES.items() if k not in given}
            name = f"{APPLICATION} {os.getpid()} {socket.gethostname()}"[:63]
            conn = psycopg.connect(
                make_conninfo(self.url, **extra), autocommit=True, application_name=name
            )
            settings = dict(SESSION_SETTINGS)
            if conn.info.server_version >= 140000:
                settings["idle_session_timeout"] = "0"
            for setting, value in settings.items():
                conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
            self._conn = conn
        return self._conn


def _leader_of(application_name: str) -> Leader:
    """The leader from "plaza scheduler {pid} {host}" (its session may predate its lead, so
    PostgreSQL cannot say since when it leads)."""
    rest = application_name.removeprefix(f"{APPLICATION} ")
    pid, _, host = rest.partition(" ")
    return Leader(host or "unknown", int(pid) if pid.isdigit() else 0)
