"""Chat fan-out: how fast a message reaches 500 people in one busy room, and what 1,000 open
event streams cost the rest of Plaza.

    .venv/bin/python bench/chat_fanout.py [--quick]

Starts the emulator (medium: ~280 enabled members) in this process, syncs its people and one
site's documents into a scratch data dir, then runs Plaza as it runs in production: `plaza
serve` (gunicorn sync workers: pages, API, the POSTs) and `plaza realtime` (gunicorn gevent
workers: the streams) as subprocesses on the same data dir. Everyone joins one open channel.

1. A document page's latency (signed in, session cookie), no streams open. 2. 500 receivers
(SSE streams held by stream_client.py's hand-rolled asyncio HTTP/1.1 client, people
round-robin) while one sender posts at a steady rate: latency from just before each POST to
each receipt, p50/p95/p99, messages and deliveries per second. 3. A burst: four senders flat
out. 4. 1,000 streams held: the document page again, and delivery to all of them.

Prints a Markdown table for bench/README.md ("## Chat fan-out"). Client and servers share the
machine's cores, so the client's own parsing is part of every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stream_client import Receivers, message_body  # noqa: E402
from unbudgeted import CONNECTOR_ENV, IN_PROCESS  # noqa: E402

from connector.emulator import server  # noqa: E402
from sync.db import open_index  # noqa: E402
from sync.engine import Connector, sync_documents, sync_people  # noqa: E402
from sync.targets import DocumentTarget  # noqa: E402

PLAZA = str(ROOT / ".venv" / "bin" / "plaza") if (ROOT / ".venv").exists() else "plaza"
CREDENTIALS_FORM = re.compile(r'<form method="post" action="([^"]+)" class="credentials">')


@dataclass(frozen=True)
class Plan:
    receivers: int = 500
    held: int = 1_000
    rate: float = 10.0  # messages per second in the busy room
    seconds: float = 20.0
    burst_seconds: float = 10.0
    pages: int = 300
    realtime_workers: int = 2


# -- the tenant and the servers -------------------------------------------------------------------


@dataclass
class World:
    handle: server.EmulatorHandle
    data_dir: Path
    members: list[str]  # UPNs of enabled members
    document: tuple[str, str]
    serve_url: str = ""
    realtime_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)


def prepare(scratch: Path) -> World:
    handle = server.start(seed=7, size="medium", state_dir=scratch / "emulator", **IN_PROCESS)
    tenant = handle.tenant
    members = sorted(
        u.user_principal_name
        for u in tenant.users.values()
        if u.account_enabled and u.user_type == "Member" and not u.deleted
    )
    site, document = _smallest_site_with_a_file(tenant, members[0])
    data_dir = scratch / "data"
    index = open_index(data_dir / "index.db")
    env = {k: str(handle.info[v]) for k, v in server.ENV_KEYS.items()}
    connector = Connector.from_env({**env, **CONNECTOR_ENV})
    sync_people(index, connector)
    sync_documents(index, connector, DocumentTarget(site_urls=(handle.base_url + site.path,)))
    index.close()
    return World(handle, data_dir, members, document)


def _smallest_site_with_a_file(tenant, upn: str):
    person = tenant.user(upn)
    best = None
    for site in tenant.sites.values():
        items = [(d.id, i) for d in tenant.drives_of(site.id) for i in tenant.iter_items(d.id)]
        files = [
            (d, i.id)
            for d, i in items
            if not i.folder and not i.deleted and tenant.can_open(person.id, d, i.id)
        ]
        if files and (best is None or len(items) < best[0]):
            best = (len(items), site, files[0])
    assert best is not None, "no site with a file the first member can open"
    return best[1], best[2]


def start_servers(world: World, plan: Plan) -> None:
    serve_port, realtime_port = _free_port(), _free_port()
    world.serve_url = f"http://localhost:{serve_port}"
    world.realtime_url = f"http://localhost:{realtime_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")},
        **{k: str(world.handle.info[v]) for k, v in server.ENV_KEYS.items()},
        "PLAZA_DATA_DIR": str(world.data_dir),
        "PLAZA_PUBLIC_URL": world.serve_url,
        "PLAZA_REALTIME_URL": world.realtime_url,
        "PLAZA_WRITES_PER_MINUTE": "10000",
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    realtime = ["--port", str(realtime_port), "--workers", str(plan.realtime_workers)]
    commands = [[PLAZA, "serve", "--port", str(serve_port)], [PLAZA, "realtime", *realtime]]
    for port, command in zip((serve_port, realtime_port), commands, strict=True):
        world.processes.append(subprocess.Popen(command, env=env, **quiet))
        _wait_for_port(port)  # one after the other: the first migrates the fresh overlay.db


def stop_servers(world: World) -> None:
    for process in world.processes:
        process.send_signal(signal.SIGTERM)
    for process in world.processes:
        process.wait(timeout=60)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


# -- people: tokens, the channel, a signed-in browser ----------------------------------------------


def api(world: World, token: str, path: str, body: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    response = requests.post(world.serve_url + path, json=body, headers=headers, timeout=60)
    response.raise_for_status()
    return response.json()


def join_channel(world: World, tokens: dict[str, str]) -> str:
    """An open channel made by the first person, joined by everyone else."""
    owner, *others = tokens
    name = f"fan-out {uuid.uuid4().hex[:8]}"
    room = api(world, tokens[owner], "/api/v1/rooms", {"kind": "channel", "name": name})["id"]

    def join(upn: str) -> dict:
        me = {"person_id": world.handle.tenant.user(upn).id}
        return api(world, tokens[upn], f"/api/v1/rooms/{room}/members", me)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(join, others))
    return room


def signed_in_browser(world: World, upn: str) -> requests.Session:
    """A session signed in through Plaza's /signin and the emulator's sign-in page."""
    browser = requests.Session()
    browser.trust_env = False
    start = browser.get(world.serve_url + "/signin", allow_redirects=False, timeout=30)
    with world.handle.session() as idp:
        page = idp.get(start.headers["Location"], timeout=30)
        action = html.unescape(CREDENTIALS_FORM.search(page.text).group(1))
        credentials = {"login": upn, "password": world.handle.info["password"]}
        posted = idp.post(world.handle.base_url + action, data=credentials, allow_redirects=False)
    back = urlsplit(posted.headers["Location"])
    done = browser.get(f"{world.serve_url}{back.path}?{back.query}", allow_redirects=False)
    assert done.status_code == 302, done.text
    return browser


def page_latencies(browser: requests.Session, url: str, count: int) -> list[float]:
    taken = []
    for _ in range(count):
        started = time.perf_counter()
        status = browser.get(url, allow_redirects=False, timeout=30).status_code
        taken.append(time.perf_counter() - started)
        assert status == 200, status
    return taken


# -- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """Messages `fan-out N` from N = first on; rate 0 = as fast as the API answers."""

    rate: float
    seconds: float
    first: int
    senders: int = 1


def send(world: World, token: str, room: str, load: Load, sent: dict[int, float]) -> None:
    """Posts the load's messages, recording when each POST began (before it is committed)."""
    stop_at = time.monotonic() + load.seconds
    counter, lock = iter(range(load.first, load.first + 10_000_000)), threading.Lock()

    def one_sender() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        url, next_at = f"{world.serve_url}/api/v1/rooms/{room}/messages", time.monotonic()
        while time.monotonic() < stop_at:
            with lock:
                seq = next(counter)
            sent[seq] = time.monotonic()
            body = {"body": message_body(seq), "client_key": f"bench-{seq}"}
            session.post(url, json=body, timeout=60).raise_for_status()
            if load.rate:
                next_at += 1 / load.rate
                time.sleep(max(0.0, next_at - time.monotonic()))

    with ThreadPoolExecutor(load.senders) as pool:
        list(pool.map(lambda _: one_sender(), range(load.senders)))


