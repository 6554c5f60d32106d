"""Freshness: how long a change in SharePoint takes to reach Plaza's index, and what it costs
in SharePoint resource units, with change notifications versus polling every 15 minutes.

    .venv/bin/python bench/freshness.py [--size medium] [--changes 100] [--burst 1000]
                                        [--tick 2] [--job-runs 5] [--paced-first-sync]

Starts the emulator in this process (SharePoint's per-app budget on: 1,200 units a minute, the
0-1,000 licence tier; off for the first full sync unless `--paced-first-sync`, which then
reports the units it spent, any 429 and the connector's pacing waits), syncs people
and every library, adds a documents job, serves Plaza over HTTPS on loopback (its webhook at
/webhooks/graph) and runs the scheduler's freshness tick every `--tick` s as `plaza scheduler`
does (2 s).

1. Notifications: `--changes` changes one after the other, cycling new file, rename and
   revocation (a file two people could open is left to one of them); each after a random
   pause in [0, tick), so that changes are not in step with the ticks; for each, the time from
   the emulator's control call returning to the index showing it (polled every 20 ms).
2. Polling every 15 minutes, computed: a change waits for the next run, uniform in [0, 900) s,
   then for that run, so its p-quantile is p * 900 s + the time of a job run carrying one
   change (median of `--job-runs`).
3. Resource units and requests, from the emulator's own accounting: a job run with no change
   and with one change (what polling spends per poll), a notified round with no change (a
   `missed` event) and with one change; per hour at rest from those.
4. A burst of `--burst` renames of random files, made as fast as the control API takes them:
   rounds run, time from the last change until all are in the index, units and requests,
   notifications versus one job run after the same burst.
Prints Markdown for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from connector.emulator import server
from overlay_app import create_app
from sync.db import connect, open_index
from sync.jobs import add_job, documents_job
from sync.runs import run_job
from sync.scheduler import SyncScheduler
from sync.schedules import Schedule
from sync.targets import DocumentTarget
from sync.trimming import principal_set
from sync.visibility import can_view

JOB, POLL_SECONDS, BUDGET = "everything", 900.0, 1_200
HOUR_BUDGET = BUDGET * 60
FIRST_SYNC = """
import json, sys
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget
db = open_index(sys.argv[1])
connector = Connector.from_env()
sync_people(db, connector)
sync_documents(db, connector, DocumentTarget(all_sites=True))
db.close()
figures = connector.http.budget()
print(json.dumps({"paced_seconds": figures.paced_seconds if figures else 0.0}))
"""


class Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class Bench:
    def __init__(self, size: str, scratch: Path) -> None:
        self.handle = server.start(seed=7, size=size, state_dir=scratch / "emu",
                                   budget_per_minute=None)  # fmt: skip
        self.tenant = self.handle.tenant
        self.env = {n: str(self.handle.info[k]) for n, k in server.ENV_KEYS.items()}
        self.data_dir = scratch / "data"
        self.data_dir.mkdir()
        self.index_path = self.data_dir / "index.db"
        self.session = self.handle.session()
        self.rng = random.Random(18)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.handle.base_url}/_emulator{path}"
        answer = self.session.request(method, url, json=body, timeout=60)
        assert answer.status_code in (200, 201, 204), answer.text
        return answer.json() if answer.content else None

    def units(self) -> tuple[int, int]:
        apps = self.control("GET", "/budget")["apps"]
        return (sum(a["total_units"] for a in apps.values()),
                sum(a["total_requests"] for a in apps.values()))  # fmt: skip

    def first_sync(self, paced: bool) -> str:
        """The first full sync; `paced`: with the budget on, saying what pacing did. It runs in
        a child process: in this one it would share one interpreter lock with the emulator's
        server threads, which then serve it at half the pace (a million items took hours)."""
        if paced:
            self.control("PUT", "/budget", {"perMinute": BUDGET, "reset": True})
        started = time.monotonic()
        # Unpaced, the connector only counts: its own pacing would spend 2.5 h on a large tenant.
        budget = {} if paced else {"PLAZA_GRAPH_BUDGET_PER_MINUTE": "0"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
        child = subprocess.run(
            [sys.executable, "-c", FIRST_SYNC, str(self.index_path)],
            env={**env, **self.env, **budget}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if child.returncode:
            raise SystemExit(f"the first sync failed:\n{child.stderr[-3000:]}")
        paced_seconds = json.loads(child.stdout.strip().splitlines()[-1])["paced_seconds"]
        db = open_index(self.index_path)
        add_job(db, documents_job(JOB, DocumentTarget(all_sites=True), Schedule.interval("15m")))
        db.close()
        seconds = time.monotonic() - started
        said = f"{seconds:.0f} s"
        if paced:
            apps = self.control("GET", "/budget")["apps"]
            said += (f", budget on: {sum(a['total_units'] for a in apps.values())} units,"
                     f" {sum(a['throttled'] for a in apps.values())} answered 429,"
                     f" connector paced {paced_seconds:.0f} s (over its workers)")  # fmt: skip
        self.control("PUT", "/budget", {"perMinute": BUDGET, "reset": True})
        return said

    def serve_plaza(self) -> str:
        certificates = self.handle.certificates
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(certificates.server_cert), str(certificates.server_key))
        plaza: dict[str, Any] = {}
        site = make_server("127.0.0.1", 0, lambda e, s: plaza["app"](e, s), threaded=True,
                           ssl_context=tls, request_handler=Quiet)  # fmt: skip
        url = f"https://localhost:{site.server_port}"
        info = self.handle.info
        plaza["app"] = create_app({
            "data_dir": str(self.data_dir), "secret_key": "bench-" + "x" * 40, "public_url": url,
            "authority": info["authority"], "tenant_id": info["tenant_id"],
            "client_id": info["client_id"], "client_secret": info["client_secret"],
            "ca_bundle": info["ca_file"], "graph_url": info["graph_url"],
            "extra": {"testing": False},
        })  # fmt: skip
        threading.Thread(target=site.serve_forever, daemon=True).start()
        return url + "/webhooks/graph"

    # -- the scheduler's tick ---------------------------------------------------------------

    def start_ticks(self, webhook_url: str, every: float) -> Callable[[], None]:
        os.environ.update(self.env)
        os.environ["PLAZA_WEBHOOK_URL"] = webhook_url
        scheduler = SyncScheduler(self.index_path)
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                started = time.monotonic()
                scheduler.freshness_tick()
                stop.wait(max(0.0, every - (time.monotonic() - started)))

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self.scheduler = scheduler

        def halt() -> None:
            stop.set()
            thread.join()

        return halt

    # -- changes and how they show --------------------------------------------------------

    def files(self) -> list[tuple[str, str]]:
        db = connect(self.index_path, readonly=True)
        rows = db.execute(  # a sample is enough, and keeps a million-item tenant small here
            "SELECT drive_id, item_id FROM items WHERE is_folder = 0 AND deleted = 0"
            " ORDER BY random() LIMIT 20000"
        ).fetchall()
        db.close()
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def change(self, kind: str, n: int, files: list) -> Callable[[Any], bool]:
        """Makes one change; returns the test of the index that shows it."""
        drive_id, item_id = files[n % len(files)]
        if kind == "new file":
            by = next(u.id for u in self.tenant.users.values() if u.account_enabled)
            body = {"drive_id": drive_id, "parent_id": self.tenant.root(drive_id).id,
                    "name": f"Bench {n}.docx", "by": by}  # fmt: skip
            made = self.control("POST", "/items", body)["item_id"]
            return lambda db: _name(db, drive_id, made) is not None
        if kind == "rename":
            name = f"Renamed {n}.docx"
            self.control("PATCH", f"/items/{drive_id}/{item_id}", {"name": name})
            return lambda db: _name(db, drive_id, item_id) == name
        drive_id, item_id, keeper, loser = self.revocable(files)
        grant = {"principal": {"kind": "user", "id": keeper}, "roles": ["write"]}
        self.control("POST", f"/items/{drive_id}/{item_id}/permissions/break", {"grants": [grant]})
        return lambda db: not can_view(db, principal_set(db, loser), drive_id, item_id)

    def revocable(self, files: list) -> tuple[str, str, str, str]:
        members = [u for u in self.tenant.users.values()
                   if u.account_enabled and not u.deleted and u.user_type == "Member"]  # fmt: skip
        while True:
            drive_id, item_id = self.rng.choice(files)
            able = [u.id for u in self.rng.sample(members, 12)
                    if self.tenant.can_open(u.id, drive_id, item_id)]  # fmt: skip
            if len(able) >= 2:
                files.remove((drive_id, item_id))
                return drive_id, item_id, able[0], able[1]

    def wait_shown(self, shown: Callable[[Any], bool], limit: float = 120.0) -> float:
        started = time.monotonic()
        db = connect(self.index_path, readonly=True)
        try:
            while not shown(db):
                if time.monotonic() - started > limit:
                    return float("inf")
                time.sleep(0.02)
        finally:
            db.close()
        return time.monotonic() - started


def _name(db: Any, drive_id: str, item_id: str) -> str | None:
    """The item's name in the index, None while it is not there (or deleted)."""
    sql = "SELECT name FROM items WHERE drive_id = ? AND item_id = ? AND deleted = 0"
    row = db.execute(sql, (drive_id, item_id)).fetchone()
    return None if row is None else row[0]


