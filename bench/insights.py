"""Insights over a large tenant with a simulated year of activity: KPI answer times, the
nightly network computation, memory.

Run: .venv/bin/python bench/insights.py [--documents N] [--comments N] [--runs N] [--sets N]

Builds a tenant in this process (the emulator, seed 1, N documents; default 100,000), syncs it
into a scratch index, then writes a year of activity straight into overlay.db through the
discussion store's own insert (no HTTP: a million posts through the API would take hours here):
`--comments` comments (default 1,000,000) on 5% of the files, 40% threads and 60% replies,
every 20th mentioning someone, one like per three comments, one notification read per ten,
times spread evenly over 365 days, authors drawn from the members.

Then, for the member who sees the most documents with activity, the median one and the one who
sees the fewest (but some), through the Flask test client with a bearer token:
- GET /api/v1/me: the baseline, same run;
- GET /api/v1/insights/kpis?scope=all&days=28 (what the Insights page computes);
- GET /api/v1/insights/network?days=90 (cached: the nightly job's answer read back).
The KPIs are measured twice: computed directly, then from the nightly daily totals
(insights/totals.py) after their first run over the year and a second night's run after a
day of changes (new comments yesterday, deletions and hides a week ago), both timed.
And the nightly job (`nightly.compute_all` over the first --sets distinct sets of visible
documents, default 5, 0 to skip it; in a forked child so that its peak RSS is its own),
with the time per set and the number of distinct sets, from which the full run's time
follows. Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from bench.synced_app import build  # noqa: E402
from overlay_app import db  # noqa: E402
from overlay_app.insights import nightly, reads, totals  # noqa: E402
from overlay_app.insights.activity import raw_activity, stamp, visible_keys  # noqa: E402
from sync.trimming import principal_set  # noqa: E402

SEED = 1
ACTIVE_SHARE = 0.05
NOW = datetime.now(UTC)


def seed_year(app: Flask, comments: int) -> None:
    """A year of comments, replies, mentions, likes and reads, written in batches."""
    chance = random.Random(SEED)
    began = time.perf_counter()
    with app.app_context():
        files = (
            db.index()
            .execute(
                "SELECT drive_id, item_id FROM items WHERE is_folder = 0 AND deleted = 0"
                " ORDER BY drive_id, item_id"
            )
            .fetchall()
        )
        members = [row[0] for row in db.index().execute(
            "SELECT id FROM people WHERE enabled = 1 AND deleted = 0 AND guest = 0 ORDER BY id"
        )]  # fmt: skip
        active = chance.sample(files, max(1, int(len(files) * ACTIVE_SHARE)))
        earlier: dict[tuple[str, str], list[tuple[str, str]]] = {}
        rows, mentions, likes, reads_ = [], [], [], []
        start = NOW - timedelta(days=365)
        for n in range(comments):
            at = stamp(start + timedelta(seconds=365 * 86400 * n / comments))
            key = active[min(int(chance.paretovariate(1.2)) - 1, len(active) - 1)] \
                if chance.random() < 0.3 else chance.choice(active)  # fmt: skip
            author = chance.choice(members)
            before = earlier.setdefault(key, [])
            parent = chance.choice(before)[0] if before and chance.random() < 0.6 else None
            cid = str(uuid.UUID(int=chance.getrandbits(128)))
            rows.append((cid, *key, parent, author, "words", "<p>words</p>", at))
            if len(before) < 50:
                before.append((cid, author))
            if n % 20 == 0:
                mentions.append((cid, chance.choice(members)))
            if n % 3 == 0:
                likes.append((cid, chance.choice(members), at))
            if n % 10 == 0:
                reads_.append((chance.choice(members), *key, at))
        with db.transaction() as conn:
            conn.executemany(
                "INSERT INTO comments (id, drive_id, item_id, parent_id, author_id, body,"
                " body_html, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany("INSERT OR IGNORE INTO mentions VALUES (?, ?)", mentions)
            conn.executemany("INSERT OR IGNORE INTO comment_likes VALUES (?, ?, ?)", likes)
            conn.executemany(
                "INSERT INTO notifications (person_id, kind, actor_id, drive_id, item_id,"
                " created_at, read_at, public_id) VALUES (?, 'mention', 'bench', ?, ?, ?, ?, ?)",
                [(p, d, i, at, at, str(uuid.uuid4())) for p, d, i, at in reads_],
            )
    print(f"seeded {comments:,} comments on {len(active):,} files, {len(likes):,} likes,"
          f" {len(mentions):,} mentions, {len(reads_):,} reads in"
          f" {time.perf_counter() - began:.0f} s")  # fmt: skip


def pick_viewers(app: Flask) -> dict[str, tuple[str, int]]:
    """label -> (upn, documents with activity they may open): most, median, fewest (> 0)."""
    with app.app_context():
        raw = raw_activity(NOW, 90)
        people = (
            db.index()
            .execute(
                "SELECT id, upn FROM people WHERE enabled = 1 AND deleted = 0 AND guest = 0"
                " ORDER BY id"
            )
            .fetchall()
        )
        sampled = people[:: max(1, len(people) // 12)][:12]
        seen = []
        for person_id, upn in sampled:
            visible = len(visible_keys(raw, principal_set(db.index(), person_id)))
            if visible:
                seen.append((visible, upn))
    seen.sort()
    return {"sees most": seen[-1][::-1], "median": seen[len(seen) // 2][::-1],
            "sees fewest": seen[0][::-1]}  # fmt: skip


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    call()
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent


def figures(spent: list[float]) -> str:
    ordered = sorted(spent)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(spent):.0f} / {p95:.0f} ms"


def measure(handle, app: Flask, label: str, upn: str, visible: int, runs: int) -> str:
    """One row: the baseline, the KPIs (totals once the nightly job has run, else the
    activity itself) and the cached network answer."""
    headers = {"Authorization": "Bearer " + handle.token("api", user=upn)}
    client = app.test_client()

    def get(url: str) -> Callable[[], Any]:
        def call() -> Any:
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            return answer

        return call

    me = timed(get("/api/v1/me"), runs)
    kpi = timed(get("/api/v1/insights/kpis?scope=all&days=28"), runs)
    network = timed(get("/api/v1/insights/network?unit=department&days=90"), runs)
    return (f"| {label} | {visible:,} | {figures(me)} | {figures(kpi)} | {figures(network)} |"
            f" {statistics.median(kpi) / statistics.median(me):.0f}x |")  # fmt: skip


def nightly_child(app: Flask, sets: int, out) -> None:
    """In a forked child: the nightly computation (as nightly.compute_all) over the first
    `sets` distinct sets of visible documents of each period."""
    loading, listing, per_set, distinct_sets = 0.0, 0.0, 0.0, 0
    with app.app_context():
        for days in (7, 28, 90):
            began = time.perf_counter()
            raw = raw_activity(NOW, days)
            loading += time.perf_counter() - began
            began = time.perf_counter()
            distinct = nightly.distinct_visible_sets(raw)
            listing += time.perf_counter() - began
            distinct_sets = max(distinct_sets, len(distinct))
            spent = []
            for principals, visible in list(distinct.values())[:sets]:
                one = time.perf_counter()
                reads.compute_networks(raw, principals, visible, days)
                spent.append(time.perf_counter() - one)
            per_set += statistics.median(spent) * len(distinct)  # this period, all its sets
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send({"load": loading, "list": listing, "sets": distinct_sets, "compute": per_set,
              "peak_mb": peak})  # fmt: skip


def measure_nightly(app: Flask, sets: int) -> dict:
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=nightly_child, args=(app, sets, sending))
    child.start()
    found = receiving.recv()
    child.join()
    return found


def later_changes(app: Flask, comments: int) -> tuple[int, int]:
    """A day's changes after a nightly run: `comments` new comments yesterday, 1% of the
    comments of a week ago deleted and 0.5% hidden (the next run has those days to redo)."""
    chance = random.Random(SEED + 1)
    yesterday = NOW - timedelta(days=1)
    with app.app_context(), db.transaction() as conn:
        keys = conn.execute(
            "SELECT DISTINCT drive_id, item_id FROM comments WHERE created_at >= ?",
            [stamp(NOW - timedelta(days=7))],
        ).fetchall()
        rows = []
        for n in range(comments):
            at = stamp(
                yesterday.replace(hour=0, minute=0) + timedelta(seconds=86399 * n / comments)
            )
            rows.append((str(uuid.UUID(int=chance.getrandbits(128))), *chance.choice(keys),
                         None, "bench-late", "w", "<p>w</p>", at))  # fmt: skip
        conn.executemany(
            "INSERT INTO comments (id, drive_id, item_id, parent_id, author_id, body,"
            " body_html, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        week = [stamp(NOW - timedelta(days=8)), stamp(NOW - timedelta(days=7))]
        deleted = conn.execute(
            "UPDATE comments SET deleted_at = ? WHERE created_at >= ? AND created_at < ?"
            " AND abs(random()) % 100 = 0", [stamp(NOW), *week]).rowcount  # fmt: skip
        hidden = conn.execute(
            "UPDATE comments SET hidden_at = ? WHERE created_at >= ? AND created_at < ?"
            " AND abs(random()) % 200 = 0", [stamp(NOW), *week]).rowcount  # fmt: skip
    return deleted, hidden


def measure_totals(app: Flask) -> None:
    """The nightly totals: the first run (every day) and the next night's (what changed)."""
    with app.app_context():
        first = totals.update(NOW)
        print(
            f"\ntotals, first run: {first.days} days, {first.rows:,} rows in {first.seconds:.1f} s"
        )
        deleted, hidden = later_changes(app, 2_700)
        again = totals.update(NOW)
        print(f"totals, next night (2,700 new comments yesterday, {deleted} deleted and {hidden}"
              f" hidden a week ago): {again.days} days, {again.rows:,} rows in"
              f" {again.seconds:.1f} s")  # fmt: skip
        social = db.social()
        count = social.execute("SELECT count(*) FROM insight_day_people").fetchone()[0]
        threads = social.execute("SELECT count(*) FROM insight_threads").fetchone()[0]
        print(f"totals hold {count:,} person-document-day rows and {threads:,} threads")


