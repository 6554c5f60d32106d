"""Change notifications: one Graph subscription per synced library, and a delta round for a
library as soon as Graph says it changed (Microsoft's scan guidance: subscribe, then run delta
on each notification, with a periodic safety delta: the job's own schedule).

The scheduler calls `Freshness.tick()` every few seconds. A tick
- keeps subscriptions in line with the synced libraries (`ensure`, every ENSURE_SECONDS):
  forgets stored ones Graph does not hold (checked once per process: the index may outlive
  the Graph it subscribed at, as when the demo's emulator starts again), creates missing ones
  (each with its own clientState secret), renews those expiring within RENEW_BEFORE, deletes
  those of libraries no longer synced. If Graph cannot reach Plaza (the
  validation handshake fails) there are no subscriptions: libraries are polled by their jobs
  as before, and `freshness_state` says why (`plaza connector check` says it too).
- drains the queue the web app's webhook filled: notifications for one library, however many,
  are one delta round (coalesced); `missed` asks for a round too; `subscriptionRemoved`
  recreates the subscription and runs a round; `reauthorizationRequired` reauthorizes.
A library's round runs under its job's lock (sync.locks), so it never overlaps a scheduled run
of the job; while the job runs, its notifications wait in the queue for the next tick.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from connector.errors import ConnectorError, GraphError, NotFound
from connector.subscriptions import MAX_LIFETIME, Subscriptions
from sync import locks
from sync import subscriptions as store
from sync.counts import NullProgress, RunCounts
from sync.db import is_url, open_index, transaction
from sync.drive_sync import DriveSync
from sync.jobs import DOCUMENTS, Job, list_jobs
from sync.people import UpnResolver
from sync.plan import DriveContext
from sync.source import Connector

log = logging.getLogger(__name__)

ENSURE_SECONDS = 300.0
RETRY_UNREACHABLE_SECONDS = 30.0  # Plaza may start after the scheduler: try again soon
RENEW_BEFORE = timedelta(days=3)
LIFETIME = MAX_LIFETIME - timedelta(minutes=5)  # a little under Graph's cap (clock skew)
UNREACHABLE = "polling: Graph could not reach {url} (the validation handshake failed)"
NOT_CONFIGURED = "polling: PLAZA_WEBHOOK_URL is not set (Graph has nowhere to send notifications)"


class Freshness:
    """Subscriptions and notified rounds for the index at `db_path`; one per scheduler."""

    def __init__(self, db_path: str | Path, connector: Connector, webhook_url: str | None) -> None:
        self.db_path = db_path if is_url(db_path) else Path(db_path)  # the index's location
        self.connector = connector
        self.webhook_url = webhook_url
        self.graph_subscriptions = Subscriptions(connector.http)
        self.stop = threading.Event()
        self._ensured_at = 0.0
        self._ensure_every = ENSURE_SECONDS
        self.rounds = 0  # notified rounds run (for tests and benches)
        self._figures: object = None  # the budget figures last stored
        self._held_checked = False  # stored subscriptions checked against Graph's list

    def tick(self) -> None:
        db = open_index(self.db_path)
        try:
            if time.monotonic() - self._ensured_at >= self._ensure_every or not self._ensured_at:
                self.ensure(db)
            self.drain(db)
            self._record_budget(db)
        finally:
            db.close()

    # -- subscriptions -------------------------------------------------------------------

    def ensure(self, db: sqlite_utils.Database) -> None:
        self._ensured_at = time.monotonic()
        self._ensure_every = ENSURE_SECONDS
        if not self.webhook_url:
            self._say(db, NOT_CONFIGURED)
            return
        wanted = set(synced_drives(db))
        stored = self._held_at_graph(db, store.stored_subscriptions(db.conn))
        for drive_id in sorted(set(stored) - wanted):
            self._unsubscribe(db, stored[drive_id])
        soon = datetime.now(UTC) + RENEW_BEFORE
        for drive_id in sorted(wanted):
            found = stored.get(drive_id)
            if found is not None and found.notification_url != self.webhook_url:
                self._unsubscribe(db, found)
                found = None
            if found is None:
                if not self._subscribe(db, drive_id):
                    return
            elif found.expires_at <= soon:
                self._renew(db, found)
        self._say(db, f"notifications: {len(wanted)} libraries subscribed at {self.webhook_url}")

    def _held_at_graph(
        self, db: sqlite_utils.Database, stored: dict[str, store.StoredSubscription]
    ) -> dict[str, store.StoredSubscription]:
        """`stored` without those Graph does not hold (their rows dropped, so they are made
        anew): checked once per process, as nothing else would tell until their renewal."""
        if self._held_checked or not stored:
            self._held_checked = True
            return stored
        try:
            held = self.graph_subscriptions.live_ids()
        except ConnectorError as exc:  # keep them: renewal finds out later
            log.warning("cannot list Graph's subscriptions: %s", exc)
            return stored
        self._held_checked = True
        gone = {d for d, found in stored.items() if found.subscription_id not in held}
        with transaction(db) as conn:
            for drive_id in sorted(gone):
                store.drop_subscription(conn, drive_id)
        if gone:
            log.info("%d stored subscriptions unknown to Graph: making them anew", len(gone))
        return {d: found for d, found in stored.items() if d not in gone}

    def _subscribe(self, db: sqlite_utils.Database, drive_id: str) -> bool:
        """False when Graph cannot validate the URL: no subscription is worth trying then."""
        secret, url = secrets.token_urlsafe(32), self.webhook_url or ""
        expires = datetime.now(UTC) + LIFETIME
        try:
            made = self.graph_subscriptions.create(drive_id, url, secret, expires)
        except GraphError as exc:
            if exc.code == "ValidationError":
                self._say(db, UNREACHABLE.format(url=self.webhook_url))
                self._ensure_every = RETRY_UNREACHABLE_SECONDS
                return False
            raise
        with transaction(db) as conn:
            found = store.StoredSubscription(drive_id, made.id, secret, url, made.expires)
            store.save_subscription(conn, found)
        log.info("library %s: subscribed (%s, until %s)", drive_id, made.id, made.expires)
        return True

    def _renew(self, db: sqlite_utils.Database, found: store.StoredSubscription) -> None:
        try:
            renewed = self.graph_subscriptions.renew(
                found.subscription_id, datetime.now(UTC) + LIFETIME
            )
        except NotFound:  # expired or removed meanwhile: make a new one
            with transaction(db) as conn:
                store.drop_subscription(conn, found.drive_id)
            self._subscribe(db, found.drive_id)
            return
        with transaction(db) as conn:
            store.renewed(conn, found.subscription_id, renewed.expires)

    def _unsubscribe(self, db: sqlite_utils.Database, found: store.StoredSubscription) -> None:
        self.graph_subscriptions.delete(found.subscription_id)
        with transaction(db) as conn:
            store.drop_subscription(conn, found.drive_id)

    def _say(self, db: sqlite_utils.Database, text: str) -> None:
        with transaction(db) as conn:
            store.set_state(conn, store.NOTIFICATIONS_STATE, text)

    # -- notifications -------------------------------------------------------------------

    def drain(self, db: sqlite_utils.Database) -> int:
        """Runs one round per notified library; returns how many rounds ran."""
        ran = 0
        for waiting in store.pending(db.conn):
            if self.stop.is_set():
                break
            if "subscriptionRemoved" in waiting.kinds:
                with transaction(db) as conn:
                    store.drop_subscription(conn, waiting.drive_id)
                if self.webhook_url:
                    self._subscribe(db, waiting.drive_id)
            if "reauthorizationRequired" in waiting.kinds:
                self._reauthorize(db, waiting.drive_id)
            if self._round(db, waiting.drive_id):
                with transaction(db) as conn:
                    store.done(conn, waiting.ids)
                ran += 1
        return ran

    def _reauthorize(self, db: sqlite_utils.Database, drive_id: str) -> None:
        found = store.stored_subscriptions(db.conn).get(drive_id)
        if found is None:
            return
        try:
            self.graph_subscriptions.reauthorize(found.subscription_id)
        except NotFound:
            with transaction(db) as conn:
                store.drop_subscription(conn, drive_id)
            self._subscribe(db, drive_id)

    def _round(self, db: sqlite_utils.Database, drive_id: str) -> bool:
        """One delta round of the library, under its job's lock; False = try again later."""
        job = job_of_drive(db, drive_id)
        if job is None or job.target is None:
            return True  # no job syncs it any more: nothing to refresh
        owner, lock = locks.new_owner(), f"job:{job.name}"
        if locks.acquire(db, lock, owner) is not None:
            return False  # the job is running: it will see the change, or the next tick will
        try:
            counts = self._run_drive(db, job, drive_id)
        except ConnectorError as exc:
            log.warning("library %s: notified round failed: %s", drive_id, exc)
            return False
        finally:
            locks.release(db, lock, owner)
        self.rounds += 1
        log.info("library %s: notified round: %s", drive_id, counts)
        return True

    def _run_drive(self, db: sqlite_utils.Database, job: Job, drive_id: str) -> RunCounts:
        site_id, title = db.conn.execute(
            "SELECT d.site_id, coalesce(s.title, s.name) FROM drives d"
            " JOIN sites s ON s.id = d.site_id WHERE d.id = ?",
            (drive_id,),
        ).fetchone()
        resolve_upn = UpnResolver(db.conn, self.connector.graph)
        context = DriveContext(drive_id, site_id, title)
        drive = DriveSync(
            db,
            self.connector,
            context,
            job.target,
            resolve_upn,
            NullProgress(),
            self.stop,  # type: ignore[arg-type]
        )
        return drive.run()

    def _record_budget(self, db: sqlite_utils.Database) -> None:
        figures = self.connector.http.budget()
        if figures is not None and figures != self._figures:
            self._figures = figures
            with transaction(db) as conn:
                store.set_state(conn, "budget:scheduler", figures)


