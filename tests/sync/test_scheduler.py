"""The scheduler: reconciling with the jobs table in-process, and two real `plaza scheduler`
processes on one index that never run one job twice at once (one leads, the other stands by;
tests/sync/test_leader.py kills the leader)."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from connector.cli import read_env_file
from plaza.cli import main
from sync.db import open_index
from sync.jobs import add_job, documents_job, people_job, remove_job, set_enabled, update_job
from sync.runs import FAILED, SKIPPED, SUCCEEDED, history
from sync.scheduler import STOPPED, SyncScheduler
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from tests.postgres import index_at, sqlite_only

PLAZA = Path(sys.executable).parent / "plaza"


def scheduled(scheduler: SyncScheduler) -> dict[str, tuple[str, datetime | None]]:
    return {
        job.name: (str(job.trigger), job.next_run_time)
        for job in scheduler.scheduler.get_jobs()
        if job.id.startswith("sync:")
    }


def test_reconcile_follows_the_jobs_table(tmp_path):
    path = index_at(tmp_path / "index.db")
    db = open_index(path)
    scheduler = SyncScheduler(path, poll_seconds=1)
    try:
        before = datetime.now(UTC)
        add_job(db, people_job("people", Schedule.interval("1h")))
        docs = add_job(
            db,
            documents_job(
                "docs",
                DocumentTarget(all_sites=True),
                Schedule.crontab("0 9 * * 1", "Europe/London"),
            ),
        )
        add_job(db, replace(people_job("paused", Schedule.interval("1m")), enabled=False))
        scheduler.reconcile()
        jobs = scheduled(scheduler)
        assert set(jobs) == {"people", "docs"}
        assert jobs["people"][0] == str(IntervalTrigger(hours=1, timezone=UTC))
        assert before <= jobs["people"][1] <= datetime.now(UTC)  # never ran: right away
        assert jobs["docs"][0] == str(CronTrigger.from_crontab("0 9 * * mon"))
        assert jobs["docs"][1] == Schedule.crontab("0 9 * * 1", "Europe/London").next_run(
            None, datetime.now(UTC)
        )

        update_job(
            db, documents_job("docs", DocumentTarget(all_sites=True), Schedule.interval("15m"))
        )
        set_enabled(db, "people", False)
        set_enabled(db, "paused", True)
        scheduler.reconcile()
        jobs = scheduled(scheduler)
        assert set(jobs) == {"docs", "paused"}
        assert jobs["docs"][0] == str(IntervalTrigger(minutes=15, timezone=UTC))

        remove_job(db, "paused")
        update_job(db, docs)  # a change of target only needs no rescheduling
        scheduler.reconcile()
        assert set(scheduled(scheduler)) == {"docs"}
    finally:
        scheduler.db.close()
        db.close()


# -- two real scheduler processes ------------------------------------------------------------


def scheduler_env(handle, data_dir: Path) -> dict[str, str]:
    env_file = data_dir.parent / "emulator.env"
    handle.write_env(env_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env.update(read_env_file(env_file))
    env.update(PLAZA_DATA_DIR=str(data_dir), PLAZA_HTTP_TIMEOUT="10")
    location = index_at(data_dir / "index.db")
    if isinstance(location, str):  # PLAZA_TEST_BACKEND=postgres: the index there
        env["PLAZA_DATABASE_URL"] = location
    return env


def start_scheduler(env, log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [str(PLAZA), "scheduler", "--poll", "0.5"], env=env, stdout=log, stderr=log
        )


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finished_runs(path: Path):
    db = open_index(path)
    try:
        return list(reversed(history(db, limit=1000)))
    finally:
        db.close()


def slow_users(handle, seconds: float) -> None:
    """Every page of users delta waits `seconds` (so a people run has a known length)."""
    rule = {"kind": "slow", "path": "^/v1.0/users/delta", "seconds": seconds, "count": -1}
    response = handle.session().post(f"{handle.base_url}/_emulator/faults", json={"rules": [rule]})
    response.raise_for_status()


def stop(processes: list[subprocess.Popen]) -> list[int]:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    return [process.wait(timeout=30) for process in processes]


def test_two_schedulers_never_run_a_job_twice_at_once(fresh_emulator, tmp_path):
    data = tmp_path / "data"
    path = index_at(data / "index.db")
    env = scheduler_env(fresh_emulator, data)
    open_index(path).close()
    slow_users(fresh_emulator, 0.6)  # a run outlasts the phase gap between the two (< poll)
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    processes = [start_scheduler(env, log) for log in logs]
    try:
        for log in logs:
            wait_for(lambda log=log: "scheduler started" in log.read_text(), 60, f"{log.name}")
        # added while both run: picked up without a restart
        db = open_index(path)
        add_job(db, people_job("people", Schedule.interval("1s")))
        db.close()
        wait_for(
            lambda: sum(r.outcome == SUCCEEDED for r in finished_runs(path)) >= 3, 60, "3 runs"
        )
    finally:
        statuses = stop(processes)
    assert statuses == [0, 0]
    runs = finished_runs(path)
    worked = [r for r in runs if r.outcome != SKIPPED]
    assert {r.outcome for r in worked} <= {SUCCEEDED, FAILED}
    for earlier, later in itertools.pairwise(worked):
        assert later.started_at >= earlier.ended_at, (earlier, later)
    assert all(r.ended_at for r in runs)
    for failed in (r for r in worked if r.outcome == FAILED):
        assert failed.error == STOPPED  # only a run cut short by SIGTERM may fail
    assert [r for r in runs if r.outcome == SKIPPED] == []  # only the leader ran it
    texts = [log.read_text() for log in logs]
    assert sorted("leader: this scheduler runs the jobs" in text for text in texts) == [
        False,
        True,
    ]
    assert sorted("standing by: " in text for text in texts) == [False, True]
    assert all("scheduler stopped" in text for text in texts)


def test_sigterm_stops_a_running_job_after_its_page(fresh_emulator, tmp_path):
    data = tmp_path / "data"
    path = index_at(data / "index.db")
    env = scheduler_env(fresh_emulator, data)
    db = open_index(path)
    add_job(db, people_job("people", Schedule.interval("1h")))
    db.close()
    slow_users(fresh_emulator, 2.0)
    process = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        wait_for(lambda: finished_runs(path), 30, "the run to start")
        time.sleep(0.3)  # inside the first page of users
    finally:
        assert stop([process]) == [0]
    (run,) = finished_runs(path)
    assert (run.outcome, run.error) == (FAILED, STOPPED)
    assert datetime.fromisoformat(run.ended_at) - datetime.fromisoformat(run.started_at) < (
        timedelta(seconds=10)
    )
    assert "job people: run 1 failed: stopped: the scheduler was asked to stop" in (
        (tmp_path / "scheduler.log").read_text()
    )


@pytest.mark.parametrize("signum", [signal.SIGINT])
def test_sigint_stops_an_idle_scheduler(tmp_path, signum):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env["PLAZA_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "scheduler.log"
    process = start_scheduler(env, log)
    wait_for(lambda: "scheduler started" in log.read_text(), 30, "start")
    process.send_signal(signum)
    assert process.wait(timeout=30) == 0
    assert "scheduler stopped" in log.read_text()


@sqlite_only("migrations table of SQLite; PostgreSQL's refusal: test_pg_index_schema")
def test_scheduler_refuses_an_index_from_a_newer_plaza(tmp_path):
    path = index_at(tmp_path / "data" / "index.db")
    open_index(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('plaza.index', 'm999_from_the_future', '2030-01-01')"
        )
    env = {k: None for k in os.environ if k.startswith("PLAZA_")}
    env["PLAZA_DATA_DIR"] = str(tmp_path / "data")
    result = CliRunner().invoke(main, ["scheduler"], env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: {path} was written by a newer Plaza (migrations m999_from_the_future): "
        "upgrade Plaza or point PLAZA_DATA_DIR at another directory\n",
    )
