"""Feature switches and terms acceptances held per process (overlay_app/admin/held.py), seen
from two web nodes: two apps made by create_app on one PostgreSQL database, or on one data
dir's SQLite files. A change made through one node holds on the other at its next request;
on PostgreSQL the test first waits (bounded) for the notice to reach that node, as a request
arriving later would find it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import psycopg
import pytest
from flask import Flask

from overlay_app import create_app
from overlay_app.admin import held
from tests.overlay_app.conftest import Api, PlazaEnv, csrf_token, sign_in
from tests.postgres import database_with_index

NOTICE_WAIT = 5.0  # seconds; a notice on a unix socket takes well under a millisecond


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, make_app: Callable[..., Flask], plaza_env: PlazaEnv) -> tuple[Flask, Flask]:
    """Two apps sharing one social store: a PostgreSQL database (the index in it), or one
    data dir's overlay.db (SQLite files whatever the suite's backend)."""
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        key = f"held-{request.node.name}"
        url = database_with_index(cluster, plaza_env.data_dir / "index.db", key)
        return make_app(database_url=url), make_app(database_url=url)
    first = request.getfixturevalue("make_sqlite_app")()
    settings = first.extensions["plaza.settings"]
    second = plaza_env.settings(settings.data_dir, database_url="", extra=settings.extra)
    app = create_app(second)
    app.extensions["plaza.test_env"] = plaza_env
    return first, app


def api_on(node: Flask, env: PlazaEnv, role: str) -> Api:
    return Api(node.test_client(), env.handle.token("api", user=env.people[role]))


def values_of(node: Flask) -> held.Held:
    return node.extensions["plaza.admin_held"]


def notice_reached(node: Flask, generation: int) -> None:
    """Waits until `node` took in a notice after `generation` (PostgreSQL; SQLite holds
    nothing, so there is nothing to wait for)."""
    values = values_of(node)
    deadline = time.monotonic() + NOTICE_WAIT
    while values.url and values.generation() == generation:
        assert time.monotonic() < deadline, "no notice reached the other node"
        time.sleep(0.01)


def error_of(answer) -> tuple[int, str | None]:
    body = answer.get_json(silent=True) or {}
    return answer.status_code, body.get("error", {}).get("code")


def test_a_switch_set_on_one_node_holds_on_the_other(nodes, plaza_env, document):
    first, second = nodes
    admin, reader = api_on(first, plaza_env, "admin"), api_on(second, plaza_env, "reader")
    like = "/api/v1/documents/{}/{}/like".format(*document)
    assert reader.put(like).status_code == 200  # the second node holds "likes on" now
    for on, expected in ((False, (404, "featureOff")), (True, (200, None))):
        generation = values_of(second).generation()
        assert admin.patch("/api/v1/admin/switches", json={"likes": on}).status_code == 200
        notice_reached(second, generation)
        assert error_of(reader.put(like)) == expected
        assert reader.get("/api/v1/admin/switches").status_code == 404  # not an admin
        assert api_on(second, plaza_env, "admin").get("/api/v1/admin/switches").get_json() == {
            "chat": True, "direct_messages": True, "likes": on, "tags": True,
            "guests_may_post": True, "write_back": False,
        }  # fmt: skip


def test_terms_published_on_one_node_gate_writes_on_the_other(nodes, plaza_env, document):
    comments = "/api/v1/documents/{}/{}/comments".format(*document)
    author_first, author_second = (api_on(n, plaza_env, "author") for n in nodes)
    assert author_second.post(comments, json={"body": "Before"}).status_code == 201  # a yes held
    publish_and_see_the_gate(nodes, plaza_env, "Be kind.", 1, lambda: author_second.post(
        comments, json={"body": "After"}))  # fmt: skip
    accepted = author_first.post("/api/v1/terms/accept", json={"version": 1})
    assert accepted.get_json() == {"accepted": 1}
    # No wait: a refusal is never held, so the acceptance counts on the other node at once.
    assert author_second.post(comments, json={"body": "Accepted"}).status_code == 201
    publish_and_see_the_gate(nodes, plaza_env, "Version two.", 2, lambda: author_second.post(
        comments, json={"body": "Again"}))  # fmt: skip


def publish_and_see_the_gate(nodes, env: PlazaEnv, text: str, version: int, write) -> None:
    """Terms published on the first node refuse `write` on the second once its notice came."""
    first, second = nodes
    generation = values_of(second).generation()
    assert publish(first, env, text) == version
    notice_reached(second, generation)
    assert error_of(write()) == (403, "termsNotAccepted")


def publish(node: Flask, env: PlazaEnv, text: str) -> int:
    """Publishes terms through `node`'s console (signed in as the admin); their version."""
    admin = node.test_client()
    sign_in(admin, env.people["admin"])
    answer = admin.post("/admin/terms", data={"text": text, "csrf_token": csrf_token(admin)})
    assert answer.status_code == 303
    return api_on(node, env, "reader").get("/api/v1/terms").get_json()["version"]


def test_a_node_that_lost_its_listener_reads_afresh(
    make_app: Callable[..., Flask], postgres_cluster, plaza_env, document
):
    """Without a listening connection a node holds nothing: a change whose notice it cannot
    receive still shows at its next request."""
    url = database_with_index(postgres_cluster, plaza_env.data_dir / "index.db", "held-lost")
    first, second = make_app(database_url=url), make_app(database_url=url)
    admin, reader = api_on(first, plaza_env, "admin"), api_on(second, plaza_env, "reader")
    like = "/api/v1/documents/{}/{}/like".format(*document)
    assert reader.put(like).status_code == 200
    assert values_of(second).generation() > 0  # listening, "likes on" held
    assert end_listeners(url) == 1  # the second node's (the first has served no request yet)
    assert admin.patch("/api/v1/admin/switches", json={"likes": False}).status_code == 200
    assert error_of(reader.put(like)) == (404, "featureOff")
    assert admin.patch("/api/v1/admin/switches", json={"likes": True}).status_code == 200
    assert reader.put(like).status_code == 200


def end_listeners(url: str) -> int:
    """Ends every listening connection of the database (the cluster is local), and waits
    until their processes are gone: the socket closes only then, after pg_stat_activity
    stopped showing them."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s", [held.LISTENER_NAME],
        )]  # fmt: skip
        for pid in pids:
            assert conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    deadline = time.monotonic() + NOTICE_WAIT
    for pid in pids:
        while process_exists(pid):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    return len(pids)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
