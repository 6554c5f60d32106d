"""One scheduler leader: the two elections (a lock file, a PostgreSQL advisory lock) in one
process, then two real `plaza scheduler` processes on each backend, the leader killed with
kill -9 and its job run by the other, once per due time."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from plaza.cli import main
from sync import locks
from sync.db import open_index
from sync.jobs import add_job, people_job
from sync.leader import (
    ElectionError,
    FileElection,
    Leader,
    current_leader,
    leader_lease,
    process_gone,
)
from sync.leader_pg import PostgresElection
from sync.runs import FAILED, INTERRUPTED, RUNNING, SKIPPED, SUCCEEDED
from sync.scheduler import STOPPED
from sync.schedules import Schedule
from sync.settings import SyncSettings
from tests.postgres import index_at
from tests.sync.test_scheduler import PLAZA, finished_runs, scheduler_env, slow_users, wait_for

HOST = socket.gethostname()
INTERVAL = 3  # seconds between the job's due times
# A run starts up to this late after its due time on a busy machine (the next one is still due
# on time), while a second run for one due time would follow the first by a run's length
# (slow_users: 0.5 s and more), well under INTERVAL - START_LAG.
START_LAG = 1.0
STARTING = 60  # seconds a `plaza scheduler` may take to start on a busy machine


# -- the elections in one process ------------------------------------------------------------


def test_the_lock_file_has_one_holder_and_names_it(tmp_path):
    path = tmp_path / "scheduler.leader"
    first, second = FileElection(path), FileElection(path)
    try:
        assert FileElection(path).leader() is None
        assert (first.try_lead(), second.try_lead()) == (True, False)
        leader = second.leader()
        assert (leader.host, leader.pid) == (HOST, os.getpid())
        assert datetime.fromisoformat(leader.since).tzinfo is not None
        assert first.still_leading()
        first.close()
        assert second.try_lead() is True
        path.unlink()  # a new file would let a third process lead: the holder steps down
        assert second.still_leading() is False
    finally:
        first.close()
        second.close()


def test_postgres_advisory_lock_has_one_holder_and_names_it(postgres_url):
    first, second = PostgresElection(postgres_url), PostgresElection(postgres_url)
    try:
        assert first.leader() is None
        assert (first.try_lead(), second.try_lead()) == (True, False)
        assert second.leader() == Leader(HOST, os.getpid())
        assert first.still_leading()
        first.close()  # the session ends (the server notices within moments): so does the lock
        wait_for(second.try_lead, 5, "the second to lead")
        assert first.leader() == Leader(HOST, os.getpid())
        first.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            # The lock holder's session only: a closed one may linger in pg_stat_activity a moment.
            ended = admin.execute(
                "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a"
                " JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted"
                " WHERE a.application_name = %s",
                (f"plaza scheduler {os.getpid()} {HOST}"[:63],),
            ).fetchall()
        assert ended == [(True,)]  # as if an admin ended the leader's session
        wait_for(lambda: not second.still_leading(), 5, "the second to lose the lead")
        assert second.still_leading() is False  # for good: it must stand by again
        wait_for(first.try_lead, 5, "the first to lead again")  # on a new session
    finally:
        first.close()
        second.close()


def test_an_unreachable_postgres_is_said_in_one_line(tmp_path):
    election = PostgresElection(f"postgresql://postgres@/postgres?host={tmp_path}")
    with pytest.raises(ElectionError) as raised:
        election.try_lead()
    assert str(raised.value).startswith(
        f'PostgreSQL: connection is bad: connection to server on socket "{tmp_path}/.s.PGSQL.5432"'
        " failed: No such file or directory"
    )
    assert "\n" not in str(raised.value)
    environ = {"PLAZA_DATABASE_URL": "mysql://x"}
    with pytest.raises(ElectionError, match=r"^PLAZA_DATABASE_URL must start with postgresql://$"):
        current_leader(tmp_path, environ)


def test_a_new_leader_takes_the_lease_and_frees_a_dead_leaders_job_locks(tmp_path):
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert process_gone(f"{HOST}:{dead}:ab") and not process_gone(f"{HOST}:{os.getpid()}:ab")
    assert not process_gone(f"elsewhere.example:{dead}:ab")  # other hosts cannot be told
    try:
        for name in (locks.SCHEDULER_LEASE, "job:people"):
            assert locks.acquire(db, name, f"{HOST}:{dead}:ab") is None
        assert locks.acquire(db, "job:docs", f"{HOST}:{dead}1:cd") is None  # another process
        with leader_lease(path) as owner:
            assert locks.live_lease(db, locks.SCHEDULER_LEASE)[0] == owner
            held = db.conn.execute("SELECT name, owner FROM locks ORDER BY name").fetchall()
            assert held == [("job:docs", f"{HOST}:{dead}1:cd"), ("scheduler", owner)]
        assert locks.live_lease(db, locks.SCHEDULER_LEASE) is None
    finally:
        db.close()


# -- two real `plaza scheduler` processes ----------------------------------------------------


def start(env, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(PLAZA), "scheduler", "--poll", "0.5", "--leader-retry", "0.5"],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_leader_is_replaced_and_each_due_run_happens_once(
    backend, fresh_emulator, tmp_path, request
):
    data = tmp_path / "data"
    env = scheduler_env(fresh_emulator, data)
    if backend == "postgresql":
        env["PLAZA_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    index = SyncSettings.from_env(env).index_location  # where the schedulers will look
    db = open_index(index)
    add_job(db, people_job("people", Schedule.interval(f"{INTERVAL}s")))
    db.close()
    slow_users(fresh_emulator, 0.5)  # a run lasts long enough to be killed in the middle
    logs = {n: tmp_path / f"scheduler-{n}.log" for n in (1, 2)}
    processes = {n: start(env, log) for n, log in logs.items()}
    try:
        by_pid = {p.pid: n for n, p in processes.items()}
        leader = wait_for(lambda: _leader(data, env, by_pid), STARTING, "a leader")
        first = by_pid[leader.pid]
        other = 3 - first
        wait_for(lambda: "standing by: " in logs[other].read_text(), STARTING, "the follower")
        wait_for(lambda: _runs(index, SUCCEEDED) and _runs(index, RUNNING), 60, "a second run")
        processes[first].send_signal(signal.SIGKILL)  # in the middle of a run
        assert processes[first].wait(timeout=10) == -signal.SIGKILL
        killed_at = datetime.now().astimezone()
        wait_for(lambda: (current_leader(data, env) or leader).pid == processes[other].pid,
                 30, "the follower to lead")  # fmt: skip
        wait_for(lambda: len(_runs(index, SUCCEEDED, after=killed_at)) >= 2, 60, "2 more runs")
        shown = _status(env)
        assert (shown["alive"], shown["leader"]["host"], shown["leader"]["pid"]) == (
            True, HOST, processes[other].pid,
        )  # fmt: skip
        lines = CliRunner().invoke(main, ["status"], env=env).output.splitlines()
        assert f"scheduler: alive; leader {HOST} pid {processes[other].pid}" in lines
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        statuses = {n: p.wait(timeout=30) for n, p in processes.items()}
    assert statuses[other] == 0
    runs = finished_runs(index)
    assert SKIPPED not in {r.outcome for r in runs}  # never two leaders trying at once
    failed = [r.error for r in runs if r.outcome == FAILED]
    assert failed.count(INTERRUPTED) == 1  # the killed run
    assert set(failed) <= {INTERRUPTED, STOPPED}  # and perhaps one cut short by SIGTERM
    for earlier, later in itertools.pairwise(runs):
        assert later.started_at >= earlier.ended_at, (earlier, later)  # one at a time
        gap = datetime.fromisoformat(later.started_at) - datetime.fromisoformat(earlier.started_at)
        assert gap.total_seconds() >= INTERVAL - START_LAG, (earlier, later)  # one per due time
    led, followed = logs[first].read_text(), logs[other].read_text()
    assert "leader: this scheduler runs the jobs" in led and "standing by" not in led
    assert f"standing by: {HOST} pid {processes[first].pid}" in followed
    assert followed.index("standing by") < followed.index("leader: this scheduler runs the jobs")
    assert (
        f"the previous leader {HOST}:{processes[first].pid} is gone; released its locks:"
        " job:people" in followed
    )


def _runs(index, outcome: str, after: datetime | None = None):
    return [
        run
        for run in finished_runs(index)
        if run.outcome == outcome
        and (after is None or datetime.fromisoformat(run.started_at) > after)
    ]


def _leader(data: Path, env, pids) -> Leader | None:
    leader = current_leader(data, env)
    return leader if leader is not None and leader.pid in pids else None


def test_a_leader_whose_session_ends_steps_down_and_exits_3(postgres_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env.update(PLAZA_DATA_DIR=str(tmp_path / "data"), PLAZA_DATABASE_URL=postgres_url)
    logs = {n: tmp_path / f"scheduler-{n}.log" for n in (1, 2)}
    processes = {n: start(env, log) for n, log in logs.items()}
    try:
        by_pid = {p.pid: n for n, p in processes.items()}
        first = by_pid[wait_for(lambda: _leader(tmp_path, env, by_pid), STARTING, "a leader").pid]
        other = 3 - first
        wait_for(lambda: "standing by: " in logs[other].read_text(), STARTING, "the follower")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(  # as a DBA (or a failover) would end it
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (f"plaza scheduler {processes[first].pid} {HOST}"[:63],),
            ).fetchall()
        assert ended == [(True,)]
        assert processes[first].wait(timeout=15) == 3
        wait_for(lambda: (current_leader(tmp_path, env) or Leader("", 0)).pid
                 == processes[other].pid, 10, "the follower to lead")  # fmt: skip
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        statuses = {n: p.wait(timeout=30) for n, p in processes.items()}
    assert statuses == {first: 3, other: 0}
    assert "lost the leadership (PostgreSQL advisory lock on " in logs[first].read_text()
    assert "leader: this scheduler runs the jobs" in logs[other].read_text()


def _status(env) -> dict:
    """`plaza status --json`'s scheduler part (its exit status depends on the jobs)."""
    return json.loads(CliRunner().invoke(main, ["status", "--json"], env=env).output)["scheduler"]


def test_a_database_url_of_another_kind_is_refused_in_one_line(tmp_path):
    env = {k: None for k in os.environ if k.startswith("PLAZA_")}
    env.update(PLAZA_DATA_DIR=str(tmp_path / "data"), PLAZA_DATABASE_URL="mysql://db/plaza")
    result = CliRunner().invoke(main, ["scheduler"], env=env)
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2,
        "Error: PLAZA_DATABASE_URL must start with postgresql://",
    )