# -- which libraries are synced, and by which job ------------------------------------------


def synced_drives(db: sqlite_utils.Database) -> list[str]:
    """Libraries in the index that an enabled documents job keeps."""
    rows = db.conn.execute("SELECT id FROM drives WHERE removed = 0").fetchall()
    return [drive_id for (drive_id,) in rows if job_of_drive(db, drive_id) is not None]


def job_of_drive(db: sqlite_utils.Database, drive_id: str) -> Job | None:
    """The first enabled documents job whose target keeps this library (its site chosen by
    all sites, by URL, or by a search word in the site's name or title)."""
    row = db.conn.execute(
        "SELECT d.name, s.web_url, s.name, s.title FROM drives d JOIN sites s ON s.id = d.site_id"
        " WHERE d.id = ? AND d.removed = 0",
        (drive_id,),
    ).fetchone()
    if row is None:
        return None
    drive_name, web_url, site_name, site_title = row
    for job in list_jobs(db, enabled_only=True):
        target = job.target
        if job.kind != DOCUMENTS or target is None:
            continue
        if not target.keeps_library(drive_id, drive_name):
            continue
        urls = {u.rstrip("/").lower() for u in target.site_urls}
        words = f"{site_name or ''} {site_title or ''}".lower()
        if (
            target.all_sites
            or (web_url or "").rstrip("/").lower() in urls
            or (target.site_search and target.site_search.lower() in words)
        ):
            return job
    return None
