"""`plaza sync add/list/show/edit/pause/resume/remove` through click's CliRunner against the
real emulator: what each prints, and bad input (or a tenant that cannot be used) refused with
one line on stderr, a non-zero exit and nothing written. Running jobs, history and progress are
in test_cli_runs.py.
"""

from __future__ import annotations

import re
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync.jobs import get_job, list_jobs
from sync.schedules import Schedule
from tests.postgres import sqlite_only
from tests.sync.conftest import index_of, plaza
from tests.sync.emulated import sync_env

NOT_FOUND = "Error: no job named 'nope' (see `plaza sync list`)\n"


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


@sqlite_only("migrations table of SQLite; PostgreSQL's refusal: test_pg_index_schema")
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
