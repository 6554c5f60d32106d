"""Initial sync, end to end, beside the bare paging rate of the same emulator in the same run.

Run: .venv/bin/python bench/sync_initial.py [--quick] [--sizes 100000,1000000] [--keep DIR]

For each tenant size the emulator runs as a subprocess (`plaza emulator serve`), then:
1. the baseline: one requests.Session pages through every library's full delta round
   (the connector's $select and Prefer headers, Graph's default page size), parsing each page
   with json and nothing more: the least any client can do;
2. the sync: a fresh subprocess runs sync_people then sync_documents over all sites (people,
   groups, memberships, sites, libraries, items, permissions of every root of the permission
   hierarchy, site groups through SharePoint REST, ACLs, paths, FTS) into a new index, and
   reports its own peak resident memory (ru_maxrss).
items/s end to end = library items indexed / wall seconds of the whole sync (people included).
Targets (issue 4): end to end >= 50% of the bare rate; peak RSS < 300 MB at 1,000,000 items.
`--keep DIR` leaves each index in DIR (index-{size}.db), with the emulator's certificates
(DIR/state) and port (DIR/emulator-{size}.json), for bench/search.py and
bench/sync_incremental.py (its --reuse); nothing else is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from unbudgeted import CONNECTOR_ENV, EMULATOR_ARGS

from connector.graph import DELTA_PREFER, ITEM_SELECT

PLAZA = str(Path(sys.executable).with_name("plaza"))
SEED = 1
QUICK_SIZES, FULL_SIZES = (20_000,), (100_000, 1_000_000)
WORKERS = 4  # sync_documents' default
TARGET_RATIO, TARGET_RSS_MB = 0.50, 300

SYNC_RUNNER = """
import json, resource, sys, time
from sync.db import open_index
from sync.engine import Connector, sync_documents, sync_people
from sync.targets import DocumentTarget
db = open_index(sys.argv[1])
connector = Connector.from_env()
began = time.perf_counter()
people = sync_people(db, connector)
people_seconds = time.perf_counter() - began
documents = sync_documents(db, connector, DocumentTarget(all_sites=True),
                           workers=int(sys.argv[2]))
seconds = time.perf_counter() - began
items, unique = db.execute(
    "SELECT count(*), sum(has_unique_perms) FROM items WHERE deleted = 0").fetchone()
print(json.dumps({
    "seconds": seconds, "people_seconds": people_seconds, "items": items, "unique": unique,
    "acl_rows": db.execute("SELECT count(*) FROM acl").fetchone()[0],
    "pages": documents.pages, "throttled_waits": documents.throttled_waits,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "paced_seconds": getattr(connector.http.budget(), "paced_seconds", 0.0),
}))
"""


@dataclass
class Emulator:
    process: subprocess.Popen
    info: dict  # as written with --info-file
    env: dict[str, str]  # the PLAZA_* settings written with --env-file

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_emulator(size: int, state: Path, seed: int = SEED, port: int = 0) -> Emulator:
    """`plaza emulator serve` (on a free port unless told), its resource-unit budget off and the
    connector's pacing with it (throughput, not the budget, is measured); returns once OIDC
    discovery answers."""
    info_file, env_file = state / f"info-{size}.json", state / f"env-{size}"
    for stale in (info_file, env_file):
        stale.unlink(missing_ok=True)
    process = subprocess.Popen(
        [PLAZA, "emulator", "serve", "--size", str(size), "--seed", str(seed), "--port", str(port),
         "--info-file", str(info_file), "--env-file", str(env_file), "--state-dir", str(state),
         *EMULATOR_ARGS],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while not (info_file.exists() and env_file.exists()):
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited with status {process.returncode}")
        time.sleep(0.02)
    info = json.loads(info_file.read_text())
    discovery = f"{info['authority']}/v2.0/.well-known/openid-configuration"
    with trusting_session(info["ca_file"]) as session:
        while not answers(session, discovery):
            time.sleep(0.05)
    lines = [line for line in env_file.read_text().splitlines() if line.strip()]
    env = dict(shlex.split(line)[0].split("=", 1) for line in lines)
    return Emulator(process, info, {**env, **CONNECTOR_ENV})


def answers(session: requests.Session, url: str) -> bool:
    try:
        return session.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def trusting_session(ca_file: str) -> requests.Session:
    """Trusts the emulator's CA even when REQUESTS_CA_BUNDLE is set (PROTOCOL.md, TLS trust)."""
    session = requests.Session()
    session.verify, session.trust_env = ca_file, False
    return session


