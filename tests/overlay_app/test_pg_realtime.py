"""Plaza nodes on one PostgreSQL database: a chat message posted through one reaches event
streams held by another, by the log in the database and a LISTEN/NOTIFY notice (no shared
file, no polling of each other). Each node has a data dir of its own (its own copy of the
index; no overlay.db is used). First two apps served in this process, then real processes:
two `plaza serve` (gunicorn, forked sync workers) and one `plaza realtime` (gevent)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from overlay_app import db
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.event_streams import Person, Received, opened
from tests.overlay_app.plaza_env import SECRET_KEY, PlazaEnv
from tests.overlay_app.test_realtime_processes import PLAZA, free_port, start, stop_cleanly
from tests.postgres import PgCluster, database_with_index


@pytest.fixture(scope="module")
def nodes(
    plaza_env: PlazaEnv, postgres_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveSite, LiveSite]]:
    url = database_with_index(
        postgres_cluster, plaza_env.data_dir / "index.db", "pg-realtime-nodes"
    )
    first = start_live_site(plaza_env, tmp_path_factory.mktemp("node-a"), database_url=url)
    second = start_live_site(plaza_env, tmp_path_factory.mktemp("node-b"), database_url=url)
    yield first, second
    for site in (first, second):
        site.stop()
        pump = site.app.extensions.get("plaza.pump")
        if pump is not None:
            pump.stop()
        db.close(site.app)


def test_a_message_sent_through_one_node_reaches_a_stream_on_the_other(
    nodes: tuple[LiveSite, LiveSite], people: dict[str, str], document: tuple[str, str]
) -> None:
    node_a, node_b = nodes
    author = Person(node_a.url, node_a.env, people["author"])
    reader = Person(node_b.url, node_b.env, people["reader"])
    try:
        path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
        room = author.call("POST", path, 201)["id"]
        assert reader.call("POST", path, 200)["id"] == room  # node B reads A's write
        stream = reader.listen()  # held by node B
        opened(stream)

        message = author.send(room, "Across nodes: the **draft** is ready")  # through node A
        got = stream.next()
        assert got == Received(got.id, "message.new", message)
        assert message["bodyHtml"] == "<p>Across nodes: the <strong>draft</strong> is ready</p>"
        for site in nodes:
            assert not (site.app.extensions["plaza.settings"].social_path).exists()
    finally:
        author.close()
        reader.close()


@pytest.fixture
def pg_processes(
    plaza_env: PlazaEnv, postgres_cluster: PgCluster, tmp_path: Path
) -> Iterator[tuple[str, str, str, str]]:
    """Two `plaza serve` nodes (2 sync workers each) and two `plaza realtime` nodes (gevent),
    each with a data dir of its own, sharing one PostgreSQL database."""
    url = database_with_index(
        postgres_cluster, plaza_env.data_dir / "index.db", f"pg-processes-{tmp_path.name}"
    )
    ports = [free_port() for _ in range(4)]
    commands = [
        [PLAZA, "serve", "--port", str(ports[0]), "--workers", "2"],
        [PLAZA, "serve", "--port", str(ports[1]), "--workers", "2"],
        [PLAZA, "realtime", "--port", str(ports[2]), "--workers", "1"],
        [PLAZA, "realtime", "--port", str(ports[3]), "--workers", "1"],
    ]
    processes: list[subprocess.Popen] = []
    try:
        for n, (port, command) in enumerate(zip(ports, commands, strict=True)):
            data_dir = tmp_path / f"node-{n}"
            plaza_env.copy_index(data_dir)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")},
                **plaza_env.connector_env,
                "PLAZA_DATA_DIR": str(data_dir),
                "PLAZA_DATABASE_URL": url,
                "PLAZA_SECRET_KEY": SECRET_KEY,  # one key: a cursor sealed by one node opens on all
                "PLAZA_PUBLIC_URL": f"http://localhost:{port}",
                "PLAZA_REALTIME_URL": f"http://localhost:{ports[2]}",
                "PLAZA_WRITES_PER_MINUTE": "10000",
            }
            processes.append(start(command, env, port))
        yield tuple(f"http://localhost:{port}" for port in ports)  # type: ignore[misc]
    finally:
        stop_cleanly(processes)


def test_messages_posted_to_two_serve_nodes_reach_streams_on_two_realtime_nodes(
    pg_processes: tuple[str, str, str, str],
    plaza_env: PlazaEnv,
    people: dict[str, str],
    document: tuple[str, str],
) -> None:
    serve_a, serve_b, realtime_a, realtime_b = pg_processes
    author = Person(serve_a, plaza_env, people["author"])
    other_node = Person(serve_b, plaza_env, people["author"])
    reader = Person(serve_b, plaza_env, people["reader"])
    try:
        path = f"/api/v1/documents/{document[0]}/{document[1]}/room"
        room = author.call("POST", path, 201)["id"]
        assert reader.call("POST", path, 200)["id"] == room
        streams = [reader.listen(base_url=url) for url in (realtime_a, realtime_b)]
        for stream in streams:
            opened(stream)
        for n, sender in enumerate((author, other_node, author, other_node)):
            message = sender.send(room, f"across nodes {n}")
            for stream in streams:
                got = stream.next()
                assert (got.event, got.data) == ("message.new", message)
    finally:
        for person in (author, other_node, reader):
            person.close()
