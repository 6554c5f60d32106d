"""`plaza demo` starts the emulator, syncs, starts the scheduler and the web app, prints the URL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest
import requests

from plaza import local_postgres
from plaza.demo_database import cluster_dir
from sync.db import index_location
from tests.overlay_app.demo_insights import check_insights_of_the_demo
from tests.overlay_app.demo_revocation import (
    check_revocation_reaches_the_page,
    demo_settings,
    shared_file,
    signed_in,
)

PLAZA = str(Path(sys.executable).with_name("plaza"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_demo_runs_everything_and_stops_cleanly(tmp_path, backend):
    env = {k: v for k, v in os.environ.items() if k != "PLAZA_DATABASE_URL"}
    env["PLAZA_DATA_DIR"] = str(tmp_path)
    command = [PLAZA, "demo", "--port", "0", "--web-port", "0", "--realtime-port", "0"]
    if backend == "postgresql":
        needs_postgresql()
        command.append("--postgres")
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            lines = read_until(process, "Press Ctrl-C to stop.")
            if backend == "postgresql":
                cluster = cluster_dir(tmp_path)
                assert lines.pop(0) == f"PostgreSQL running for the demo, data in {cluster}"
            check_running_demo(lines, tmp_path)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
    files = {"index.db", "overlay.db", "auth.db"} & {path.name for path in tmp_path.iterdir()}
    assert files == (set() if backend == "postgresql" else {"index.db", "overlay.db", "auth.db"})
    if backend == "postgresql":  # the demo's own server stopped with it
        assert not (cluster / "postmaster.pid").exists()
        shutil.rmtree(cluster, ignore_errors=True)


def test_a_second_demo_on_the_same_data_syncs_and_keeps_the_comments(tmp_path):
    """The README's command run again on its data directory, the emulator on another port
    (`--port 0` takes any): the first run's cursors and subscriptions name the old port, yet
    the second run syncs, and a comment acknowledged in the first run is still there."""
    env = {k: v for k, v in os.environ.items() if k != "PLAZA_DATABASE_URL"}
    env["PLAZA_DATA_DIR"] = str(tmp_path)
    first_port, second_port, web_port = free_ports(3)  # the web app's as in the README: fixed
    with running_demo(env, first_port, web_port) as (_, web_url):
        info = json.loads((tmp_path / "emulator.json").read_text())
        upn = info["users"][0]
        drive_id, _, item_id, _ = shared_file(index_location(tmp_path / "index.db", None), upn)
        comments = f"/api/v1/documents/{drive_id}/{item_id}/comments"
        web = signed_in(web_url, info, upn)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', web.get(web_url).text)[1]
        body = {"body": "Written before the restart."}
        made = web.post(web_url + comments, json=body, headers={"X-CSRF-Token": csrf}, timeout=30)
        assert made.status_code == 201, made.text
    with running_demo(env, second_port, web_port) as (lines, web_url):
        assert lines[0] == f"Tenant emulator running at https://localhost:{second_port}"
        assert lines[1:5] == ["Syncing people ...", lines[2], "Syncing tenant-docs ...", lines[4]]
        assert re.fullmatch(r"  0 added, 40 updated in \d+\.\d s", lines[2])
        assert re.fullmatch(r"  0 added, 0 updated in \d+\.\d s", lines[4])
        info = json.loads((tmp_path / "emulator.json").read_text())
        listed = signed_in(web_url, info, upn).get(web_url + comments, timeout=30)
        assert listed.status_code == 200, listed.text
        assert made.json()["id"] in {c["id"] for c in listed.json()["comments"]}
        assert subscriptions_held_by(tmp_path, info)  # not those the first emulator held
        assert all(f":{first_port}/" not in link for (link,) in store_rows(
            tmp_path, "index", "SELECT delta_link FROM cursors"))  # fmt: skip


@contextmanager
def running_demo(env: dict[str, str], port: int, web_port: int) -> Iterator[tuple[list[str], str]]:
    """`plaza demo` with its emulator on `port`: its lines up to "Press Ctrl-C" and its URL,
    then stopped as Ctrl-C would."""
    ports = ["--port", str(port), "--web-port", str(web_port), "--realtime-port", "0"]
    command = [PLAZA, "demo", *ports]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            lines = read_until(process, "Press Ctrl-C to stop.")
            web_url = next(line for line in lines if line.startswith("Plaza is running: open "))
            yield lines, web_url.removeprefix("Plaza is running: open ")
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0


def subscriptions_held_by(data_dir: Path, info: dict) -> bool:
    """Whether, within a minute, the subscriptions the index stores are those the running
    emulator holds (its control API says which)."""
    origin = info["authority"].rsplit("/", 1)[0]
    deadline = time.monotonic() + 60
    with requests.Session() as session:
        session.verify, session.trust_env = info["ca_file"], False
        while time.monotonic() < deadline:
            answer = session.get(f"{origin}/_emulator/subscriptions", timeout=30)
            held = {found["id"] for found in answer.json()["subscriptions"]}
            stored = store_rows(data_dir, "index", "SELECT subscription_id FROM subscriptions")
            if held and {row[0] for row in stored} == held:
                return True
            time.sleep(0.5)
    return False


def free_ports(count: int) -> list[int]:
    """Distinct ports free now (held open together, so that they differ)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def needs_postgresql() -> None:
    try:
        local_postgres.server_bin_dir()
    except local_postgres.PostgresMissing as missing:
        pytest.skip(str(missing))


