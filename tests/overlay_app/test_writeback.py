"""Write-back against the emulator over HTTPS: a comment, a like and a tag made through Plaza's
API end up in the document's library columns with exact values, through a system update (no
version, Modified and Editor kept); Plaza's own write comes back in delta without counting as
a change or causing another write; a burst is one write; a missing permission is reported
with its name; a document deleted in SharePoint is never written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.auth import TokenProvider
from connector.settings import ConnectorSettings
from connector.sharepoint_fields import SharePointFields
from overlay_app.db import open_social_store
from overlay_app.writeback import store
from overlay_app.writeback.runner import WriteBackSettings
from overlay_app.writeback.worker import WriteBack
from plaza.cli import main
from sync.db import index_location, open_index
from sync.engine import Connector, sync_documents
from sync.jobs import add_job, documents_job
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from tests.overlay_app.api_calls import answer, posted
from tests.overlay_app.plaza_env import PUBLIC_URL

COLUMNS = ("PlazaDiscussion", "PlazaComments", "PlazaLikes", "PlazaLastDiscussed", "PlazaTags")
NOMETADATA = {"Accept": "application/json;odata=nometadata"}


class Setup:
    """The app's data dir with a write-back job, the emulator, and a worker to run rounds."""

    def __init__(self, app, env) -> None:
        self.app, self.env = app, env
        self.data_dir = Path(app.extensions["plaza.settings"].data_dir)
        self.database_url = app.extensions["plaza.settings"].database_url
        # the index where the product finds it: index.db, or the database PLAZA_DATABASE_URL
        # names (with PLAZA_TEST_BACKEND=postgres, the one holding the social store too)
        self.index_location = index_location(self.data_dir / "index.db", self.database_url)
        self._opened: list = []
        index = open_index(self.index_location)
        job = documents_job("docs", DocumentTarget(all_sites=True), Schedule.interval("1h"))
        add_job(index, replace(job, write_back=True))
        index.close()
        self.reconnect()
        self.now: datetime | None = None  # None: the real time

    def reconnect(self) -> None:
        """A new connector: new tokens, with the app's permissions as they are now."""
        settings = ConnectorSettings.from_env(self.env.connector_env)
        self.fields = SharePointFields(settings, TokenProvider(settings))

    def social(self):
        """A connection of its own to the app's social store (overlay.db or PostgreSQL),
        closed at the end of the test."""
        handle = open_social_store(self.data_dir, self.database_url)
        self._opened.append(handle)
        return handle

    def index(self):
        """A connection of its own to the app's index, closed at the end of the test."""
        handle = open_index(self.index_location)
        self._opened.append(handle)
        return handle

    def close(self) -> None:
        for handle in self._opened:
            handle.close()

    def worker(self, delay: float = 0.0) -> WriteBack:
        return WriteBack(
            self.social(),
            self.index(),
            self.fields,
            PUBLIC_URL,
            delay=delay,
            clock=lambda: self.now or datetime.now(UTC),
        )

    def sync(self):
        """A documents sync into the app's index; its counts."""
        db = open_index(self.index_location)
        try:
            connector = Connector.from_env(self.env.connector_env)
            return sync_documents(db, connector, DocumentTarget(all_sites=True))
        finally:
            db.close()

    def item(self, document: tuple[str, str]) -> dict:
        """The document's list item as SharePoint REST shows it."""
        handle, tenant = self.env.handle, self.env.handle.tenant
        drive = tenant.drive(document[0])
        item = tenant.item(*document)
        site = next(s for s in tenant.sites.values() if s.id == drive.site_id)
        url = (
            f"{handle.base_url}{site.path if site.path != '/' else ''}/_api/web/"
            f"lists(guid'{drive.list_id}')/items({item.index})"
        )
        token = handle.token("sharepoint", certificate=True)
        headers = {**NOMETADATA, "Authorization": f"Bearer {token}"}
        with handle.session() as session:
            found = session.get(url, headers=headers)
            versions = session.get(f"{url}/versions", headers=headers)
        assert found.ok, found.text
        return {**found.json(), "versions": len(versions.json()["value"])}

    def api(self, api, role: str):
        """`api` calls as the person playing `role`, on this test's app."""
        return api(self.env.people[role], on=self.app)

    def requests(self) -> int:
        return self.fields.transport.stats().requests


@pytest.fixture
def setup(make_app, fresh_plaza_env) -> Iterator[Setup]:
    made = Setup(make_app(fresh_plaza_env, writes_per_minute=1000), fresh_plaza_env)
    yield made
    made.close()


