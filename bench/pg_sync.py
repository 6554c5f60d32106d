"""The sync and document search on SQLite and on PostgreSQL, in the same run.

Run: .venv/bin/python bench/pg_sync.py [--size 20000] [--rounds 3] [--runs 15]

One emulator tenant of --size documents (seed 1, bench/sync_initial.py's subprocess, budget
off) and one throwaway PostgreSQL cluster (bench/pg_cluster.py: production durability). Then:
1. initial sync: sync_initial.py's SYNC_RUNNER in a fresh process, into a new index.db
   (SQLite), then into a new database's `plaza_index` schema (its URL to open_index);
   items/s = library items indexed / wall seconds (people included), per engine;
2. incremental: sync_incremental.py's no-change run, --rounds times per engine, alternately
   (SQLite, PostgreSQL, SQLite, ...), each in a fresh process; median seconds;
3. document search over the two indexes just synced (the same tenant, so the same items and
   permissions): bench/search.py's terms (rare, common, frequent, very common, from SQLite's
   FTS5 vocabulary) and people (who sees most, who sees least), sync.access.search, first
   page of 20; one warm-up each, then --runs runs alternately; p50 and p95 per engine, and
   the statements (round trips) of one PostgreSQL search after the warm-up. Both engines must
   find the same total for every query (else it stops: not the same search).
Prints PostgreSQL / SQLite for each. Target (issue 17): PostgreSQL within 1.5x of SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_cluster
from search import percentile, pick_people, pick_terms
from sync_incremental import no_change_round
from sync_initial import Emulator, run_sync, start_emulator

from sync import access
from sync.db import connect, open_index

TARGET_RATIO = 1.5
ENGINES = ("SQLite", "PostgreSQL")


def verdict(ratio: float) -> str:
    return "meets" if ratio <= TARGET_RATIO else "MISSES"


def initial(emulator: Emulator, indexes: dict[str, str]) -> dict[str, dict]:
    """Each engine's first sync of the tenant, one after the other."""
    reports = {}
    for engine, index in indexes.items():
        reports[engine] = run_sync(emulator, index)  # type: ignore[arg-type]
        r = reports[engine]
        print(f"  {engine:<10} {r['items']:>9,} items in {r['seconds']:7.1f} s"
              f" = {r['items'] / r['seconds']:7,.0f} items/s"
              f" (people {r['people_seconds']:.1f} s,"
              f" peak RSS {r['peak_rss_mb']:.0f} MB)")  # fmt: skip
    sqlite, pg = (reports[e] for e in ENGINES)
    ratio = pg["seconds"] / sqlite["seconds"]
    print(f"  PostgreSQL / SQLite: {ratio:.2f}x the seconds; {verdict(ratio)} the "
          f"{TARGET_RATIO}x target")  # fmt: skip
    return reports


def incremental(emulator: Emulator, indexes: dict[str, str], rounds: int) -> dict[str, float]:
    """Median seconds of `rounds` no-change runs per engine, run alternately."""
    seconds: dict[str, list[float]] = {engine: [] for engine in indexes}
    libraries = 0
    for _ in range(rounds):
        for engine, index in indexes.items():
            report = no_change_round(emulator, index)  # type: ignore[arg-type]
            if report["changes"]:
                raise SystemExit(f"{engine}: a no-change run found {report['changes']} changes")
            seconds[engine].append(report["seconds"])
            libraries = report["libraries"]
    medians = {engine: statistics.median(runs) for engine, runs in seconds.items()}
    for engine, runs in seconds.items():
        print(f"  {engine:<10} {', '.join(f'{s:.2f}' for s in runs)} s"
              f" (median {medians[engine]:.2f} s over {libraries:,} libraries)")  # fmt: skip
    ratio = medians["PostgreSQL"] / medians["SQLite"]
    print(f"  PostgreSQL / SQLite: {ratio:.2f}x; {verdict(ratio)} the {TARGET_RATIO}x target")
    return medians


