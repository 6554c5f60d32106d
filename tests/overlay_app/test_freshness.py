"""Change notifications end to end over HTTPS: the emulator (Graph) notifies Plaza's webhook,
the scheduler's freshness tick runs a delta round for that library, and the index (hence every
page) follows, without waiting for the job's schedule.

Plaza is served over real HTTPS on loopback with the emulator's own server certificate (which
the emulator's deliveries trust); the scheduler's tick is `SyncScheduler.freshness_tick`, the
method APScheduler calls every few seconds, called here in a loop.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from sync import subscriptions as store
from sync.db import open_index, transaction
from sync.jobs import add_job, documents_job
from sync.runs import run_job
from sync.scheduler import SyncScheduler
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from sync.trimming import principal_set
from sync.visibility import can_view
from tests.overlay_app.conftest import app_on_backend
from tests.postgres import index_at

JOB = "everything"


class HttpsSite:
    """create_app over HTTPS on loopback, in a thread of this process."""

    def __init__(self, env: Any, data_dir: Path, request: pytest.FixtureRequest) -> None:
        certificates = env.handle.certificates
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(certificates.server_cert), str(certificates.server_key))
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True, ssl_context=tls)
        self.url = f"https://localhost:{self._server.server_port}"
        env.copy_index(data_dir)
        self.app = app_on_backend(env, data_dir, request, public_url=self.url)
        self.index_path = index_at(data_dir / "index.db")  # the file, or its database
        self.ca_file = env.handle.ca_file
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable) -> Any:
        return self.app(environ, start_response)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        with requests.Session() as session:
            session.trust_env = False
            return session.post(self.url + path, verify=self.ca_file, timeout=30, **kwargs)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def site(fresh_plaza_env, tmp_path: Path, request) -> Iterator[HttpsSite]:
    found = HttpsSite(fresh_plaza_env, tmp_path / "site", request)
    db = open_index(found.index_path)
    try:  # the job the notified rounds belong to; its own schedule is far away (daily)
        add_job(db, documents_job(JOB, DocumentTarget(all_sites=True), Schedule.interval("1d")))
    finally:
        db.close()
    yield found
    found.stop()


@pytest.fixture
def scheduler(fresh_plaza_env, site, monkeypatch) -> Iterator[SyncScheduler]:
    for name, value in fresh_plaza_env.connector_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PLAZA_WEBHOOK_URL", site.url + "/webhooks/graph")
    made = SyncScheduler(site.index_path)
    yield made
    close(made)


def close(scheduler: SyncScheduler) -> None:
    """What the end of SyncScheduler.run closes (never run here): its index and election."""
    scheduler.election.close()
    scheduler.db.close()


def index_says(site: HttpsSite, upn: str, key: tuple[str, str]) -> bool:
    db = open_index(site.index_path)
    try:
        return can_view(db, principal_set(db, upn), *key)
    finally:
        db.close()


def name_in_index(site: HttpsSite, key: tuple[str, str]) -> str:
    db = open_index(site.index_path)
    try:
        row = db.execute("SELECT name FROM items WHERE drive_id = ? AND item_id = ?", key)
        return row.fetchone()[0]
    finally:
        db.close()


def state(site: HttpsSite) -> str:
    db = open_index(site.index_path)
    try:
        found = store.get_state(db.conn, store.NOTIFICATIONS_STATE)
        return found[0] if found else ""
    finally:
        db.close()


def tick_until(scheduler: SyncScheduler, done: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scheduler.freshness_tick()
        if done():
            return True
        time.sleep(0.1)
    return False


def runs_of_job(site: HttpsSite) -> int:
    db = open_index(site.index_path)
    try:
        return db.execute("SELECT count(*) FROM runs WHERE job = ?", [JOB]).fetchone()[0]
    finally:
        db.close()


def test_a_revocation_reaches_the_index_through_the_notification(
    fresh_plaza_env, site, scheduler, people, document
):
    scheduler.freshness_tick()  # subscribes every library of the job
    libraries = len(fresh_plaza_env.handle.tenant.drives) - sum(
        d.drive.system for d in fresh_plaza_env.handle.tenant.drives.values()
    )
    hook = f"{site.url}/webhooks/graph"
    assert state(site) == f"notifications: {libraries} libraries subscribed at {hook}"
    assert index_says(site, people["reader"], document)
    fresh_plaza_env.revoke_everyone_but(*document, people["author"])
    assert tick_until(scheduler, lambda: not index_says(site, people["reader"], document))
    assert index_says(site, people["author"], document)
    assert runs_of_job(site) == 0  # no scheduled run did it
    assert scheduler._freshness is not None and scheduler._freshness.rounds >= 1


def test_a_missed_notification_is_caught_by_the_safety_delta(
    fresh_plaza_env, site, scheduler, document
):
    scheduler.freshness_tick()
    fresh_plaza_env.control("PUT", "/subscriptions/paused", {"paused": True})
    fresh_plaza_env.control("PATCH", "/items/{}/{}".format(*document), {"name": "Missed.docx"})
    assert not tick_until(scheduler, lambda: name_in_index(site, document) == "Missed.docx", 2)
    assert fresh_plaza_env.control("GET", "/subscriptions")["missed"] == 1
    run = run_job(site.index_path, JOB)  # what the job's schedule does
    assert (run.outcome, name_in_index(site, document)) == ("succeeded", "Missed.docx")


def test_a_missed_lifecycle_event_runs_a_round(fresh_plaza_env, site, scheduler, document):
    scheduler.freshness_tick()
    fresh_plaza_env.control("PUT", "/subscriptions/paused", {"paused": True})
    fresh_plaza_env.control("PATCH", "/items/{}/{}".format(*document), {"name": "Later.docx"})
    subscription = next(
        s for s in fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
        if s["driveId"] == document[0]
    )  # fmt: skip
    fresh_plaza_env.control("POST", f"/subscriptions/{subscription['id']}/lifecycle",
                            {"event": "missed"})  # fmt: skip
    assert tick_until(scheduler, lambda: name_in_index(site, document) == "Later.docx")


def test_subscription_removed_is_recreated(fresh_plaza_env, site, scheduler, document):
    scheduler.freshness_tick()
    listed = fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
    old = next(s for s in listed if s["driveId"] == document[0])
    fresh_plaza_env.control("POST", f"/subscriptions/{old['id']}/lifecycle",
                            {"event": "subscriptionRemoved"})  # fmt: skip

    def recreated() -> bool:
        now = fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
        return any(s["driveId"] == document[0] and s["id"] != old["id"] for s in now)

    assert tick_until(scheduler, recreated)
    fresh_plaza_env.control("PATCH", "/items/{}/{}".format(*document), {"name": "After.docx"})
    assert tick_until(scheduler, lambda: name_in_index(site, document) == "After.docx")


def test_an_unreachable_plaza_means_polling_said_clearly(fresh_plaza_env, site, monkeypatch):
    for name, value in fresh_plaza_env.connector_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PLAZA_WEBHOOK_URL", site.url + "/no-such-endpoint")
    scheduler = SyncScheduler(site.index_path)
    try:
        scheduler.freshness_tick()
    finally:
        close(scheduler)
    expected = f"polling: Graph could not reach {site.url}/no-such-endpoint"
    assert state(site) == expected + " (the validation handshake failed)"
    assert fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"] == []


def test_the_webhook_answers_the_handshake_and_refuses_a_wrong_client_state(
    fresh_plaza_env, site, scheduler, document
):
    echoed = site.post("/webhooks/graph", params={"validationToken": "a token+with/odd chars"})
    assert (echoed.status_code, echoed.text) == (200, "a token+with/odd chars")
    assert echoed.headers["Content-Type"].startswith("text/plain")
    scheduler.freshness_tick()
    db = open_index(site.index_path)
    try:
        stored = store.stored_subscriptions(db.conn)[document[0]]
    finally:
        db.close()
    note = {"subscriptionId": stored.subscription_id, "changeType": "updated",
            "resource": f"/drives/{document[0]}/root", "tenantId": "t"}  # fmt: skip
    refused = site.post("/webhooks/graph", json={"value": [{**note, "clientState": "guess"}]})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    accepted = site.post(
        "/webhooks/graph", json={"value": [{**note, "clientState": stored.client_state}] * 100}
    )
    assert (accepted.status_code, accepted.content) == (202, b"")
    db = open_index(site.index_path)
    try:
        (waiting,) = store.pending(db.conn)
    finally:
        db.close()
    assert (waiting.drive_id, len(waiting.ids)) == (document[0], 100)
    freshness = scheduler._freshness
    assert freshness is not None
    before = freshness.rounds
    scheduler.freshness_tick()
    assert freshness.rounds - before == 1  # 100 notifications, one round
    db = open_index(site.index_path)
    try:
        figures = store.budget_figures(db.conn)["scheduler"]
        shown = store.health_entry(db)  # what the admin console's health page shows
    finally:
        db.close()
    assert shown is not None
    assert (shown["limit"], shown["window"], shown["paced_at"]) == (1200, "per minute", 0.8)
    assert shown["notifications"].startswith("notifications: ")
    assert (figures["per_minute"], figures["share"], figures["throttled"]) == (1200, 0.8, 0)
    assert figures["used_last_hour"] >= 1 and set(figures) >= {
        "used_last_minute",
        "requests",
        "retry_after_seconds",
        "paced_seconds",
        "updated_at",
    }


def test_a_subscription_near_its_expiry_is_renewed(fresh_plaza_env, site, scheduler, document):
    scheduler.freshness_tick()
    db = open_index(site.index_path)
    try:
        with transaction(db) as conn:  # as if it had been made 27 days ago: under 3 days left
            conn.execute(
                "UPDATE subscriptions SET expires_at = ? WHERE drive_id = ?",
                ((datetime.now(UTC) + timedelta(days=1)).isoformat(), document[0]),
            )
        freshness = scheduler._freshness
        assert freshness is not None
        freshness.ensure(db)
        stored = store.stored_subscriptions(db.conn)[document[0]]
        renewed_at = db.execute(
            "SELECT renewed_at FROM subscriptions WHERE drive_id = ?", [document[0]]
        ).fetchone()[0]
    finally:
        db.close()
    assert renewed_at is not None
    assert stored.expires_at > datetime.now(UTC) + timedelta(days=29)
    at_graph = next(
        s for s in fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
        if s["id"] == stored.subscription_id
    )  # fmt: skip
    assert at_graph["expirationDateTime"].startswith(stored.expires_at.strftime("%Y-%m-%dT%H:%M"))


def test_reauthorization_required_is_answered(fresh_plaza_env, site, scheduler, document):
    scheduler.freshness_tick()
    listed = fresh_plaza_env.control("GET", "/subscriptions")["subscriptions"]
    sub = next(s for s in listed if s["driveId"] == document[0])
    fresh_plaza_env.control("POST", f"/subscriptions/{sub['id']}/lifecycle",
                            {"event": "reauthorizationRequired"})  # fmt: skip
    freshness = scheduler._freshness
    assert freshness is not None
    before = freshness.rounds
    assert tick_until(scheduler, lambda: freshness.rounds > before)  # reauthorized, then a round
    fresh_plaza_env.control("PATCH", "/items/{}/{}".format(*document), {"name": "Again.docx"})
    assert tick_until(scheduler, lambda: name_in_index(site, document) == "Again.docx")
    assert fresh_plaza_env.control("GET", "/subscriptions")["missed"] == 0