def app_session(info: dict) -> requests.Session:
    """A session with an app-only Graph token (client secret), as a bare script would do."""
    session = trusting_session(info["ca_file"])
    form = {"client_id": info["client_id"], "client_secret": info["client_secret"],
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default"}  # fmt: skip
    token = session.post(info["token_endpoint"], data=form, timeout=60).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def library_ids(session: requests.Session, graph_url: str) -> list[str]:
    """Every document library of every site (system libraries are not listed by default)."""
    drives = []
    url: str | None = f"{graph_url}/sites/getAllSites"
    sites = []
    while url:
        page = session.get(url, timeout=60).json()
        sites += page["value"]
        url = page.get("@odata.nextLink")
    for site in sites:
        answer = session.get(f"{graph_url}/sites/{site['id']}/drives", timeout=60).json()
        drives += [drive["id"] for drive in answer["value"]]
    return drives


def bare_paging(info: dict) -> tuple[int, float]:
    """(items, seconds): every library's full delta round, requests + json, one thread."""
    session = app_session(info)
    session.headers["Prefer"] = DELTA_PREFER
    drives = library_ids(session, info["graph_url"])
    items, began = 0, time.perf_counter()
    for drive_id in drives:
        url: str | None = f"{info['graph_url']}/drives/{drive_id}/root/delta"
        params: dict | None = {"$select": ITEM_SELECT}
        while url:
            page = session.get(url, params=params, timeout=120).json()
            params = None
            items += len(page["value"])
            url = page.get("@odata.nextLink")
    return items, time.perf_counter() - began


def run_sync(emulator: Emulator, index: Path, workers: int = WORKERS) -> dict:
    """The initial sync in a fresh process; its JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env.update(emulator.env)
    out = subprocess.run(
        [sys.executable, "-c", SYNC_RUNNER, str(index), str(workers)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"the sync failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(size: int, scratch: Path, keep: Path | None) -> dict:
    state = keep / "state" if keep else scratch
    state.mkdir(parents=True, exist_ok=True)
    emulator = start_emulator(size, state)
    try:
        items, seconds = bare_paging(emulator.info)
        index = (keep or scratch) / f"index-{size}.db"
        for stale in index.parent.glob(index.name + "*"):
            stale.unlink()
        synced = run_sync(emulator, index)
        if keep:
            remember_emulator(keep, size, emulator)
    finally:
        emulator.stop()
    bare_rate = items / seconds
    rate = synced["items"] / synced["seconds"]
    return {"size": size, "bare_items": items, "bare_seconds": seconds, "bare_rate": bare_rate,
            "rate": rate, "ratio": rate / bare_rate, **synced}  # fmt: skip


def remember_emulator(keep: Path, size: int, emulator: Emulator) -> None:
    """What a later benchmark needs to serve the same tenant where the kept index's delta
    links point (they are absolute URLs): its seed, size, port and state directory."""
    port = urlsplit(emulator.info["graph_url"]).port
    facts = {"seed": SEED, "size": size, "port": port, "state": str(keep / "state")}
    (keep / f"emulator-{size}.json").write_text(json.dumps(facts) + "\n")


def report(result: dict) -> None:
    r = result
    ok_ratio = "meets" if r["ratio"] >= TARGET_RATIO else "MISSES"
    print(f"\n{r['size']:,} documents (seed {SEED}):")
    print(
        f"  bare requests + json paging: {r['bare_items']:,} items in {r['bare_seconds']:.1f} s"
        f" = {r['bare_rate']:,.0f} items/s"
    )
    print(
        f"  initial sync end to end:     {r['items']:,} items in {r['seconds']:.1f} s"
        f" = {r['rate']:,.0f} items/s ({r['ratio']:.0%} of bare; {ok_ratio} the 50% target)"
    )
    print(
        f"    people and groups {r['people_seconds']:.1f} s; {r['pages']:,} delta pages; "
        f"{r['unique']:,} items with unique permissions; {r['acl_rows']:,} ACL rows"
    )
    print(f"    budget off: the connector paced {r['paced_seconds']:.0f} s")
    ok_rss = "meets" if r["peak_rss_mb"] < TARGET_RSS_MB else "MISSES"
    print(f"  peak RSS of the sync process: {r['peak_rss_mb']:.0f} MB "
          f"({ok_rss} the < {TARGET_RSS_MB} MB target at 1M)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tenant of 20,000 documents")
    parser.add_argument("--sizes", help="comma-separated document counts (overrides --quick)")
    parser.add_argument("--keep", type=Path, help="keep the indexes in this directory")
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.sizes:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        for size in sizes:
            report(measure(size, Path(scratch), args.keep))


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log
    main()
