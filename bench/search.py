"""Trimmed search latency over a large index: rare, common, frequent and very common terms.

Run: .venv/bin/python bench/search.py [--quick] [--index PATH] [--runs N] [--baseline DIR]

The index: `--index PATH` (e.g. the one `bench/sync_initial.py --keep DIR` leaves, opened
read-only); else one is built: the full run syncs the million-document tenant (seed 1; several
minutes), `--quick` syncs a 20,000-document tenant and copies its items, ACLs and FTS rows four
more times under new ids (100,000 items with the same names, paths and permissions mix).

Terms come from the index's own FTS vocabulary, chosen by how many items hold them: rare
(~0.005% of items), common (~1%), frequent (~8%: 80,000 at a million) and very common (the
term most items hold). People: among a dozen members spread over the directory, the one who
sees the most and the one who sees the least (but something), guests included. Each query is
sync.access.search(person, term), first page of 20, timed over N runs after one warm-up.
Targets (issue 4): p95 < 100 ms for terms matching up to 100,000 items, < 300 ms for terms
matching most items.

`--baseline DIR`: DIR holds other code (e.g. `git archive main | tar -x -C DIR`); its `sync`
package is loaded beside this one (imports renamed) and each run times both searches back to
back, so that a noisy machine slows both alike; the table adds its p50 and the ratio.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from sync_initial import run_sync, start_emulator

from sync import access
from sync.db import connect, open_index
from sync.search import fts_query

FULL_SIZE, QUICK_SYNCED, QUICK_COPIES = 1_000_000, 20_000, 5
SHARES = {"rare": 0.00005, "common": 0.01, "frequent": 0.08}  # of all items
SAMPLED_PEOPLE = 12
TARGET_UP_TO_100K_MS, TARGET_MOST_MS = 100.0, 300.0


@dataclass(frozen=True)
class Term:
    kind: str
    text: str
    matches: int  # items whose name, path or site title hold it (prefix included), any access


def build_index(quick: bool, scratch: Path) -> Path:
    size = QUICK_SYNCED if quick else FULL_SIZE
    emulator = start_emulator(size, scratch)
    index = scratch / "index.db"
    try:
        print(f"building the index: syncing {size:,} documents ...")
        synced = run_sync(emulator, index)
        print(f"  {synced['items']:,} items in {synced['seconds']:.0f} s")
    finally:
        emulator.stop()
    if quick:
        db = open_index(index)
        replicate(db, QUICK_COPIES)
        db.close()
    return index


def replicate(db: sqlite_utils.Database, copies: int) -> None:
    """Copies every item (and its ACL rows) copies - 1 more times under ids suffixed "~n"; the
    FTS triggers index the copies."""
    columns = [c.name for c in db["items"].columns]
    renamed = {"item_id": "item_id || :suffix", "acl_item_id": "acl_item_id || :suffix",
               "parent_id": "parent_id || :suffix"}  # fmt: skip
    select = ", ".join(renamed.get(c, c) for c in columns)
    with db.conn:
        for n in range(1, copies):
            suffix = {"suffix": f"~{n}"}
            db.execute(
                f"INSERT INTO items ({', '.join(columns)}) SELECT {select} FROM items "
                "WHERE instr(item_id, '~') = 0",
                suffix,
            )
            db.execute(
                "INSERT INTO acl (drive_id, item_id, principal, role, via) "
                "SELECT drive_id, item_id || :suffix, principal, role, via FROM acl "
                "WHERE instr(item_id, '~') = 0",
                suffix,
            )


def match_count(db: sqlite_utils.Database, text: str) -> int:
    """Items the search's own FTS expression for `text` matches, whoever may see them."""
    sql = "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?"
    return db.execute(sql, [fts_query(text)]).fetchone()[0]


def pick_terms(db: sqlite_utils.Database) -> list[Term]:
    """One term per kind, by how many items hold it (FTS5's own vocabulary)."""
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, items_fts, row)"
    )
    items = db.execute("SELECT count(*) FROM items WHERE deleted = 0").fetchone()[0]
    rows = db.execute(
        "SELECT term, doc FROM temp.vocab WHERE length(term) >= 4 AND term GLOB '[a-z]*' "
        "AND term NOT GLOB '*[0-9]*'"
    ).fetchall()
    terms = []
    for kind, share in SHARES.items():
        wanted = max(5, round(items * share))
        text, _ = min(rows, key=lambda row: (abs(row[1] - wanted), row[0]))
        terms.append(Term(kind, text, match_count(db, text)))
    text = max(rows, key=lambda row: (row[1], row[0]))[0]
    return [*terms, Term("very common", text, match_count(db, text))]


