"""`plaza sync ...` through click's CliRunner and a real subprocess, against the real emulator."""

from __future__ import annotations

import io
import os
import pty
import re
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import read_env_file
from overlay_app.cli import main
from sync.db import open_index
from sync.jobs import get_job, list_jobs
from sync.progress import BarProgress, LogProgress, progress_for
from sync.runs import history
from sync.schedules import Schedule

PLAZA = Path(sys.executable).parent / "plaza"
NOT_FOUND = "Error: no job named 'nope' (see `plaza sync list`)\n"


def sync_env(handle, data_dir: Path, **extra: str) -> dict[str, str | None]:
    """PLAZA_* for the emulator (as `write_env` writes them) and a data directory; any other
    PLAZA_* of the developer's shell is removed."""
    env_file = data_dir.parent / f"{data_dir.name}.env"
    handle.write_env(env_file)
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PLAZA_")}
    env.update(read_env_file(env_file))
    env.update(PLAZA_DATA_DIR=str(data_dir), PLAZA_HTTP_TIMEOUT="10", **extra)
    return env


@pytest.fixture
def env(emulator, tmp_path):
    return sync_env(emulator, tmp_path / "data")


def plaza(env, *args: str):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def index_of(env):
    return open_index(Path(env["PLAZA_DATA_DIR"]) / "index.db")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- add, list, show, edit, pause, resume, remove --------------------------------------------


def test_add_list_show(emulator, env):
    tax = f"{emulator.base_url}/sites/tax"
    assert plaza(env, "sync", "add", "tenant-docs", "--all-sites", "--every", "15m").stdout == (
        "added job tenant-docs: all sites, every 15m\n"
    )
    assert plaza(env, "sync", "add", "people", "--people", "--every", "1h").stdout == (
        "added job people: people and groups, every 1h\n"
    )
    result = plaza(
        env,
        "sync",
        "add",
        "tax",
        "--site",
        tax + "/",
        "--include",
        "/Clients/*",
        "--file-type",
        ".PDF",
        "--cron",
        "0 9 * * 1-5",
        "--tz",
        "Europe/London",
    )
    assert result.exit_code == 0
    assert result.stdout == (
        f"added job tax: sites {tax}; include /Clients/*; file types pdf, "
        "cron '0 9 * * 1-5' (Europe/London)\n"
    )
    assert plaza(env, "sync", "list").stdout == (
        "NAME         KIND       SCHEDULE                            STATUS   LAST RUN (UTC)  "
        "WHAT\n"
        "people       people     every 1h                            enabled  never           "
        "people and groups\n"
        "tax          documents  cron '0 9 * * 1-5' (Europe/London)  enabled  never           "
        f"sites {tax}; include /Clients/*; file types pdf\n"
        "tenant-docs  documents  every 15m                           enabled  never           "
        "all sites\n"
    )
    db = index_of(env)
    job = get_job(db, "tax")
    db.close()
    created = datetime.fromisoformat(job.created_at).strftime("%Y-%m-%d %H:%M:%S")
    next_run = Schedule.crontab("0 9 * * 1-5", "Europe/London").next_run(None, datetime.now(UTC))
    assert plaza(env, "sync", "show", "tax").stdout == (
        "name:      tax\n"
        "kind:      documents\n"
        "status:    enabled\n"
        "schedule:  cron '0 9 * * 1-5' (Europe/London)\n"
        f"site:      {tax}\n"
        "include:   /Clients/*\n"
        "file types: pdf\n"
        f"created:   {created} UTC\n"
        f"updated:   {created} UTC\n"
        "last run:  never\n"
        f"next run:  {next_run.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC (when `plaza scheduler` "
        "runs)\n"
    )


