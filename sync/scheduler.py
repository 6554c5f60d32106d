"""`plaza scheduler`: one dedicated process that runs every enabled job on its schedule.

APScheduler 3 (BlockingScheduler) holds one APScheduler job per enabled sync job. A poll job
re-reads the jobs table every few seconds and adds, reschedules or removes what changed, so
`plaza sync add | edit | pause | resume | remove` take effect without a restart. Missed runs
are coalesced into one, and one process never starts a job while its previous run goes on
(max_instances=1). Several schedulers may run (a pair for high availability): one leads and
runs the jobs, the others stand by until it dies (sync/leader.py); across processes the job's
lock in the index (sync.runs.run_job) still stops two from running a job at the same time (the
later one records a 'skipped' run). SIGTERM and SIGINT stop it gracefully: running jobs stop
after their current page (which commits) and are recorded as failed with a reason. A leader
that loses its election lock stops the same way and `run()` returns False.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from sync.db import is_url, open_index
from sync.freshness import Freshness
from sync.jobs import Job, JobNotFound, list_jobs
from sync.leader import (
    CHECK_SECONDS,
    LEADER_FILE,
    RETRY_SECONDS,
    Election,
    ElectionError,
    FileElection,
    Watchdog,
    election_for,
    leader_lease,
)
from sync.runs import RunStopped, last_started, run_job
from sync.schedules import BadSchedule, Schedule
from sync.source import Connector

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
FRESHNESS_SECONDS = 2.0  # how often queued change notifications are looked for
MISFIRE_GRACE_SECONDS = 300  # a run may start this late (e.g. after a suspend) before it is dropped
STOPPED = (
    "stopped: the scheduler was asked to stop; the next run continues from the last committed page"
)


class StopAwareProgress:
    """Engine progress for scheduled runs: log lines, and a stop between pages on shutdown."""

    def __init__(self, job: str, stopping: threading.Event) -> None:
        self.job, self.stopping = job, stopping

    def on_page(self, items: int) -> None:
        log.debug("job %s: page of %d items", self.job, items)
        if self.stopping.is_set():
            raise RunStopped(STOPPED)

    def on_throttled(self, seconds: float) -> None:
        log.info("job %s: throttled, waiting %.1f s", self.job, seconds)

    def on_message(self, text: str) -> None:
        log.info("job %s: %s", self.job, text)


def _default_election(location: str | Path) -> Election:
    """The lock file beside index.db; for an index in PostgreSQL, that database's lock."""
    if is_url(location):
        return election_for(".", {"PLAZA_DATABASE_URL": str(location)})
    return FileElection(Path(location).parent / LEADER_FILE)