def pick_people(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    """(label, person id, items visible) of the one who sees most and the one who sees least
    (but something), among a dozen members spread over the directory and every guest."""
    people = db.execute(
        "SELECT id, guest FROM people WHERE enabled = 1 AND deleted = 0 ORDER BY guest, id"
    ).fetchall()
    members = [person_id for person_id, guest in people if not guest]
    guests = [person_id for person_id, guest in people if guest]
    seen = []
    for person_id in spread(members, SAMPLED_PEOPLE) + guests:
        visible = sum(1 for _ in access.visible_item_keys(db, person_id))
        if visible:
            seen.append((visible, person_id))
    most, least = max(seen), min(seen)
    return [("sees most", most[1], most[0]), ("sees least", least[1], least[0])]


def spread(values: list[str], count: int) -> list[str]:
    return values[:: max(1, len(values) // count)][:count]


def load_baseline(code: Path, scratch: Path):
    """The `access` module of the `sync` package under `code`, loaded as `baseline_sync`."""
    target = scratch / "baseline" / "baseline_sync"
    shutil.copytree(code / "sync", target)
    for module in target.glob("*.py"):
        text = re.sub(r"\b(from|import) sync\b", r"\1 baseline_sync", module.read_text())
        module.write_text(text)
    sys.path.insert(0, str(target.parent))
    return importlib.import_module("baseline_sync.access")


def timed(
    db: sqlite_utils.Database, person: str, text: str, runs: int, baseline=None
) -> tuple[list[float], list[float], int]:
    """Latencies (ms) of this code's search and of the baseline's (empty without one), run by
    run, and the total found."""
    page = access.search(db, person, text)  # warm-up
    searches = [access.search] + ([baseline.search] if baseline else [])
    if baseline:
        baseline.search(db, person, text)
    latencies: list[list[float]] = [[], []]
    for _ in range(runs):
        for n, search in enumerate(searches):
            began = time.perf_counter()
            search(db, person, text)
            latencies[n].append((time.perf_counter() - began) * 1000)
    return latencies[0], latencies[1], page.total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 items")
    parser.add_argument("--index", type=Path, help="an index to search (read-only)")
    parser.add_argument("--runs", type=int, help="timed runs per query (default 15, full 30)")
    parser.add_argument("--baseline", type=Path, help="other code whose search to time too")
    args = parser.parse_args()
    runs = args.runs or (15 if args.quick else 30)
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        index = args.index or build_index(args.quick, Path(scratch))
        baseline = load_baseline(args.baseline, Path(scratch)) if args.baseline else None
        db = connect(index, readonly=True)
        items = db.execute("SELECT count(*) FROM items WHERE deleted = 0").fetchone()[0]
        terms = pick_terms(db)
        people = pick_people(db)
        print(f"\ntrimmed search over {items:,} items; first page of 20; {runs} runs each")
        extra = "        baseline p50, ratio" if baseline else ""
        print(f"{'term':>28} {'matches':>9} {'person (sees)':>26} {'found':>9} {'p50 ms':>8} "
              f"{'p95 ms':>8}  target{extra}")  # fmt: skip
        for term in terms:
            for label, person, visible in people:
                latencies, before, total = timed(db, person, term.text, runs, baseline)
                p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
                limit = TARGET_UP_TO_100K_MS if term.matches <= 100_000 else TARGET_MOST_MS
                verdict = "ok" if p95 < limit else "MISSED"
                compared = ""
                if before:
                    old = statistics.median(before)
                    compared = f"  {old:>8.1f} ms, {p50 / old:.2f}x"
                print(f"{term.kind + ' ' + repr(term.text):>28} {term.matches:>9,} "
                      f"{label + f' ({visible:,})':>26} {total:>9,} {p50:>8.1f} {p95:>8.1f}  "
                      f"< {limit:.0f} {verdict:<6}{compared}")  # fmt: skip
        db.close()


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log
    main()