async def deliver(world: World, token: str, room: str, receivers: Receivers, load: Load) -> dict:
    sent: dict[int, float] = {}
    started = time.monotonic()
    await asyncio.to_thread(send, world, token, room, load, sent)
    sending, expected = time.monotonic() - started, receivers.opened
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(
        len(receivers.arrivals.get(seq, ())) < expected for seq in sent
    ):
        await asyncio.sleep(0.1)
    latencies = [t - sent[seq] for seq in sent for t in receivers.arrivals.get(seq, ())]
    last = max((max(receivers.arrivals.get(seq, [0])) for seq in sent), default=0)
    return {
        "messages": len(sent),
        "receivers": expected,
        "per_s": len(sent) / sending,
        "latencies": latencies,
        "missing": len(sent) * expected - len(latencies),
        "deliveries_per_s": len(latencies) / max(1e-9, last - started),
    }


# -- the run --------------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return " / ".join(f"{cuts[q - 1] * 1000:.0f}" for q in (50, 95, 99)) + " ms"


async def measure(world: World, plan: Plan, tokens: dict[str, str], room: str) -> list[tuple]:
    rows = []
    browser = signed_in_browser(world, world.members[0])
    page = f"{world.serve_url}/documents/{world.document[0]}/{world.document[1]}"
    page_latencies(browser, page, 10)  # warm every worker
    quiet = await asyncio.to_thread(page_latencies, browser, page, plan.pages)
    rows.append(("document page, no streams open", ms(quiet), "p95 <= 100 ms"))

    people = list(tokens.values())
    sender = people[0]
    receivers = Receivers(world.realtime_url)
    opened_at = time.monotonic()
    await receivers.open([people[n % len(people)] for n in range(1, plan.receivers + 1)])
    rows.append((f"open {plan.receivers} streams", f"{time.monotonic() - opened_at:.1f} s", ""))
    loads = [
        ("busy room", Load(plan.rate, plan.seconds, 0), "p95 <= 1 s"),
        ("burst, 4 senders flat out", Load(0, plan.burst_seconds, 100_000, 4), ""),
    ]
    for what, load, target in loads:
        rows.append(
            _delivery_row(what, await deliver(world, sender, room, receivers, load), target)
        )

    await receivers.open([people[n % len(people)] for n in range(plan.held - plan.receivers)])
    held = await asyncio.to_thread(page_latencies, browser, page, plan.pages)
    rows.append((f"document page, {receivers.opened} streams held", ms(held), "p95 <= 100 ms"))
    everyone = await deliver(
        world, sender, room, receivers, Load(plan.rate, plan.seconds / 2, 10**6)
    )
    rows.append(_delivery_row("busy room", everyone, "p95 <= 1 s"))
    receivers.close()
    return rows


