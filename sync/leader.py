"""One leader among several `plaza scheduler` processes (run two for high availability).

Each `plaza scheduler` stands by until it wins the election, then leads (runs the jobs) until
it stops or dies; the others try again every few seconds and one of them takes over. Two
elections, chosen by PLAZA_DATABASE_URL (`election_for`):

- `FileElection` (unset: SQLite in PLAZA_DATA_DIR): an exclusive `flock` on
  `{data_dir}/scheduler.leader`. The kernel drops it when its process ends, however it ends
  (`kill -9` included), so a follower leads at its next try. It holds on one machine only,
  like the SQLite files next to it (flock on network file systems is not to be trusted).
- `PostgresElection` (sync/leader_pg.py): a session advisory lock on a dedicated connection;
  PostgreSQL drops it when the session ends.

Why not a lease in the index (sync/locks.py)? A lease outlives a killed holder by up to its TTL
(60 s), and a holder frozen past its TTL (a suspended VM) loses it without noticing: two
leaders. Locks that end with their process or session have neither problem. The jobs keep their
own leases (`sync.runs.run_job` takes `job:{name}` in one BEGIN IMMEDIATE transaction of the
index, so two processes never both hold it): if two leaders ever overlap for a moment (a
PostgreSQL leader cut off from the server steps down only at its next check), a job running in
one is recorded as "skipped" by the other, never run twice at once.

The leader also holds the index lease `scheduler` (the heartbeat that `plaza status` and the
admin health page read). On taking over it replaces the lease of the leader before it and, when
that one is provably gone (same host, no such process), releases the job leases it left, so a
job it was running when killed runs again at its next due time instead of 60 s later.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from sync import locks
from sync.db import connect

log = logging.getLogger(__name__)

LEADER_FILE = "scheduler.leader"
RETRY_SECONDS = 3.0  # how often a follower tries to lead
CHECK_SECONDS = 2.0  # how often the leader checks that it still holds its lock


class ElectionError(Exception):
    """The election cannot be reached (e.g. PostgreSQL is down); try again later."""


@dataclass(frozen=True)
class Leader:
    """The process that leads: its host and process id; since when, if the election knows."""

    host: str
    pid: int
    since: str | None = None

    def describe(self) -> str:
        return f"{self.host} pid {self.pid}" + (f" since {self.since}" if self.since else "")


class Election(Protocol):
    where: str  # in words, for logs

    def try_lead(self) -> bool:
        """True when this process leads now (it keeps leading until `close`)."""

    def still_leading(self) -> bool:
        """False once the lock is lost: the leader must stop running jobs."""

    def leader(self) -> Leader | None:
        """Who leads now, from any process; None when nobody does."""

    def close(self) -> None:
        """Resigns (if leading) and lets go of every resource."""


class FileElection:
    """An exclusive flock on one file; the holder writes who it is into the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = f"lock file {self.path}"
        self._file: IO[str] | None = None

    def try_lead(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+")  # noqa: SIM115 (held open while leading)
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        if not _same_file(file, self.path):  # deleted or replaced since we opened it
            file.close()
            return False
        file.seek(0)
        file.truncate()
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": _now()}
        file.write(json.dumps(me))
        file.flush()
        self._file = file
        return True

    def still_leading(self) -> bool:
        # Someone deleting the file would let a new process lock a new file: two leaders.
        return self._file is not None and _same_file(self._file, self.path)

    def leader(self) -> Leader | None:
        try:
            file = open(self.path)  # noqa: SIM115
        except FileNotFoundError:
            return None
        with file:
            try:
                fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: by the process named inside
                return _leader_of(file.read())
            return None  # nobody holds it (closing the file lets go of our shared lock)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # the kernel releases the flock with the last descriptor
            self._file = None


def election_for(data_dir: str | Path, environ: Mapping[str, str] | None = None) -> Election:
    """PostgreSQL's advisory lock when PLAZA_DATABASE_URL is set, else the lock file."""
    environ = os.environ if environ is None else environ
    url = environ.get("PLAZA_DATABASE_URL", "").strip()
    if not url:
        return FileElection(Path(data_dir) / LEADER_FILE)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ElectionError("PLAZA_DATABASE_URL must start with postgresql://")
    from sync.leader_pg import PostgresElection  # psycopg only where PostgreSQL is used

    return PostgresElection(url)


def current_leader(data_dir: str | Path, environ: Mapping[str, str] | None = None) -> Leader | None:
    """Who leads the schedulers of this deployment now (None: nobody); ElectionError when the
    election cannot be asked."""
    election = election_for(data_dir, environ)
    try:
        return election.leader()
    finally:
        election.close()


def process_gone(owner: str) -> bool:
    """True only when the lease owner ("host:pid:tag", locks.new_owner) is provably dead: it
    ran on this host and no process has its id. Other hosts cannot be told: False."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user
        return False
    return False


@contextmanager
def leader_lease(db_path: str | Path) -> Iterator[str]:
    """Holds the index lease `scheduler` while this process leads (taken over from a leader
    before it); yields the owner id."""
    db = connect(db_path)
    owner = locks.new_owner()
    try:
        previous = locks.take_over(db, locks.SCHEDULER_LEASE, owner)
        if previous is not None and process_gone(previous):
            process = previous.rsplit(":", 1)[0]
            released = locks.release_process(db, process)
            log.info("the previous leader %s is gone; released its locks: %s",
                     process, ", ".join(released) or "none")  # fmt: skip
        with locks.Heartbeat(db_path, locks.SCHEDULER_LEASE, owner):
            yield owner
    finally:
        locks.release(db, locks.SCHEDULER_LEASE, owner)
        db.close()


class Watchdog:
    """Checks every `seconds` that the leader still holds its lock; calls `on_lost` once (from
    its own thread) when it does not. A context manager around the leader's work."""

    def __init__(self, election: Election, on_lost: Callable[[], None], seconds: float) -> None:
        self.election, self.on_lost, self.seconds = election, on_lost, seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="leader watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _watch(self) -> None:
        while not self._stopped.wait(self.seconds):
            if not self.election.still_leading():
                log.error("lost the leadership (%s): stopping the jobs", self.election.where)
                self.on_lost()
                return


def _same_file(file: IO[str], path: Path) -> bool:
    try:
        here, there = os.fstat(file.fileno()), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _leader_of(text: str) -> Leader:
    try:
        me = json.loads(text)
        return Leader(str(me["host"]), int(me["pid"]), me.get("since"))
    except (ValueError, KeyError, TypeError):  # the holder has not written itself yet
        return Leader("unknown", 0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
