"""Two Plaza nodes on one PostgreSQL database: a chat message posted through one reaches an
event stream held by the other, by the log in the database and a LISTEN/NOTIFY notice (no
file, no polling of each other). Each node is a real app served over HTTP on loopback, with a
data dir of its own (its own copy of the index; no overlay.db is used by either)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from overlay_app import db
from tests.browser.conftest import LiveSite, start_live_site
from tests.overlay_app.conftest import PlazaEnv
from tests.overlay_app.event_streams import Person, Received, opened
from tests.postgres import PgCluster


@pytest.fixture(scope="module")
def nodes(
    plaza_env: PlazaEnv, postgres_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveSite, LiveSite]]:
    url = postgres_cluster.new_database()
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

        sent_at = time.monotonic()
        message = author.send(room, "Across nodes: the **draft** is ready")  # through node A
        got = stream.next()
        assert time.monotonic() - sent_at < 1.0
        assert got == Received(got.id, "message.new", message)
        assert message["bodyHtml"] == "<p>Across nodes: the <strong>draft</strong> is ready</p>"
        for site in nodes:
            assert not (site.app.extensions["plaza.settings"].social_path).exists()
    finally:
        author.close()
        reader.close()