def profile_kpis(handle, app: Flask, upn: str) -> None:
    import cProfile
    import pstats

    headers = {"Authorization": "Bearer " + handle.token("api", user=upn)}
    client = app.test_client()
    with cProfile.Profile() as profiler:
        client.get("/api/v1/insights/kpis?scope=all&days=28", headers=headers)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sets", type=int, default=5, help="distinct sets the nightly times")
    parser.add_argument("--profile", action="store_true", help="profile one KPI request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plaza-bench-insights-") as scratch:
        handle, app = build(args.documents, Path(scratch))
        try:
            seed_year(app, args.comments)
            if args.sets:
                night = measure_nightly(app, args.sets)
                total = night["load"] + night["list"] + night["compute"]
                print(f"\nnightly: activity read in {night['load']:.1f} s, distinct sets listed"
                      f" in {night['list']:.1f} s (at most {night['sets']:,} per period), the"
                      f" analyses {night['compute']:.0f} s (median per set x sets):"
                      f" {total:.0f} s in all; peak RSS {night['peak_mb']:.0f} MB")  # fmt: skip
            viewers = pick_viewers(app)
            for form in ("direct (before the nightly totals)", "from the nightly totals"):
                if form.startswith("from"):
                    measure_totals(app)
                print(f"\nKPIs {form}: {args.runs} runs each, median / p95\n")
                print("| viewer | documents with activity they open | GET /api/v1/me (baseline) |"
                      " GET kpis (all, 28 days) | GET network (cached) | kpis ÷ me |")  # fmt: skip
                print("|---|---|---|---|---|---|")
                for label, (upn, visible) in viewers.items():
                    print(measure(handle, app, label, upn, visible, args.runs))
            if args.profile:
                profile_kpis(handle, app, viewers["sees most"][0])
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"\nthis process (sync, seeding, requests): peak RSS {peak:.0f} MB")
        finally:
            handle.stop()
    print(json.dumps(vars(args)))


if __name__ == "__main__":
    main()
