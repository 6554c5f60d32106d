"""Is Plaza healthy? One function (`gather`) behind /admin/health, /api/v1/admin/health and
`plaza status`, over the index, the data directory and the settings; no Flask in here.

Per job: its last success, lag (how long since the index last caught up with SharePoint for
it), next run, and the last error in sync's words. Then the scheduler's heartbeat (its lease
in the index, sync.locks.SCHEDULER_LEASE) and which scheduler process leads (sync/leader.py),
whether the real-time process answers, Graph
throttling over the last day (waits counted at connector.session's one retry decision and
recorded on each run), the request budget (BUDGET_HOOKS), file sizes, and the people a people
sync found disabled or deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlite_utils

from connector.session import new_session
from overlay_app.errors import N_
from sync import directory, locks, runs, subscriptions
from sync.dialect import is_postgres
from sync.jobs import PEOPLE, Job, list_jobs
from sync.leader import ElectionError, current_leader
from sync.totals import index_totals

log = logging.getLogger(__name__)
THROTTLING_WINDOW = timedelta(hours=24)
STORES = ("index.db", "overlay.db", "auth.db")
# With PLAZA_DATABASE_URL the stores are schemas of that database (the index's plaza_index,
# the social store's public, the sessions' plaza_auth): their sizes there, not the files'.
PG_STORES = {"index.db": "plaza_index", "overlay.db": "public", "auth.db": "plaza_auth"}
PG_SIZE = """SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'"""
# Sources of "budget used" (resource units of Graph): each takes the index and returns a dict
# to show (e.g. {"used": 1200, "limit": 5000, "window": "per 10 s"}) or None when it has
# nothing. The scheduler's SharePoint resource units (sync/subscriptions.py, issue 18).
BUDGET_HOOKS: list[Callable[[sqlite_utils.Database], dict[str, Any] | None]] = [
    subscriptions.health_entry
]
OK, FAILING, NEVER, PAUSED, LATE = "ok", "failing", "never run", "paused", "late"


def gather(index: sqlite_utils.Database, data_dir: Path, realtime_url: str = "") -> dict:
    """Everything the health page shows, as JSON-ready values; `healthy` sums it up."""
    now = datetime.now(UTC)
    jobs = [_job_health(job, index, now) for job in list_jobs(index)]
    scheduler = _scheduler(index, data_dir)
    realtime = _realtime(realtime_url)
    waits, seconds = runs.throttling_since(index, now - THROTTLING_WINDOW)
    report = {
        "checkedAt": _iso(now),
        "jobs": jobs,
        "scheduler": scheduler,
        "realtime": realtime,
        "throttling": {"windowHours": 24, "waits": waits, "secondsWaited": round(seconds, 1)},
        "budget": [entry for hook in BUDGET_HOOKS if (entry := hook(index)) is not None],
        "sizes": _sizes(data_dir, index),
        "peopleLeft": _people_left(index),
    }
    report["problems"] = problems(report)
    report["healthy"] = not report["problems"]
    return report


def problems(report: dict, say: Callable[..., str] | None = None) -> list[str]:
    """What an admin should look at, in words: English (the API's), or through `say` (gettext,
    for the page)."""
    say = say or _english
    found = [
        say(N_("job %(name)s: %(error)s"), name=job["name"],
            error=job["lastError"] or say(N_("has not succeeded yet")))
        for job in report["jobs"]
        if job["state"] in (FAILING, NEVER)
    ]  # fmt: skip
    found += [
        say(N_("job %(name)s is late"), name=job["name"])
        for job in report["jobs"]
        if job["state"] == LATE
    ]
    if not report["scheduler"]["alive"]:
        found.append(say(N_("the scheduler is not running: start `plaza scheduler`")))
    if report["realtime"]["alive"] is False:
        found.append(
            say(N_("the real-time process does not answer at %(url)s"),
                url=report["realtime"]["url"])
        )  # fmt: skip
    if report["throttling"]["waits"]:
        found.append(
            say(N_("Microsoft throttled Plaza %(waits)s times in the last 24 h"),
                waits=report["throttling"]["waits"])
        )  # fmt: skip
    return found


def _english(template: str, **values: object) -> str:
    return template % values if values else template


def _job_health(job: Job, index: sqlite_utils.Database, now: datetime) -> dict:
    latest = runs.history(index, job.name, limit=1)
    last = latest[0] if latest else None
    success = runs.last_succeeded(index).get(job.name)
    started = runs.last_started(index, job.name)
    next_run = job.schedule.next_run(started, now) if job.enabled else None
    lag = (now - _when(success.ended_at)).total_seconds() if success and success.ended_at else None
    return {
        "name": job.name,
        "kind": job.kind,
        "enabled": job.enabled,
        "state": _state(job, last, success, next_run, now),
        "lastSuccess": success.ended_at if success else None,
        "lagSeconds": None if lag is None else round(lag),
        "nextRun": _iso(next_run) if next_run else None,
        "lastOutcome": last.outcome if last else None,
        "lastError": last.error if last and last.outcome == runs.FAILED else None,
    }


def _state(job: Job, last, success, next_run: datetime | None, now: datetime) -> str:
    if last is not None and last.outcome == runs.FAILED:
        return FAILING
    if not job.enabled:
        return PAUSED
    if success is None:
        return NEVER
    if next_run is not None and next_run < now - timedelta(minutes=5):
        return LATE
    return OK


def _scheduler(index: sqlite_utils.Database, data_dir: Path) -> dict:
    lease = locks.live_lease(index, locks.SCHEDULER_LEASE)
    return {"alive": lease is not None, "until": lease[1] if lease else None,
            "leader": _leader(data_dir)}  # fmt: skip


def _leader(data_dir: Path) -> dict | None:
    """The `plaza scheduler` process that leads ({host, pid, since}), or None."""
    try:
        leader = current_leader(data_dir)
    except ElectionError as exc:
        log.warning("cannot tell which scheduler leads: %s", exc)
        return None
    return None if leader is None else {"host": leader.host, "pid": leader.pid,
                                        "since": leader.since}  # fmt: skip


def _realtime(url: str) -> dict:
    """Asks `plaza realtime` for its public OpenAPI page; None when no separate process is
    configured (PLAZA_REALTIME_URL unset: streams are served with the pages)."""
    if not url:
        return {"url": None, "alive": None}
    try:
        with new_session(timeout=2) as session:
            session.trust_env = False  # our own process: no proxy
            alive = session.get(f"{url}/api/v1/openapi.json").status_code == 200
    except requests.RequestException:
        alive = False
    return {"url": url, "alive": alive}


def _sizes(data_dir: Path, index: sqlite_utils.Database) -> dict:
    files = {}
    for name in STORES:
        if is_postgres(index) and name in PG_STORES:
            schema = PG_STORES[name]
            files[f"PostgreSQL {schema}"] = int(index.execute(PG_SIZE, [schema]).fetchone()[0])
            continue
        parts = [Path(data_dir) / name, Path(data_dir) / f"{name}-wal"]
        files[name] = sum(part.stat().st_size for part in parts if part.exists())
    return {"bytes": files, **index_totals(index)}


def _people_left(index: sqlite_utils.Database) -> list[dict]:
    """Who the latest people run found disabled or deleted."""
    people_jobs = {job.name for job in list_jobs(index) if job.kind == PEOPLE}
    started = [
        _when(run.started_at)
        for name, run in runs.last_succeeded(index).items()
        if name in people_jobs
    ]
    if not started:
        return []
    return [
        {"id": pid, "name": name, "reason": reason}
        for pid, name, reason in directory.left_since(index, max(started))
    ]


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