def test_edit_pause_resume_remove(emulator, env):
    plaza(env, "sync", "add", "docs", "--site", f"{emulator.base_url}/sites/tax", "--every", "1h")
    plaza(env, "sync", "add", "people", "--people", "--cron", "0 * * * *", "--tz", "Asia/Tokyo")
    edit = plaza(env, "sync", "edit", "docs", "--site-search", "Tax", "--exclude", "/Old/*")
    assert edit.stdout == ("updated job docs: sites matching 'Tax'; exclude /Old/*, every 1h\n")
    assert plaza(env, "sync", "edit", "docs", "--library", "Policies", "--every", "30m").stdout == (
        "updated job docs: sites matching 'Tax'; libraries Policies; exclude /Old/*, every 30m\n"
    )
    # a new --cron keeps the job's time zone; --tz alone moves it
    assert plaza(env, "sync", "edit", "people", "--cron", "30 * * * *").stdout == (
        "updated job people: people and groups, cron '30 * * * *' (Asia/Tokyo)\n"
    )
    assert plaza(env, "sync", "edit", "people", "--tz", "UTC").stdout == (
        "updated job people: people and groups, cron '30 * * * *' (UTC)\n"
    )
    assert plaza(env, "sync", "pause", "docs").stdout == "paused job docs\n"
    assert "  paused   " in plaza(env, "sync", "list").stdout.splitlines()[1]
    assert plaza(env, "sync", "resume", "docs").stdout == "resumed job docs\n"
    assert plaza(env, "sync", "remove", "people").stdout == "removed job people\n"
    db = index_of(env)
    assert [(j.name, j.enabled) for j in list_jobs(db)] == [("docs", True)]
    db.close()


def test_library_alone_means_every_site(env):
    result = plaza(
        env, "sync", "add", "deliverables", "--library", "Client Deliverables", "--every", "1d"
    )
    assert result.stdout == (
        "added job deliverables: all sites; libraries Client Deliverables, every 1d\n"
    )


# -- bad input: one line on stderr, non-zero exit, nothing written -----------------------------


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (
            ["add", "Tenant Docs", "--all-sites", "--every", "1h"],
            2,
            "job name 'Tenant Docs' is not valid: use lower-case letters, digits and '-' only",
        ),
        (
            ["add", "docs", "--all-sites", "--every", "15"],
            2,
            "interval '15' is not valid: use a number and a unit s, m, h or d, such as 15m, 1h "
            "or 1d",
        ),
        (
            ["add", "docs", "--all-sites", "--cron", "61 * * * *"],
            2,
            "cron expression '61 * * * *' is not valid: Error validating expression '61': "
            "the last value (61) is higher than the maximum value (59)",
        ),
        (
            ["add", "docs", "--all-sites", "--cron", "0 * * *"],
            2,
            "cron expression '0 * * *' is not valid: Wrong number of fields; got 4, expected 5",
        ),
        (
            ["add", "docs", "--all-sites", "--cron", "0 * * * *", "--tz", "Mars/Olympus"],
            2,
            "time zone 'Mars/Olympus' is unknown (use an IANA name such as Europe/London)",
        ),
        (
            ["add", "docs", "--all-sites", "--every", "1h", "--tz", "UTC"],
            2,
            "--tz applies to --cron schedules only",
        ),
        (
            ["add", "docs", "--all-sites", "--every", "1h", "--cron", "0 * * * *"],
            2,
            "give either --every or --cron, not both",
        ),
        (
            ["add", "docs", "--all-sites"],
            2,
            "say when the job runs: --every INTERVAL or --cron EXPR",
        ),
        (
            ["add", "docs", "--every", "1h"],
            2,
            "choose the sites with exactly one of --all-sites, --site URL, --site-search QUERY "
            "(or --library alone for those libraries on every site)",
        ),
        (
            ["add", "staff", "--people", "--all-sites", "--every", "1h"],
            2,
            "--people mirrors people and groups: it takes no site options",
        ),
        (["add", "people", "--people", "--every", "2h"], 1, "a job named 'people' already exists"),
        (
            ["edit", "people", "--all-sites"],
            2,
            "job 'people' mirrors people and groups: it takes no site options",
        ),
        (["edit", "people"], 2, "nothing to change: give the options to replace"),
        (
            ["edit", "people", "--every", "bad"],
            2,
            "interval 'bad' is not valid: use a number and a unit s, m, h or d, such as 15m, 1h "
            "or 1d",
        ),
        (["run"], 2, "give a job NAME or --all"),
        (["run", "people", "--all"], 2, "give a job NAME or --all"),
    ],
)
def test_bad_input(env, args, status, message):
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    db = index_of(env)
    before = list_jobs(db)
    db.close()
    result = plaza(env, "sync", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (status, "", f"Error: {message}\n")
    db = index_of(env)
    assert list_jobs(db) == before
    db.close()


@pytest.mark.parametrize(
    "command",
    [["show"], ["edit", "--every", "1h"], ["remove"], ["pause"], ["resume"], ["run"], ["history"]],
)
def test_unknown_job(env, command):
    result = plaza(env, "sync", command[0], "nope", *command[1:])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_FOUND)