class SyncScheduler:
    """Schedules the jobs of the index at `db_path`; `run()` blocks until stopped."""

    def __init__(
        self,
        db_path: str | Path,
        poll_seconds: float = POLL_SECONDS,
        freshness_seconds: float = FRESHNESS_SECONDS,
        election: Election | None = None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.db_path = db_path if is_url(db_path) else Path(db_path)  # the index's location
        self.election = election or _default_election(self.db_path)
        self.retry_seconds = retry_seconds
        self.lost_leadership = False
        self.poll_seconds = poll_seconds
        self.freshness_seconds = freshness_seconds
        self._freshness: Freshness | None = None
        self.db = open_index(self.db_path)  # raises IndexTooNew before anything starts
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )
        self.scheduled: dict[str, Schedule] = {}  # what each job was last scheduled with
        self.stopping = threading.Event()
        self._connector: Connector | None = None
        self._connector_lock = threading.Lock()

    def run(self) -> bool:
        """Stands by until this process leads, then runs jobs until SIGTERM/SIGINT or `stop()`;
        False when it stopped because it lost the leadership."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.scheduler.add_job(
            self.reconcile,
            "interval",
            seconds=self.poll_seconds,
            id="plaza:poll-jobs",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.add_job(
            self.freshness_tick,
            "interval",
            seconds=self.freshness_seconds,
            id="plaza:freshness",
            next_run_time=datetime.now(UTC),
        )
        log.info(
            "scheduler started on %s (polling jobs every %s s)", self.db_path, self.poll_seconds
        )
        try:
            if self._stand_by():
                watchdog = Watchdog(self.election, self._on_lost, CHECK_SECONDS)
                with leader_lease(self.db_path), watchdog:
                    if not self.stopping.is_set():  # a signal may come before the loop starts
                        self.scheduler.start()
        finally:
            self.election.close()
            self.db.close()
        log.info("scheduler stopped")
        return not self.lost_leadership

    def _stand_by(self) -> bool:
        """Waits until this process leads (True) or is asked to stop (False)."""
        said = None
        while not self.stopping.is_set():
            try:
                if self.election.try_lead():
                    log.info("leader: this scheduler runs the jobs (%s)", self.election.where)
                    return True
                leader = self.election.leader()
                news = f"{leader.describe() if leader else 'another scheduler'} leads"
            except ElectionError as exc:  # e.g. PostgreSQL restarting: keep trying
                news = f"cannot reach the election: {exc}"
            if news != said:
                log.info("standing by: %s; trying every %s s", news, self.retry_seconds)
                said = news
            self.stopping.wait(self.retry_seconds)
        return False

    def _on_lost(self) -> None:
        self.lost_leadership = True
        self.stop()

    def add_task(self, name: str, seconds: float, task: Callable[[], object]) -> None:
        """Runs another part's periodic task (the mail sender) every `seconds` in this process,
        one run at a time; a failure is logged and the task runs again next time."""

        def run_logged() -> None:
            if self.stopping.is_set():
                return
            try:
                task()
            except Exception:
                log.exception("task %s failed; it runs again in %s s", name, seconds)

        self.scheduler.add_job(
            run_logged, "interval", seconds=seconds, id=f"task:{name}", name=name,
            next_run_time=datetime.now(UTC),
        )  # fmt: skip

    def stop(self) -> None:
        """Asks running jobs to stop after their current page and waits for them."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log.info("stopping: waiting for running jobs to finish their current page")
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=True)

    def reconcile(self) -> None:
        """Brings APScheduler's jobs in line with the enabled jobs in the index."""
        try:
            wanted = {job.name: job for job in list_jobs(self.db, enabled_only=True)}
        except Exception:  # a locked or briefly unreadable index: try again next poll
            log.exception("cannot read the jobs; trying again in %s s", self.poll_seconds)
            return
        for name in set(self.scheduled) - set(wanted):
            with contextlib.suppress(JobLookupError):  # a bad schedule was never added
                self.scheduler.remove_job(_job_id(name))
            del self.scheduled[name]
            log.info("job %s unscheduled (paused or removed)", name)
        for name, job in wanted.items():
            if self.scheduled.get(name) != job.schedule:
                self._schedule(job)

    def _schedule(self, job: Job) -> None:
        try:
            trigger = job.schedule.trigger()
        except BadSchedule as exc:  # e.g. a time zone this machine lacks: say so once
            log.error("job %s cannot be scheduled: %s", job.name, exc)
            self.scheduled[job.name] = job.schedule
            return
        first = job.schedule.next_run(last_started(self.db, job.name), datetime.now(UTC))
        self.scheduler.add_job(
            self._fire,
            trigger,
            args=(job.name,),
            id=_job_id(job.name),
            name=job.name,
            replace_existing=True,
            next_run_time=first,
        )
        verb = "rescheduled" if job.name in self.scheduled else "scheduled"
        self.scheduled[job.name] = job.schedule
        log.info("job %s %s: %s, next run %s", job.name, verb, job.schedule.describe(), first)

    def _fire(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            run = run_job(
                self.db_path,
                name,
                progress=StopAwareProgress(name, self.stopping),
                connector=self._shared_connector(),
            )
        except JobNotFound:
            log.info("job %s was removed before it could run", name)
            return
        log.info(
            "job %s: run %d %s%s", name, run.id, run.outcome, f": {run.error}" if run.error else ""
        )

    def freshness_tick(self) -> None:
        """Subscriptions kept up, and one delta round per library Graph said changed."""
        if self.stopping.is_set():
            return
        connector = self._shared_connector()
        if connector is None:
            return
        if self._freshness is None:
            webhook_url = connector.http.settings.webhook_url
            self._freshness = Freshness(self.db_path, connector, webhook_url)
            self._freshness.stop = self.stopping
        try:
            self._freshness.tick()
        except Exception:  # a tick that fails (Graph down, index busy) is tried again soon
            log.exception("change notifications: tick failed; trying again")

    def _shared_connector(self) -> Connector | None:
        """One connector (and token cache) for every run; None lets run_job build one and
        record why it could not."""
        with self._connector_lock:
            if self._connector is None:
                try:
                    self._connector = Connector.from_env()
                except Exception:
                    return None
            return self._connector

    def _on_signal(self, signum: int, frame: object) -> None:
        log.info("received %s", signal.Signals(signum).name)
        threading.Thread(target=self.stop, name="scheduler stop").start()


def _job_id(name: str) -> str:
    return f"sync:{name}"