def timed_search(dbs: dict, person: str, text: str, runs: int) -> tuple[dict, int, int]:
    """Latencies (ms) per engine, runs alternating, the total found (the same on both) and
    the statements (round trips) of one PostgreSQL search after the first."""
    totals = {engine: access.search(db, person, text).total for engine, db in dbs.items()}
    statements: list[str] = []
    dbs["PostgreSQL"].conn.set_trace_callback(statements.append)
    try:
        access.search(dbs["PostgreSQL"], person, text)
    finally:
        dbs["PostgreSQL"].conn.set_trace_callback(None)
    if len(set(totals.values())) != 1:
        raise SystemExit(f"{text!r} for {person}: the engines found {totals}")
    latencies: dict[str, list[float]] = {engine: [] for engine in dbs}
    for _ in range(runs):
        for engine, db in dbs.items():
            began = time.perf_counter()
            access.search(db, person, text)
            latencies[engine].append((time.perf_counter() - began) * 1000)
    return latencies, totals["SQLite"], len(statements)


def document_search(indexes: dict[str, str], runs: int) -> list[float]:
    """bench/search.py's queries on both engines; the PostgreSQL / SQLite ratios of p50."""
    dbs = {"SQLite": connect(indexes["SQLite"], readonly=True),
           "PostgreSQL": open_index(indexes["PostgreSQL"])}  # fmt: skip
    dbs["PostgreSQL"].execute("ANALYZE")  # as autovacuum would have by now in production
    ratios = []
    try:
        terms, people = pick_terms(dbs["SQLite"]), pick_people(dbs["SQLite"])
        print(f"{'term':>28} {'matches':>8} {'person (sees)':>22} {'found':>7}"
              f" {'SQLite p50/p95 ms':>18} {'PG p50/p95 ms':>16} {'PG/SQLite':>9}"
              f" {'PG stmts':>8}")  # fmt: skip
        for term in terms:
            for label, person, visible in people:
                latencies, total, statements = timed_search(dbs, person, term.text, runs)
                p50 = {e: statistics.median(v) for e, v in latencies.items()}
                p95 = {e: percentile(v, 0.95) for e, v in latencies.items()}
                ratios.append(p50["PostgreSQL"] / p50["SQLite"])
                print(f"{term.kind + ' ' + repr(term.text):>28} {term.matches:>8,}"
                      f" {label + f' ({visible:,})':>22} {total:>7,}"
                      f" {p50['SQLite']:>8.1f} /{p95['SQLite']:>7.1f}"
                      f" {p50['PostgreSQL']:>7.1f} /{p95['PostgreSQL']:>6.1f}"
                      f" {ratios[-1]:>8.2f}x {statements:>8}")  # fmt: skip
    finally:
        for db in dbs.values():
            db.close()
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000, help="documents in the tenant")
    parser.add_argument("--rounds", type=int, default=3, help="no-change runs per engine")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per search")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch,
        pg_cluster.throwaway_cluster() as cluster,
    ):
        print(pg_cluster.describe(cluster))
        indexes = {"SQLite": str(Path(scratch) / "index.db"),
                   "PostgreSQL": cluster.new_database(migrated=False)}  # fmt: skip
        emulator = start_emulator(args.size, Path(scratch))
        try:
            print(f"\ninitial sync of {args.size:,} documents (seed 1):")
            initial(emulator, indexes)
            print(f"\nno-change incremental runs ({args.rounds} per engine, alternately):")
            incremental(emulator, indexes, args.rounds)
        finally:
            emulator.stop()
        print(f"\ndocument search, first page of 20, {args.runs} runs each, alternately:")
        ratios = document_search(indexes, args.runs)
        worst = max(ratios)
        print(f"  PostgreSQL / SQLite p50: median {statistics.median(ratios):.2f}x, worst"
              f" {worst:.2f}x; {verdict(worst)} the {TARGET_RATIO}x target")  # fmt: skip


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log
    main()