def test_unknown_site_url(emulator, env):
    url = f"{emulator.base_url}/sites/no-such-site"
    result = plaza(env, "sync", "add", "docs", "--site", url, "--every", "1h")
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"Error: no SharePoint site at {re.escape(url)} \(request-id [0-9a-f-]{{36}}\)\n",
        result.stderr,
    )
    db = index_of(env)
    assert list_jobs(db) == []
    db.close()


def test_unreachable_tenant(emulator, tmp_path):
    graph = f"https://localhost:{closed_port()}/v1.0"
    env = sync_env(emulator, tmp_path / "data", PLAZA_GRAPH_URL=graph, PLAZA_MAX_RETRIES="0")
    result = plaza(
        env, "sync", "add", "docs", "--site", f"{emulator.base_url}/sites/tax", "--every", "1h"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: the tenant does not answer: GET /v1.0/sites/localhost:/sites/tax failed: "
    )
    assert result.stderr.count("\n") == 1
    db = index_of(env)
    assert list_jobs(db) == []
    db.close()


def test_unusable_connector_settings(emulator, tmp_path):
    env = sync_env(emulator, tmp_path / "data", PLAZA_CLIENT_ID="")
    result = plaza(
        env, "sync", "add", "docs", "--site", f"{emulator.base_url}/sites/tax", "--every", "1h"
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: invalid connector settings: PLAZA_CLIENT_ID is required (the application "
        "(client) id of the app registration)\n",
    )


def test_index_from_a_newer_plaza(env):
    path = Path(env["PLAZA_DATA_DIR"]) / "index.db"
    plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('plaza.index', 'm999_from_the_future', '2030-01-01')"
        )
    message = (
        f"Error: {path} was written by a newer Plaza (migrations m999_from_the_future): "
        "upgrade Plaza or point PLAZA_DATA_DIR at another directory\n"
    )
    for args in (
        ["add", "docs", "--all-sites", "--every", "1h"],
        ["list"],
        ["show", "people"],
        ["edit", "people", "--every", "2h"],
        ["pause", "people"],
        ["remove", "people"],
        ["run", "people"],
        ["run", "--all"],
        ["history"],
    ):
        result = plaza(env, "sync", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", message), args
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name, schedule, enabled FROM jobs").fetchall() == [
            ("people", '{"every": "1h"}', 1)
        ]
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)


# -- run, history ----------------------------------------------------------------------------

LOG_LINE = r"\d\d:\d\d:\d\d synced \d+ items?, \d+ pages?, 0 throttled waits \(0\.0 s\)"


def summary(run) -> str:
    return (
        f"run {run.id} of {run.job} succeeded in {run.seconds:.1f} s: {run.added} added, "
        f"{run.updated} updated, {run.moved} moved, {run.deleted} deleted, "
        f"{run.permission_changes} permission changes, 0 throttled waits (0.0 s)"
    )


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
    assert run.added > 0


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
    db = open_index(tmp_path / "data" / "index.db")
    (run,) = history(db)
    items = db.conn.execute("SELECT COUNT(*) FROM items WHERE deleted = 0").fetchone()[0]
    db.close()
    *logs, last = ran.stdout.splitlines()
    assert logs and all(re.fullmatch(LOG_LINE, line) for line in logs)
    assert last == summary(run)
    assert run.added == items > 0
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
