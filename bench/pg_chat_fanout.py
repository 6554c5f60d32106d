"""Chat fan-out across two Plaza nodes on one PostgreSQL, beside one node on SQLite, same run.

    .venv/bin/python bench/pg_chat_fanout.py [--quick] [--receivers N] [--realtime-workers N]

The tenant and first sync are bench/chat_fanout.py's (emulator in this process, medium: ~280
enabled members; their people and one site's documents). Then, one after the other, on the
same machine and tenant, three set-ups, each as real processes (gunicorn):

1. sqlite, one node: `plaza serve` and one `plaza realtime` on one data dir (overlay.db);
2. postgres, one node: the same with PLAZA_DATABASE_URL (a fresh database in a throwaway
   cluster, bench/pg_cluster.py: durability at PostgreSQL's defaults);
3. postgres, two nodes: `plaza serve` and `plaza realtime` on node A, a second `plaza
   realtime` on node B (its own data dir, a copy of the index), both on that database: the
   message reaches node B only through the event log and LISTEN/NOTIFY.

In each, everyone joins a fresh open channel, N receivers' event streams (people round-robin;
set 3 splits them evenly over A and B) are held by stream_client.py's asyncio client, and one
sender posts through node A's `plaza serve` at a steady rate. Latency per delivery: from the
POST's acknowledgement (its answer received) to the arrival on each stream; the figure from
just before the POST (chat_fanout.py's) is shown too. An arrival can come before its
acknowledgement (the stream is faster than the POST's answer): those count as 0 from the ack.
Each realtime node gets --realtime-workers gevent workers (default: 2 for one node, 1 each for
two, so both set-ups have the same number of worker processes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
import pg_cluster
from chat_fanout import PLAZA, World, _free_port, _wait_for_port, prepare, tokens_of
from stream_client import Receivers, message_body

from connector.emulator import server

SECRET_KEY = "bench-secret-" + "k" * 40  # one key for every node
OPEN_TIMEOUT = 180  # seconds for all receivers' streams to answer


@dataclass(frozen=True)
class SetUp:
    label: str
    database_url: str  # "" = SQLite (overlay.db in node A's data dir)
    nodes: int  # realtime nodes
    workers: int  # gevent workers per realtime node


@dataclass
class Running:
    serve_url: str
    realtime_urls: list[str]
    processes: list[subprocess.Popen]


def start(world: World, scratch: Path, setup: SetUp) -> Running:
    ports = [_free_port() for _ in range(1 + setup.nodes)]
    urls = [f"http://localhost:{port}" for port in ports]
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")},
        **{k: str(world.handle.info[v]) for k, v in server.ENV_KEYS.items()},
        "PLAZA_SECRET_KEY": SECRET_KEY,
        "PLAZA_PUBLIC_URL": urls[0],
        "PLAZA_REALTIME_URL": urls[1],
        "PLAZA_WRITES_PER_MINUTE": "10000",
    }
    if setup.database_url:
        base["PLAZA_DATABASE_URL"] = setup.database_url
    realtime = ["realtime", "--workers", str(setup.workers), "--port"]
    commands = [[PLAZA, "serve", "--port", str(ports[0])]]
    commands += [[PLAZA, *realtime, str(port)] for port in ports[1:]]
    running = Running(urls[0], urls[1:], [])
    for n, (port, command) in enumerate(zip(ports, commands, strict=True)):
        data_dir = world.data_dir if n < 2 else node_dir(world, scratch, n)
        env = {**base, "PLAZA_DATA_DIR": str(data_dir)}
        log = (scratch / f"{command[1]}-{n}.log").open("w")
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        running.processes.append(process)
        try:
            _wait_for_port(port)  # one after the other: the first migrates a fresh store
        except RuntimeError as error:
            why = f"{' '.join(command[1:])} did not start:\n{log_tail(log.name)}"
            raise SystemExit(why) from error
    return running


def log_tail(path: str) -> str:
    return "\n".join(Path(path).read_text().splitlines()[-15:])


def worker_timeouts(scratch: Path) -> int:
    """WORKER TIMEOUTs the realtime logs of the set-up just stopped report (then cleared)."""
    count = 0
    for log in scratch.glob("realtime-*.log"):
        count += log.read_text().count("WORKER TIMEOUT")
        log.unlink()
    return count


def node_dir(world: World, scratch: Path, n: int) -> Path:
    """Another node's data dir: its own copy of the index, no overlay.db."""
    data_dir = scratch / f"node-{n}"
    data_dir.mkdir(exist_ok=True)
    shutil.copy(world.data_dir / "index.db", data_dir / "index.db")
    return data_dir


def stop(running: Running) -> None:
    for process in running.processes:
        process.send_signal(signal.SIGTERM)
    for process in running.processes:
        process.wait(timeout=60)


def join_channel(world: World, serve_url: str, tokens: dict[str, str]) -> str:
    owner, *others = tokens
    name = f"fan-out {uuid.uuid4().hex[:8]}"
    room = api_at(serve_url, tokens[owner], "/api/v1/rooms", {"kind": "channel", "name": name})

    def join(upn: str) -> dict:
        me = {"person_id": world.handle.tenant.user(upn).id}
        return api_at(serve_url, tokens[upn], f"/api/v1/rooms/{room['id']}/members", me)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(join, others))
    return room["id"]