def store_rows(data_dir: Path, store: str, sql: str) -> list[tuple]:
    """Rows of `sql` on the demo's index or social store: its SQLite file, or PostgreSQL."""
    url = demo_settings(data_dir).get("PLAZA_DATABASE_URL")
    if url:
        with psycopg.connect(url, options="-c search_path=plaza_index,public") as conn:
            return conn.execute(sql).fetchall()
    with closing(sqlite3.connect(data_dir / f"{store}.db")) as conn:
        return conn.execute(sql).fetchall()


def read_until(process: subprocess.Popen, last: str) -> list[str]:
    lines = []
    while not lines or lines[-1] != last:
        line = process.stdout.readline()
        assert line, f"demo stopped early after: {lines}"
        lines.append(line.rstrip("\n"))
    return lines


def check_running_demo(lines: list[str], data_dir: Path) -> None:
    emulator_url = lines[0].removeprefix("Tenant emulator running at ")
    info = json.loads((data_dir / "emulator.json").read_text())
    assert info["graph_url"] == f"{emulator_url}/v1.0"
    assert lines[1:5] == [
        "Syncing people ...",
        lines[2],
        "Syncing tenant-docs ...",
        lines[4],
    ]
    assert re.fullmatch(r"  40 added, 0 updated in \d+\.\d s", lines[2])
    assert re.fullmatch(r"  400 added, 0 updated in \d+\.\d s", lines[4])
    web_url = next(line for line in lines if line.startswith("Plaza is running: open "))
    web_url = web_url.removeprefix("Plaza is running: open ")
    jobs = store_rows(data_dir, "index", "SELECT name, kind FROM jobs ORDER BY name")
    assert jobs == [("people", "people"), ("tenant-docs", "documents")]
    # A firm at work: ten conversations of two to five comments (37 in all, from six scripts
    # taken in turn), with likes and tags, and a channel of five messages by five people.
    assert "  108 demo comments, likes, tags and messages written" in lines
    counts = [store_rows(data_dir, "overlay", f"SELECT count(*) FROM {t}")[0][0]
              for t in ("comments", "tags", "messages")]  # fmt: skip
    assert counts == [37, 15, 5]
    answer = wait_for(web_url)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/signin?next=%2F"
    settings = dict(line.split("=", 1) for line in (data_dir / "emulator.env").read_text().split())
    streams = wait_for(settings["PLAZA_REALTIME_URL"] + "/api/v1/events")
    assert streams.status_code == 401  # the live-chat process answers, and wants a signed-in person
    assert settings["PLAZA_ADMIN_GROUP_ID"] and settings["PLAZA_MODERATOR_GROUP_ID"]
    assert any(line.startswith("  Admin console (/admin): sign in as ") for line in lines)
    check_status(data_dir, settings)
    check_demo_mail(lines, data_dir, web_url)
    assert wait_for_subscriptions(data_dir).startswith("notifications: ")
    admin = next(line for line in lines if line.startswith("  Admin console (/admin): sign in as "))
    upn = admin.split(" sign in as ")[1].split(";")[0]
    check_insights_of_the_demo(data_dir, web_url, upn)
    seconds = check_revocation_reaches_the_page(data_dir, web_url, upn)
    assert seconds < 60


def wait_for_subscriptions(data_dir: Path) -> str:
    """What the scheduler says of change notifications, once it has subscribed (at most a
    minute: its first try may come before the web app answers Graph's handshake)."""
    deadline = time.monotonic() + 60
    said = ""
    while time.monotonic() < deadline and not said.startswith("notifications: "):
        time.sleep(0.5)
        rows = store_rows(
            data_dir, "index", "SELECT value FROM freshness_state WHERE name = 'notifications'"
        )
        said = json.loads(rows[0][0]) if rows else ""
    return said


def check_status(data_dir: Path, settings: dict[str, str]) -> None:
    """`plaza status` sees the demo's scheduler (its heartbeat) and real-time process alive."""
    env = {**os.environ, **{k: v.strip("'") for k, v in settings.items()}}
    deadline = time.monotonic() + 30
    while True:
        shown = subprocess.run([PLAZA, "status", "--json"], env=env, capture_output=True,
                               text=True, check=False)  # fmt: skip
        report = json.loads(shown.stdout)
        if report["scheduler"]["alive"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (report["scheduler"]["alive"], report["realtime"]["alive"]) == (True, True)
    assert [job["name"] for job in report["jobs"]] == ["people", "tenant-docs"]


def check_demo_mail(lines: list[str], data_dir: Path, web_url: str) -> None:
    """The demo's SMTP server keeps mail in the data dir; the web app shows it there."""
    mail_line = next(line for line in lines if line.startswith("  Mail:"))
    assert mail_line == f"  Mail:       {web_url}/_demo/mail (kept in {data_dir / 'mail'})"
    assert (data_dir / "mail").is_dir()
    assert wait_for(f"{web_url}/_demo/mail").status_code == 302  # sign-in first


def wait_for(url: str) -> requests.Response:
    deadline = time.monotonic() + 30
    with requests.Session() as session:
        session.trust_env = False
        while True:
            try:
                return session.get(url, allow_redirects=False, timeout=5)
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{url} never answered"
                time.sleep(0.2)
