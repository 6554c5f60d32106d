"""Real-time delivery across processes: a message posted to `plaza serve` (gunicorn sync
workers) reaches streams held by `plaza realtime` (gunicorn gevent workers), both run as
subprocesses on one data dir; and a stream asked of `plaza serve` is answered as a poll.

Streams are read by `EventReader` (tests/overlay_app/event_streams.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.overlay_app.conftest import PlazaEnv
from tests.overlay_app.event_streams import Person, kinds, opened
from tests.postgres import index_env

PLAZA = str(Path(__file__).parents[2] / ".venv" / "bin" / "plaza")
if not Path(PLAZA).exists():
    PLAZA = shutil.which("plaza") or "plaza"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_servers(plaza_env: PlazaEnv, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`plaza serve` (2 sync workers) and `plaza realtime` (gevent) on one data dir."""
    plaza_env.copy_index(tmp_path)
    serve_port, realtime_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")},
        **plaza_env.connector_env,
        **index_env(tmp_path / "index.db"),  # on PostgreSQL: both stores in that database
        "PLAZA_DATA_DIR": str(tmp_path),
        "PLAZA_PUBLIC_URL": f"http://localhost:{serve_port}",
        "PLAZA_REALTIME_URL": f"http://localhost:{realtime_port}",
        "PLAZA_WRITES_PER_MINUTE": "10000",
    }
    commands = [
        [PLAZA, "serve", "--port", str(serve_port), "--workers", "2"],
        [PLAZA, "realtime", "--port", str(realtime_port), "--workers", "1"],
    ]
    processes: list[subprocess.Popen] = []
    try:
        # One after the other: the first to start migrates the fresh overlay.db.
        for port, command in zip((serve_port, realtime_port), commands, strict=True):
            processes.append(start(command, env, port))
        yield f"http://localhost:{serve_port}", f"http://localhost:{realtime_port}"
    finally:
        stop_cleanly(processes)


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """A Plaza process, once it listens on `port`."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wait_for_port(port, process)
    return process


def stop_cleanly(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to each; each must exit 0 without a traceback."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        _, errors = process.communicate(timeout=30)
        assert process.returncode == 0, errors
        assert "Traceback" not in errors, errors


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_message_posted_to_plaza_serve_reaches_streams_on_plaza_realtime(
    two_servers: tuple[str, str],
    plaza_env: PlazaEnv,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    serve_url, realtime_url = two_servers
    author, reader = (Person(serve_url, plaza_env, people[r]) for r in ("author", "reader"))
    try:
        path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
        room = author.call("POST", path, 201)["id"]
        reader.call("POST", path, 200)
        # Asked of `plaza serve`, whose sync workers cannot hold it, a stream is a poll: what
        # there is, then the end, and EventSource comes back after `retry`.
        polled = reader.listen()
        assert kinds(polled.rest())[0][0] == "stream.open"
        assert polled.retry == 1000
        streams = [reader.listen(base_url=realtime_url) for _ in range(3)]
        for stream in streams:
            opened(stream)
        for n in range(5):
            sent_at = time.monotonic()
            message = author.send(room, f"across processes {n}")
            for stream in streams:
                got = stream.next()
                assert got.event == "message.new" and got.data == message
            assert time.monotonic() - sent_at < 1.0
    finally:
        author.close()
        reader.close()