def discuss(api, setup, document) -> dict:
    author, reader = setup.api(api, "author"), setup.api(api, "reader")
    first = posted(author, document, "Numbers look right")
    posted(reader, document, "Agreed", parent_id=first["id"])
    answer(reader.put("/api/v1/documents/{}/{}/like".format(*document)))
    answer(author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "q3"}), 201)
    answer(
        author.post("/api/v1/documents/{}/{}/tags".format(*document), json={"tag": "budget"}), 201
    )
    return first


def test_comments_likes_and_tags_are_written_exactly(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    before = setup.item(document)
    discuss(api, setup, document)
    newest = store.current(setup.social())[document]
    report = setup.worker().run_round()
    assert [(r.job, r.written, r.failed, r.archived, r.error) for r in report.rounds.values()] == [
        ("docs", 1, 0, 0, None)
    ]
    after = setup.item(document)
    last = datetime.fromisoformat(newest.discussion.last_discussed.replace("Z", "+00:00"))
    assert {name: after[name] for name in COLUMNS} == {
        "PlazaDiscussion": {
            "Description": "2 comments · 1 like",
            "Url": f"{PUBLIC_URL}/documents/{document[0]}/{document[1]}",
        },
        "PlazaComments": 2,
        "PlazaLikes": 1,
        "PlazaLastDiscussed": last.strftime("%Y-%m-%dT%H:%M:00Z"),
        "PlazaTags": "budget, q3",
    }
    # a system update: no new version, Modified and Modified By as they were
    for kept in ("Modified", "EditorId", "OData__UIVersionString", "versions"):
        assert after[kept] == before[kept]
    # nothing changed since: the next round writes nothing and sends nothing
    sent = setup.requests()
    assert setup.worker().run_round().rounds == {}
    assert setup.requests() == sent


def test_own_writes_are_not_changes_and_do_not_loop(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    discuss(api, setup, document)
    setup.sync()  # catch up with the tenant first
    worker = setup.worker()
    assert worker.run_round().rounds["docs"].written == 1
    index = open_index(setup.index_location)
    modified_before = index.execute(
        "SELECT modified_at, modified_by, etag FROM items WHERE drive_id = ? AND item_id = ?",
        document,
    ).fetchone()
    index.close()
    for _ in range(3):
        counts = setup.sync()
        assert (counts.added, counts.updated, counts.moved, counts.deleted) == (0, 0, 0, 0)
        assert worker.run_round().rounds == {}
    index = open_index(setup.index_location)
    modified_after = index.execute(
        "SELECT modified_at, modified_by, etag FROM items WHERE drive_id = ? AND item_id = ?",
        document,
    ).fetchone()
    index.close()
    assert modified_after[:2] == modified_before[:2]
    assert modified_after[2] != modified_before[2]  # the new eTag was taken in


def test_a_burst_is_one_write_after_the_delay(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    author = setup.api(api, "author")
    worker = setup.worker(delay=30)
    worker.run_round()  # columns are checked on the first write, not here
    for n in range(50):
        posted(author, document, f"comment {n}")
    setup.now = datetime.now(UTC)
    sent = setup.requests()
    report = worker.run_round()
    assert (report.rounds, report.waiting) == ({}, 1)
    assert setup.requests() == sent
    setup.now += timedelta(seconds=31)
    report = worker.run_round()
    assert report.rounds["docs"].written == 1
    # the columns were read (and added) once, then one system update
    assert setup.requests() - sent == 1 + 5 + 1
    assert setup.item(document)["PlazaComments"] == 50


def test_a_missing_permission_is_named_and_the_document_stays_due(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    posted(setup.api(api, "author"), document, "Numbers look right")
    client_id = fresh_plaza_env.info["client_id"]
    fresh_plaza_env.control("PUT", f"/apps/{client_id}/roles", {"roles": ["Sites.Read.All"]})
    report = setup.worker().run_round()
    (done,) = report.rounds.values()
    assert (done.job, done.written, done.failed) == ("docs", 0, 1)
    assert done.error == (
        "SharePoint refused write-back: the application permission Sites.Manage.All (SharePoint, "
        "not Microsoft Graph) is not granted; an admin must add it in Entra ID (App "
        "registrations -> API permissions -> Add a permission -> SharePoint -> Application "
        "permissions) and grant admin consent, or turn write-back off with `plaza sync edit "
        "docs --no-write-back`"
    )
    social = setup.social()
    assert store.rounds(social)[0].error == done.error
    granted = ["Sites.Read.All", "Sites.Manage.All", "User.Read.All", "GroupMember.Read.All"]
    fresh_plaza_env.control("PUT", f"/apps/{client_id}/roles", {"roles": granted})
    setup.reconnect()  # a token keeps the permissions it was issued with
    assert setup.worker().run_round().rounds["docs"].written == 1


def test_a_document_deleted_in_sharepoint_is_never_written(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    posted(setup.api(api, "author"), document, "Numbers look right")
    fresh_plaza_env.control("DELETE", "/items/{}/{}".format(*document))
    setup.sync()
    sent = setup.requests()
    report = setup.worker().run_round()
    assert [(r.written, r.failed, r.archived) for r in report.rounds.values()] == [(0, 0, 1)]
    assert setup.requests() == sent


def test_the_cli_runs_a_round_and_shows_history(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    posted(setup.api(api, "author"), document, "Numbers look right")
    env = {k: None for k in os.environ if k.startswith("PLAZA_")}
    env.update(fresh_plaza_env.connector_env)
    env.update(PLAZA_DATA_DIR=str(setup.data_dir), PLAZA_PUBLIC_URL=PUBLIC_URL)
    env.update(PLAZA_DATABASE_URL=setup.database_url)
    waiting = CliRunner().invoke(main, ["writeback", "run"], env=env, catch_exceptions=False)
    assert (waiting.exit_code, waiting.stdout) == (
        0,
        "nothing to write (1 waiting for their discussion to settle)\n",
    )
    env["PLAZA_WRITEBACK_DELAY"] = "0"
    ran = CliRunner().invoke(main, ["writeback", "run"], env=env, catch_exceptions=False)
    assert (ran.exit_code, ran.stdout) == (
        0,
        "docs: 1 written, 0 failed, 0 deleted in SharePoint (not written)\n",
    )
    history = CliRunner().invoke(main, ["writeback", "history", "docs"], env=env)
    (line,) = history.stdout.splitlines()
    assert line.endswith("  docs  written 1  failed 0  deleted 0")
    env["PLAZA_WRITEBACK_DELAY"] = "soon"
    bad = CliRunner().invoke(main, ["writeback", "run"], env=env)
    assert (bad.exit_code, bad.stderr) == (
        2,
        "Error: PLAZA_WRITEBACK_DELAY must be a number of seconds, at least 0 (got 'soon')\n",
    )


def test_the_scheduler_runs_write_back_rounds(setup, api, fresh_plaza_env):
    from plaza.scheduler import add_write_back
    from sync.scheduler import SyncScheduler

    posted(setup.api(api, "author"), fresh_plaza_env.document, "Numbers look right")
    scheduler = SyncScheduler(setup.index_location)
    scheduler._connector = Connector.from_env(fresh_plaza_env.connector_env)
    settings = WriteBackSettings(
        setup.data_dir, PUBLIC_URL, delay=0, interval=45, database_url=setup.database_url
    )
    job = add_write_back(scheduler, settings)
    scheduled = scheduler.scheduler.get_job("plaza:write-back")
    assert scheduled.trigger.interval.total_seconds() == 45
    try:
        job()  # what APScheduler calls every interval
        social = setup.social()
        assert [(r.job, r.written, r.error) for r in store.rounds(social)] == [("docs", 1, None)]
        # it shares the sync's connector: one token cache, one throttle pause
        assert job.runner.fields.transport is scheduler._connector.http.transport
    finally:  # what the end of SyncScheduler.run closes (never run here)
        job.runner.close()
        scheduler.election.close()
        scheduler.db.close()


def test_throttling_is_waited_out_or_left_for_the_next_round(setup, api, fresh_plaza_env):
    document = fresh_plaza_env.document
    posted(setup.api(api, "author"), document, "Numbers look right")
    worker = setup.worker()
    rule = {"kind": "throttle", "path": "ValidateUpdateListItem", "method": "POST"}
    fresh_plaza_env.control("POST", "/faults", {"rules": [{**rule, "retry_after": "1"}]})
    assert worker.run_round().rounds["docs"].written == 1  # after one wait of 1 s
    assert setup.fields.transport.stats().throttled_waits == 1
    posted(setup.api(api, "reader"), document, "Agreed")
    setup.fields.transport.max_retries = 1
    fresh_plaza_env.control("POST", "/faults", {"rules": [{**rule, "count": 2}]})
    report = worker.run_round()
    (done,) = report.rounds.values()
    assert (done.written, done.error) == (
        0,
        "SharePoint is throttling Plaza: the documents left are written next round",
    )
    assert worker.run_round().rounds["docs"].written == 1  # still due, written now
    assert setup.item(document)["PlazaComments"] == 2