def note(text: str) -> None:
    """Progress on stderr, with the time: a large tenant's run takes the better part of an hour."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_rounds(bench: Bench, files: list, runs: int) -> dict[str, tuple[int, int, float]]:
    """(units, requests, seconds) of a job run and of a notified round, without and with a
    change; the ticks are stopped meanwhile (nothing else spends)."""
    found: dict[str, tuple[int, int, float]] = {}

    def spent(label: str, action: Callable[[], Any]) -> None:
        units, calls = bench.units()
        started = time.monotonic()
        action()
        seconds = time.monotonic() - started
        after = bench.units()
        found[label] = (after[0] - units, after[1] - calls, seconds)

    spent("job run, no change", lambda: run_job(bench.index_path, JOB))
    times = []
    for n in range(runs):
        bench.change("rename", 90_000 + n, files)
        units, calls = bench.units()
        started = time.monotonic()
        run_job(bench.index_path, JOB)
        times.append(time.monotonic() - started)
        after = bench.units()
        found.setdefault("job run, one rename", (after[0] - units, after[1] - calls, 0.0))
    units, calls, _ = found["job run, one rename"]
    found["job run, one rename"] = (units, calls, statistics.median(times))
    freshness = bench.scheduler._freshness
    assert freshness is not None
    drive_id = files[0][0]
    subscription = next(s for s in bench.control("GET", "/subscriptions")["subscriptions"]
                        if s["driveId"] == drive_id)  # fmt: skip

    def notified_round(change: bool) -> None:
        if change:
            bench.control("PATCH", f"/items/{drive_id}/{files[0][1]}",
                          {"name": f"Round {time.time_ns()}.docx"})  # fmt: skip
        else:
            bench.control("POST", f"/subscriptions/{subscription['id']}/lifecycle",
                          {"event": "missed"})  # fmt: skip
        before = freshness.rounds
        while freshness.rounds == before:
            bench.scheduler.freshness_tick()
            time.sleep(0.05)

    spent("notified round, no change", lambda: notified_round(False))
    spent("notified round, one rename", lambda: notified_round(True))
    return found


def burst(bench: Bench, files: list, count: int, notified: bool) -> tuple[float, float, int, int]:
    """`count` renames over random files, made as fast as the control API takes them: seconds
    to make them, seconds from the last one until all are in the index, units, requests."""
    chosen = bench.rng.sample(files, min(count, len(files)))
    units, calls = bench.units()
    started = time.monotonic()
    checks = [bench.change("rename", 200_000 + n + (count if notified else 0), [key])
              for n, key in enumerate(chosen)]  # fmt: skip
    made = time.monotonic()
    if not notified:
        run_job(bench.index_path, JOB)
    db = connect(bench.index_path, readonly=True)
    while not all(check(db) for check in checks):
        time.sleep(0.05)
    db.close()
    after = bench.units()
    return made - started, time.monotonic() - made, after[0] - units, after[1] - calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--tick", type=float, default=2.0)
    parser.add_argument("--job-runs", type=int, default=5, help="job runs timed with one change")
    parser.add_argument("--paced-first-sync", action="store_true", help="budget on from the start")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="plaza-freshness-"))
    note(f"building the {args.size} tenant")
    bench = Bench(args.size, scratch)
    note("first full sync")
    budget = "on" if args.paced_first_sync else "off"
    print(f"first full sync ({args.size}, budget {budget}):"
          f" {bench.first_sync(args.paced_first_sync)}")  # fmt: skip
    halt = bench.start_ticks(bench.serve_plaza(), args.tick)
    while "subscribed" not in str(_state(bench)):
        time.sleep(0.2)
    print(f"{_state(bench)}")
    files = bench.files()
    note(f"{args.changes} changes")
    kinds = ("new file", "rename", "revocation")
    latency: dict[str, list[float]] = {kind: [] for kind in kinds}
    units = bench.units()[0]
    started = time.monotonic()
    for n in range(args.changes):
        kind = kinds[n % 3]
        time.sleep(bench.rng.uniform(0, args.tick))  # not in step with the ticks
        latency[kind].append(bench.wait_shown(bench.change(kind, n, files)))
    changes_units = bench.units()[0] - units
    changes_seconds = time.monotonic() - started
    halt()
    note("job runs and notified rounds")
    rounds = measure_rounds(bench, files, args.job_runs)
    run_time = rounds["job run, one rename"][2]
    print("\n| change | n | notifications p50 | p95 | max | polling 15 min p50 | p95 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    every = [v for values in latency.values() for v in values]
    for kind, values in [*latency.items(), ("all", every)]:
        print(f"| {kind} | {len(values)} | {pct(values, .5):.2f} s | {pct(values, .95):.2f} s"
              f" | {max(values):.2f} s | {0.5 * POLL_SECONDS + run_time:.0f} s"
              f" | {0.95 * POLL_SECONDS + run_time:.0f} s |")  # fmt: skip
    print(f"\n{args.changes} changes: {changes_units} units in {changes_seconds:.0f} s "
          f"(ticks every {args.tick} s)\n")  # fmt: skip
    print("| round | units | requests | seconds |\n|---|---:|---:|---:|")
    for label, (units_, calls_, seconds) in rounds.items():
        print(f"| {label} | {units_} | {calls_} | {seconds:.2f} |")
    rest = rounds["job run, no change"][0]
    print("\n| at rest, per hour | units | share of 72,000 |\n|---|---:|---:|")
    for label, per_hour in [("polling every 15 min", 4 * rest),
                            ("notifications + hourly safety delta", rest),
                            ("notifications + daily safety delta", rest / 24)]:  # fmt: skip
        print(f"| {label} | {per_hour:.0f} | {100 * per_hour / HOUR_BUDGET:.2f}% |")
    note(f"burst of {args.burst}, notified")
    halt = bench.start_ticks(os.environ["PLAZA_WEBHOOK_URL"], args.tick)
    making, after, used, sent = burst(bench, files, args.burst, notified=True)
    ticking = bench.scheduler._freshness  # a new one for these ticks
    rounds_run = ticking.rounds if ticking else 0
    halt()
    print(
        f"\n| burst of {args.burst} renames (made in {making:.0f} s) | rounds"
        " | last change -> all in the index | units | requests |"
    )
    print("|---|---:|---:|---:|---:|")
    print(f"| notifications | {rounds_run} | {after:.1f} s | {used} | {sent} |")
    note(f"burst of {args.burst}, polled")
    making, after, used, sent = burst(bench, files, args.burst, notified=False)
    print(f"| polling: one job run after it | 1 | {after:.1f} s + the wait for the poll"
          f" | {used} | {sent} |")  # fmt: skip
    bench.handle.stop()


def _state(bench: Bench) -> Any:
    from sync import subscriptions as store

    db = connect(bench.index_path, readonly=True)
    try:
        found = store.get_state(db.conn, store.NOTIFICATIONS_STATE)
    finally:
        db.close()
    return found[0] if found else None


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    requests.packages.urllib3.disable_warnings()  # type: ignore[attr-defined]
    main()
