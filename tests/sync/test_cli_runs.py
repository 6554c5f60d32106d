"""`plaza sync run` and `plaza sync history` against the real emulator: log lines and the
run's summary, runs that fail or are skipped with the engine's words, the exact history table,
progress as log lines or a bar on a terminal, and a real `plaza` process. Managing jobs is in
test_cli.py.
"""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from sync.db import open_index
from sync.progress import BarProgress, LogProgress, progress_for
from sync.runs import history
from tests.postgres import index_at, index_env
from tests.sync.conftest import index_of, plaza
from tests.sync.emulated import sync_env

PLAZA = Path(sys.executable).parent / "plaza"

LOG_LINE = r"\d\d:\d\d:\d\d synced \d+ items?, \d+ pages?, 0 throttled waits \(0\.0 s\)"


def summary(run) -> str:
    return (
        f"run {run.id} of {run.job} succeeded in {run.seconds:.1f} s: {run.counts.added} added, "
        f"{run.counts.updated} updated, {run.counts.moved} moved, {run.counts.deleted} deleted, "
        f"{run.counts.permission_changes} permission changes, 0 throttled waits (0.0 s)"
    )


# -- run, history -----------------------------------------------------------------------------


def test_run_prints_log_lines_and_a_summary(emulator, env):
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    result = plaza(env, "sync", "run", "people")
    assert (result.exit_code, result.stderr) == (0, "")
    db = index_of(env)
    (run,) = history(db)
    db.close()
    *logs, last = result.stdout.splitlines()
    assert logs and all(re.fullmatch(LOG_LINE, line) for line in logs), logs
    assert last == summary(run)
    assert run.counts.added > 0


def test_run_all_runs_enabled_jobs_only(emulator, env):
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    plaza(env, "sync", "add", "tax", "--site", f"{emulator.base_url}/sites/tax", "--every", "1h")
    plaza(env, "sync", "add", "all", "--all-sites", "--every", "1h")
    plaza(env, "sync", "pause", "all")
    result = plaza(env, "sync", "run", "--all", "--full")
    assert (result.exit_code, result.stderr) == (0, "")
    db = index_of(env)
    runs = list(reversed(history(db)))
    db.close()
    assert [(r.job, r.outcome, r.full) for r in runs] == [
        ("people", "succeeded", True),
        ("tax", "succeeded", True),
    ]
    summaries = [line for line in result.stdout.splitlines() if line.startswith("run ")]
    assert summaries == [summary(r) for r in runs]


def test_run_with_revoked_consent_fails_with_the_engines_words(fresh_emulator, tmp_path):
    env = sync_env(fresh_emulator, tmp_path / "data")
    plaza(
        env, "sync", "add", "tax", "--site", f"{fresh_emulator.base_url}/sites/tax", "--every", "1h"
    )
    client_id = fresh_emulator.info["client_id"]
    fresh_emulator.session().put(
        f"{fresh_emulator.base_url}/_emulator/apps/{client_id}/roles", json={"roles": []}
    ).raise_for_status()
    result = plaza(env, "sync", "run", "tax")
    db = index_of(env)
    (run,) = history(db)
    db.close()
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: run 1 of tax failed after {run.seconds:.1f} s: the app is not allowed to read "
        "this: Microsoft Graph answered 403 because the application permission Sites.Read.All "
        "is not granted; an admin must add it in Entra ID (App registrations -> API "
        "permissions -> Add a permission -> Microsoft Graph -> Application permissions) and "
        f"grant admin consent (request-id {run.request_id})\n"
    )


def test_run_of_a_job_running_elsewhere(env):
    from sync import locks

    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    db = index_of(env)
    locks.acquire(db, "job:people", "batch-7:311:0a1b2c3d")
    db.close()
    result = plaza(env, "sync", "run", "people")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: run 1 of people skipped: job 'people' is already running "
        "(lock held by batch-7:311:0a1b2c3d)\n",
    )


def test_history_is_exact(env):
    from sync.engine import RunCounts
    from sync.runs import FAILED, SUCCEEDED, finish_run, record_skipped, start_run

    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    plaza(env, "sync", "add", "tenant-docs", "--all-sites", "--every", "15m")
    db = index_of(env)
    one = start_run(db, "tenant-docs", full=True)
    finish_run(
        db,
        one,
        SUCCEEDED,
        RunCounts(
            added=1204,
            updated=3,
            moved=2,
            deleted=1,
            permission_changes=17,
            throttled_waits=2,
            throttled_seconds=3.25,
        ),
    )
    two = start_run(db, "people", full=False)
    finish_run(
        db,
        two,
        FAILED,
        RunCounts(added=5),
        "Microsoft is still throttling this app after every retry (request-id 8d1c)",
        "8d1c",
    )
    record_skipped(db, "people", False, "host:9:ab")
    times = [
        ("2024-05-01T09:00:00.000+00:00", "2024-05-01T09:02:05.500+00:00"),
        ("2024-05-01T10:00:00.000+00:00", "2024-05-01T10:00:01.250+00:00"),
        ("2024-05-01T10:00:00.500+00:00", "2024-05-01T10:00:00.500+00:00"),
    ]
    for run_id, (started, ended) in enumerate(times, start=1):
        db.conn.execute(
            "UPDATE runs SET started_at = ?, ended_at = ? WHERE id = ?", (started, ended, run_id)
        )
    db.close()
    header = (
        "RUN  JOB          STARTED (UTC)        SECONDS  OUTCOME           ADDED  UPDATED  MOVED  "
        "DELETED  PERMISSIONS  THROTTLED  ERROR"
    )
    rows = [
        "3    people       2024-05-01 10:00:00  0.0      skipped           0      0        0      "
        "0        0            0 (0.0 s)  job 'people' is already running (lock held by host:9:ab)",
        "2    people       2024-05-01 10:00:00  1.2      failed            5      0        0      "
        "0        0            0 (0.0 s)  Microsoft is still throttling this app after every "
        "retry (request-id 8d1c)",
        "1    tenant-docs  2024-05-01 09:00:00  125.5    succeeded (full)  1204   3        2      "
        "1        17           2 (3.2 s)",
    ]
    result = plaza(env, "sync", "history")
    assert (result.exit_code, result.stdout) == (0, "\n".join([header, *rows]) + "\n")
    result = plaza(env, "sync", "history", "people", "--limit", "1")
    assert result.stdout.splitlines()[1:] == [
        "3    people  2024-05-01 10:00:00  0.0      skipped  0      0        0      0        0"
        "            0 (0.0 s)  job 'people' is already running (lock held by host:9:ab)"
    ]


