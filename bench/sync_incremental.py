"""A no-change incremental documents run over a thousand libraries: how long it takes.

Run: .venv/bin/python bench/sync_incremental.py [--quick] [--reuse DIR] [--rounds N]

Full: the million-document tenant (514 sites, 1,027 libraries, seed 1). It must be synced
once first: this script does it (several minutes, see bench/sync_initial.py), or `--reuse DIR`
takes the index left by `bench/sync_initial.py --keep DIR` and serves the emulator on the port
its delta links name. `--quick`: a 20,000-document tenant (17 sites, 31 libraries), synced
first, in well under a minute.

Then N no-change runs (default 3), each in a fresh process as `plaza sync run` starts one:
sync_documents over all sites (list sites and libraries, re-read every site's SharePoint
groups, one delta request per library answered with no changes). Timed from building the
connector (token included) to the end of the run. Target (issue 4): < 30 s for 1,000 libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sync_initial import Emulator, run_sync, start_emulator

FULL_SIZE, QUICK_SIZE = 1_000_000, 20_000
TARGET_SECONDS, TARGET_LIBRARIES = 30.0, 1_000

ROUND_RUNNER = """
import json, sys, time
from sync.db import open_index
from sync.engine import Connector, sync_documents
from sync.targets import DocumentTarget
db = open_index(sys.argv[1])
began = time.perf_counter()
connector = Connector.from_env()
counts = sync_documents(db, connector, DocumentTarget(all_sites=True))
seconds = time.perf_counter() - began
print(json.dumps({
    "seconds": seconds, "pages": counts.pages, "requests": connector.stats().requests,
    "changes": counts.added + counts.updated + counts.moved + counts.deleted
               + counts.permission_changes,
    "libraries": db.execute("SELECT count(*) FROM drives WHERE removed = 0").fetchone()[0],
    "sites": db.execute("SELECT count(*) FROM sites WHERE removed = 0").fetchone()[0],
}))
"""


def no_change_round(emulator: Emulator, index: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env.update(emulator.env)
    out = subprocess.run(
        [sys.executable, "-c", ROUND_RUNNER, str(index)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"the round failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepared(args: argparse.Namespace, scratch: Path) -> tuple[Emulator, Path]:
    """A running emulator and an index holding a completed first sync of its tenant."""
    size = QUICK_SIZE if args.quick else FULL_SIZE
    if args.reuse:
        facts = json.loads((args.reuse / f"emulator-{size}.json").read_text())
        index = scratch / "index.db"
        print(f"copying the kept index of {size:,} documents ...")
        for suffix in ("", "-wal"):  # the WAL too, should the last writer have left one
            kept = args.reuse / f"index-{size}.db{suffix}"
            if kept.exists():
                shutil.copyfile(kept, index.with_name(index.name + suffix))
        emulator = start_emulator(size, Path(facts["state"]), facts["seed"], facts["port"])
        return emulator, index
    emulator = start_emulator(size, scratch)
    index = scratch / "index.db"
    print(f"first sync of {size:,} documents ...")
    first = run_sync(emulator, index)
    print(f"  {first['items']:,} items in {first['seconds']:.0f} s")
    return emulator, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 documents, 31 libraries")
    parser.add_argument("--reuse", type=Path, help="a directory from sync_initial.py --keep")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        emulator, index = prepared(args, Path(scratch))
        try:
            rounds = [no_change_round(emulator, index) for _ in range(args.rounds)]
        finally:
            emulator.stop()
    seconds = [r["seconds"] for r in rounds]
    last = rounds[-1]
    median = statistics.median(seconds)
    per_library = median / last["libraries"]
    print(f"no-change run over {last['libraries']:,} libraries in {last['sites']:,} sites:")
    print(f"  runs: {', '.join(f'{s:.1f} s' for s in seconds)} (median {median:.1f} s)")
    print(f"  {per_library * 1000:.1f} ms per library; {last['requests']:,} requests, "
          f"{last['pages']:,} delta pages, {last['changes']} changes")  # fmt: skip
    at_target = per_library * TARGET_LIBRARIES
    verdict = "meets" if at_target < TARGET_SECONDS else "MISSES"
    scaled = "" if last["libraries"] >= TARGET_LIBRARIES else " (scaled from this run)"
    print(f"  {TARGET_LIBRARIES:,} libraries: {at_target:.1f} s{scaled}; {verdict} the "
          f"< {TARGET_SECONDS:.0f} s target")  # fmt: skip


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log
    main()