def api_at(serve_url: str, token: str, path: str, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    response = requests.post(serve_url + path, json=body, headers=headers, timeout=60)
    response.raise_for_status()
    return response.json()


def send(url: str, token: str, rate: float, seconds: float, times: dict) -> None:
    """One sender at a steady rate: (before POST, acknowledged) per message number."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    next_at, stop_at, seq = time.monotonic(), time.monotonic() + seconds, 0
    while time.monotonic() < stop_at:
        began = time.monotonic()
        body = {"body": message_body(seq), "client_key": f"bench-{uuid.uuid4().hex}"}
        session.post(url, json=body, timeout=60).raise_for_status()
        times[seq] = (began, time.monotonic())
        seq += 1
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))


async def measure(world: World, running: Running, tokens: dict, plan: argparse.Namespace):
    room = join_channel(world, running.serve_url, tokens)
    people = list(tokens.values())
    groups = [Receivers(url) for url in running.realtime_urls]
    opened_at = time.monotonic()
    per_node = [
        [people[1 + (n % (len(people) - 1))] for n in range(i, plan.receivers, len(groups))]
        for i in range(len(groups))
    ]
    try:  # a stream refused or dropped before its answer would keep open() waiting forever
        await asyncio.wait_for(
            asyncio.gather(*(g.open(ts) for g, ts in zip(groups, per_node, strict=True))),
            OPEN_TIMEOUT,
        )
    except TimeoutError:
        print(f"    only {[g.opened for g in groups]} streams opened in {OPEN_TIMEOUT} s")
    opening = time.monotonic() - opened_at
    times: dict[int, tuple[float, float]] = {}
    url = f"{running.serve_url}/api/v1/rooms/{room}/messages"
    done = threading.Event()

    def sending() -> None:
        send(url, people[0], plan.rate, plan.seconds, times)
        done.set()

    await asyncio.to_thread(sending)
    deadline = time.monotonic() + 15
    expected = sum(g.opened for g in groups)
    while time.monotonic() < deadline and any(
        sum(len(g.arrivals.get(seq, ())) for g in groups) < expected for seq in times
    ):
        await asyncio.sleep(0.1)
    for g in groups:
        g.close()
    return {
        "opened": [g.opened for g in groups],
        "opening": opening,
        "messages": len(times),
        "per_node": [latencies(g, times) for g in groups],
    }


def latencies(group: Receivers, times: dict) -> dict[str, list[float]]:
    from_post, from_ack = [], []
    for seq, (began, acked) in times.items():
        for arrived in group.arrivals.get(seq, ()):
            from_post.append(arrived - began)
            from_ack.append(max(0.0, arrived - acked))
    missing = len(times) * group.opened - len(from_post)
    return {"post": from_post, "ack": from_ack, "missing": missing}


def cuts(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    found = statistics.quantiles(values, n=100, method="inclusive")
    return " / ".join(f"{found[q - 1] * 1000:.0f}" for q in (50, 95, 99)) + " ms"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else 0


def report(label: str, result: dict) -> list[str]:
    lines = []
    merged = {k: [v for node in result["per_node"] for v in node[k]] for k in ("post", "ack")}
    missing = sum(node["missing"] for node in result["per_node"])
    receivers = sum(result["opened"])
    head = f"| {label}: {result['messages']} messages to {receivers} receivers"
    lines.append(f"{head} | {cuts(merged['ack'])} | {cuts(merged['post'])} | {missing} |")
    if len(result["per_node"]) > 1:
        for name, node, opened in zip("AB", result["per_node"], result["opened"], strict=False):
            row = f"| ... {opened} streams on node {name} | {cuts(node['ack'])} |"
            lines.append(f"{row} {cuts(node['post'])} | {node['missing']} |")
    return lines


def run(plan: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="plaza-pgfan-"))
    began = time.monotonic()
    world = prepare(scratch)
    lines, summary = [], {}
    try:
        tokens = tokens_of(world)
        with pg_cluster.throwaway_cluster() as cluster:
            print(pg_cluster.describe(cluster), flush=True)
            urls = [cluster.new_database() for _ in range(2)]
            for url in urls:  # where the index lives in PostgreSQL too, the synced one
                pg_cluster.index_into(url, world.data_dir / "index.db")
            setups = [
                SetUp("sqlite, one node", "", 1, plan.realtime_workers or 2),
                SetUp("postgres, one node", urls[0], 1, plan.realtime_workers or 2),
                SetUp("postgres, two nodes", urls[1], 2, plan.realtime_workers or 1),
            ]
            for setup in setups:
                print(f"  {setup.label} ...", flush=True)
                running = start(world, scratch, setup)
                try:
                    result = asyncio.run(measure(world, running, tokens, plan))
                finally:
                    stop(running)
                    timeouts = worker_timeouts(scratch)
                lines += report(setup.label, result)
                if timeouts:
                    killed = f"| ... gunicorn killed {timeouts} blocked realtime workers"
                    lines.append(f"{killed} | | | |")
                merged = [v for node in result["per_node"] for v in node["ack"]]
                summary[setup.label] = (p95(merged), result["opening"])
    finally:
        world.handle.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores,"
        f" {len(world.members)} people, one sender at {plan.rate:g} messages/s for"
        f" {plan.seconds:g} s, {plan.receivers} receivers, total {time.monotonic() - began:.0f} s;"
        f" load average now {os.getloadavg()[0]:.1f}\n"
    )
    print("| set-up | from POST ack p50 / p95 / p99 | from before POST | missing |")
    print("|---|---|---|---|")
    print("\n".join(lines))
    base = summary["sqlite, one node"][0]
    for label, (value, opening) in summary.items():
        ratio = f", {value / base:.2f}x sqlite" if base else ""
        print(
            f"{label}: p95 from ack {value * 1000:.0f} ms{ratio}; streams opened in {opening:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s of messages instead of 20 s")
    parser.add_argument("--receivers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--realtime-workers", type=int, default=0, help="per realtime node")
    plan = parser.parse_args()
    plan.seconds = 5.0 if plan.quick else 20.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # runs the clean-ups
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    run(plan)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