def test_history_of_a_job_that_never_ran(env):
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    assert plaza(env, "sync", "history", "people").stdout == "no runs yet\n"


# -- progress ---------------------------------------------------------------------------------


def test_log_progress_lines():
    stream = io.StringIO()
    clock = iter([0.0, 1.0, 6.0, 7.0]).__next__
    with LogProgress(stream, every=5.0, clock=clock) as progress:
        progress.on_page(200)
        progress.on_page(200)
        progress.on_throttled(2.0)
        progress.on_page(50)
        progress.on_message("reading site groups of Tax")
        progress.on_page(10)
    lines = stream.getvalue().splitlines()
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in lines)
    assert [line[9:] for line in lines] == [
        "synced 200 items, 1 page, 0 throttled waits (0.0 s)",
        "throttled: waiting 2.0 s",
        "synced 450 items, 3 pages, 1 throttled wait (2.0 s)",
        "reading site groups of Tax",
        "synced 460 items, 4 pages, 1 throttled wait (2.0 s)",
    ]


def test_bar_progress_and_the_choice_between_them():
    stream = io.StringIO()
    with progress_for(stream, title="tenant-docs", terminal=True) as progress:
        assert isinstance(progress, BarProgress)
        progress.on_page(1)
        progress.on_throttled(0.5)
    assert "tenant-docs 1 item, 1 page, 1 throttled wait (0.5 s)" in stream.getvalue()
    assert isinstance(progress_for(io.StringIO()), LogProgress)  # not a terminal


# -- a real `plaza` process --------------------------------------------------------------------


def process_env(handle, tmp_path) -> tuple[dict[str, str], Path]:
    env_file = tmp_path / "emulator.env"
    handle.write_env(env_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env["PLAZA_DATA_DIR"] = str(tmp_path / "data")
    env.update(index_env(tmp_path / "data" / "index.db"))
    return env, env_file


def test_plaza_sync_in_a_subprocess(emulator, tmp_path):
    env, env_file = process_env(emulator, tmp_path)
    tax = f"{emulator.base_url}/sites/tax"

    def sync(*args: str) -> subprocess.CompletedProcess:
        command = [str(PLAZA), "sync", "--env-file", str(env_file), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    added = sync("add", "tax-docs", "--site", tax, "--every", "1h")
    assert (added.returncode, added.stdout, added.stderr) == (
        0,
        f"added job tax-docs: sites {tax}, every 1h\n",
        "",
    )
    ran = sync("run", "tax-docs")
    assert (ran.returncode, ran.stderr) == (0, "")
    db = open_index(index_at(tmp_path / "data" / "index.db"))
    (run,) = history(db)
    items = db.conn.execute("SELECT COUNT(*) FROM items WHERE deleted = 0").fetchone()[0]
    db.close()
    *logs, last = ran.stdout.splitlines()
    assert logs and all(re.fullmatch(LOG_LINE, line) for line in logs)
    assert last == summary(run)
    assert run.counts.added == items > 0
    missing = sync("add", "other", "--site", f"{emulator.base_url}/sites/nope", "--every", "1h")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith(f"Error: no SharePoint site at {emulator.base_url}/sites/nope")
    assert missing.stderr.count("\n") == 1


def test_plaza_sync_run_on_a_terminal_shows_a_bar(emulator, tmp_path):
    env, env_file = process_env(emulator, tmp_path)
    command = [str(PLAZA), "sync", "--env-file", str(env_file)]
    subprocess.run(
        [*command, "add", "people", "--people", "--every", "1h"],
        env=env,
        check=True,
        capture_output=True,
    )
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*command, "run", "people"],
        env={**env, "COLUMNS": "120"},
        stdout=terminal,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0
    process.stderr.close()
    drawn = screen.decode()
    assert "\x1b[2K" in drawn  # redrawn in place with terminal control codes, not log lines
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    assert re.search(r"people \d+ items, \d+ pages, 0 throttled waits \(0\.0 s\) 0:00:0", text)
    assert "run 1 of people succeeded in " in text