def _delivery_row(what: str, result: dict, target: str) -> tuple:
    label = f"{what}: {result['messages']} messages at {result['per_s']:.1f}/s"
    figures = f"{ms(result['latencies'])}; {result['deliveries_per_s']:,.0f} deliveries/s"
    missing = f"; {result['missing']} missing"
    return (f"{label} to {result['receivers']} receivers", figures + missing, target)


def tokens_of(world: World) -> dict[str, str]:
    """A real bearer token for Plaza's API per person (the emulator's token endpoint)."""
    with ThreadPoolExecutor(8) as pool:
        found = pool.map(lambda upn: world.handle.token("api", user=upn), world.members)
        return dict(zip(world.members, found, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run (under 60 s)")
    parser.add_argument("--realtime-workers", type=int, default=2)
    args = parser.parse_args()
    short = {"seconds": 5.0, "burst_seconds": 4.0, "pages": 100} if args.quick else {}
    plan = Plan(realtime_workers=args.realtime_workers, **short)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    began = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="plaza-fanout-"))
    world = prepare(scratch)
    try:
        start_servers(world, plan)
        tokens = tokens_of(world)
        room = join_channel(world, tokens)
        setup = time.monotonic() - began
        rows = asyncio.run(measure(world, plan, tokens, room))
    finally:
        stop_servers(world)
        world.handle.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    quick = " (--quick)" if args.quick else ""
    print(
        f"\nMeasured {date.today().isoformat()} on {os.cpu_count()} cores, {len(world.members)}"
        f" people, {plan.realtime_workers} gevent workers, setup {setup:.0f} s, total"
        f" {time.monotonic() - began:.0f} s{quick}:\n"
    )
    print("| what | p50 / p95 / p99, throughput | target |\n|---|---|---|")
    for what, figures, target in rows:
        print(f"| {what} | {figures} | {target} |")


if __name__ == "__main__":
    main()
