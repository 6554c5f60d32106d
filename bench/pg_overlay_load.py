"""Overlay load with the social store on SQLite and on PostgreSQL, in the same run.

Run: .venv/bin/python bench/pg_overlay_load.py [--quick] [--backend sqlite|postgres|both]
     [--rounds N] [--workers N] [--size small|medium] [--page-rate N] [--post-rate N]

Each round runs bench/overlay_load.py's whole measurement (its own emulator, first sync, `plaza
serve`, hello baseline, 200 pages/s + 20 comment POSTs/s while full syncs run back to back)
once per backend, one after the other (SQLite first in odd rounds, PostgreSQL first in even
ones, so neither always meets the busier machine). PostgreSQL is a throwaway cluster
(bench/pg_cluster.py: durability at its defaults), a fresh database per run, reached through
PLAZA_DATABASE_URL; the sync index stays SQLite on both. After each run the feed inbox is
counted: each comment POST fans its conversation out to everyone around the writer.

Prints one table per round: each figure on both backends and PostgreSQL / SQLite.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_cluster
from overlay_load import PAGE_RATE, POST_RATE, Setup, load, run_with

INBOX_SQL = (
    "SELECT count(*), count(DISTINCT conversation), (SELECT count(*) FROM comments) FROM feed_inbox"
)
BUSIEST_SQL = "SELECT count(*) FROM feed_inbox GROUP BY conversation ORDER BY count(*) DESC LIMIT 1"


def inbox_counts(setup: Setup) -> dict:
    """Inbox rows, conversations, comments, and the rows of the busiest conversation."""
    url = setup.env.get("PLAZA_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as conn:
            rows, conversations, comments = conn.execute(INBOX_SQL).fetchone()
            busiest = conn.execute(BUSIEST_SQL).fetchone()[0]
    else:
        with sqlite3.connect(Path(setup.env["PLAZA_DATA_DIR"]) / "overlay.db") as conn:
            rows, conversations, comments = conn.execute(INBOX_SQL).fetchone()
            busiest = conn.execute(BUSIEST_SQL).fetchone()[0]
    return {"rows": rows, "conversations": conversations, "comments": comments, "busiest": busiest}


def one_run(backend: str, seconds: float, workers: int, cluster, options) -> dict:
    extra = {"PLAZA_DATABASE_URL": cluster.new_database()} if backend == "postgres" else {}

    def loaded(setup: Setup) -> dict:
        before = os.getloadavg()[0]
        rows, notes = load(setup, seconds, options.page_rate, options.post_rate)
        return {"rows": rows, "notes": notes, "load_before": before, "inbox": inbox_counts(setup)}

    with tempfile.TemporaryDirectory(prefix=f"plaza-bench-{backend}-") as scratch:
        print(f"  {backend} ...", flush=True)
        return run_with(Path(scratch), workers, loaded, extra, options.size)


def figures(result: dict) -> dict[str, float]:
    """name -> value (ms or per second) of one run, for the comparison table."""
    found = {}
    for _what, name, _rate, achieved, p50, p95, p99, failures, dropped in result["rows"]:
        found.update({f"{name} answered/s": achieved, f"{name} p50": p50, f"{name} p95": p95})
        found.update({f"{name} p99": p99, f"{name} errors+dropped": failures + dropped})
    for name, took in result["notes"]["unloaded"].items():
        found[f"{name} alone (median)"] = took
    return found


def render(results: dict[str, dict], seconds: float, workers: int, options) -> str:
    backends = list(results)
    table = [
        f"{seconds:g} s per phase, {workers} gunicorn sync workers, {options.page_rate:g} pages/s"
        f" + {options.post_rate:g} POSTs/s (hello: {options.page_rate:g}/s), full syncs back to"
        f" back, tenant size {options.size}",
        "",
        "| what | " + " | ".join(backends) + (" | PG / SQLite |" if len(backends) == 2 else " |"),
        "|---|" + "---|" * (len(backends) + (1 if len(backends) == 2 else 0)),
    ]
    per = {backend: figures(result) for backend, result in results.items()}
    for name in per[backends[0]]:
        values = [per[b][name] for b in backends]
        unit = "" if name.endswith(("/s", "dropped")) else " ms"
        cells = [f"{v:.1f}{unit}" if unit else f"{v:.0f}" for v in values]
        ratio = ""
        if len(values) == 2 and unit and values[0] > 0:
            ratio = f" {values[1] / values[0]:.2f}x |"
        table.append(f"| {name} | " + " | ".join(cells) + " |" + ratio)
    for backend, result in results.items():
        inbox, notes = result["inbox"], result["notes"]
        table.append(
            f"\n{backend}: load average {result['load_before']:.1f} before,"
            f" {notes['load_average']:.1f} after; {notes['syncs']} full syncs"
            f" (~{notes['sync_seconds']:.1f} s each); feed inbox {inbox['rows']} rows over"
            f" {inbox['conversations']} conversations for {inbox['comments']} comments, the"
            f" busiest conversation in {inbox['busiest']} inboxes"
        )
    return "\n".join(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per phase instead of 30 s")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=1, help="runs per backend, alternating")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--page-rate", type=float, default=PAGE_RATE, help="pages per second")
    parser.add_argument("--post-rate", type=float, default=POST_RATE, help="POSTs per second")
    parser.add_argument("--size", default="small", help="the emulated tenant (medium: 300 people)")
    options = parser.parse_args()
    seconds = 10 if options.quick else 30
    order = ["sqlite", "postgres"] if options.backend == "both" else [options.backend]
    with pg_cluster.throwaway_cluster() as cluster:
        print(pg_cluster.describe(cluster), flush=True)
        for round_number in range(1, options.rounds + 1):
            print(f"round {round_number}", flush=True)
            ran = order if round_number % 2 else order[::-1]
            results = {b: one_run(b, seconds, options.workers, cluster, options) for b in ran}
            print(
                render({b: results[b] for b in order}, seconds, options.workers, options),
                flush=True,
            )


if __name__ == "__main__":
    main()
