"""The scheduler's heartbeat: its lease is alive while `plaza scheduler` runs, gone after it
stops; a second scheduler stands by and does not take it over."""

from __future__ import annotations

import os
import signal
import socket

from sync import locks
from sync.db import open_index
from tests.postgres import index_at, index_env
from tests.sync.test_scheduler import start_scheduler, wait_for


def _lease(path):
    db = open_index(path)
    try:
        return locks.live_lease(db, locks.SCHEDULER_LEASE)
    finally:
        db.close()


def test_the_scheduler_keeps_its_lease_alive_while_it_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env["PLAZA_DATA_DIR"] = str(tmp_path / "data")
    env.update(index_env(tmp_path / "data" / "index.db"))
    index = index_at(tmp_path / "data" / "index.db")
    first = start_scheduler(env, tmp_path / "first.log")
    wait_for(lambda: _lease(index) is not None, 30, "the first scheduler's lease")
    owner = _lease(index)[0]
    second = start_scheduler(env, tmp_path / "second.log")
    wait_for(lambda: f"standing by: {socket.gethostname()} pid {first.pid} "
             in (tmp_path / "second.log").read_text(), 30, "the second to stand by")  # fmt: skip
    assert _lease(index)[0] == owner
    for process in (second, first):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert _lease(index) is None
