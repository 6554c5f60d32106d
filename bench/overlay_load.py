"""The web app under load: a document page with 100 comments and comment POSTs, while a sync runs.

Run: .venv/bin/python bench/overlay_load.py [--quick] [--workers N] [--no-readme]

Everything runs on loopback in separate processes, as in production: the tenant emulator
(`plaza emulator serve`), Plaza under gunicorn (`plaza serve`, sync workers), syncs run back to
back (`plaza sync run --all --full`) for the whole measurement, and a bare Flask "hello" app
under the same gunicorn settings as the baseline, measured in the same run.

Load: bench/load_generator.py (open loop; wrk cannot hold a fixed rate). Results go to stdout
and, unless --no-readme, to the "## Overlay load" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import requests

sys.path.insert(0, str(Path(__file__).parent))
from load_generator import GRACE, Stream, measure, one_at_a_time, percentile, plain_session
from tenant_session import GRAPH_SCOPE, emulator_session, sign_in, token
from unbudgeted import CONNECTOR_ENV, EMULATOR_ARGS

BIN = Path(sys.executable).parent
PLAZA, GUNICORN = str(BIN / "plaza"), str(BIN / "gunicorn")
README = Path(__file__).with_name("README.md")
SECTION = "## Overlay load"
PAGE_RATE, POST_RATE = 200, 20  # per second, the figures
TARGETS = {"page": (100, 250), "post": (100, None)}  # p95, p99 in ms
HELLO_APP = "\n".join(  # the baseline: a bare Flask app, made by a factory like Plaza's
    ["from flask import Flask", "", "", "def create_app():", "    app = Flask(__name__)",
     '    app.get("/")(lambda: "Hello, World!")', "    return app", ""]
)  # fmt: skip
LOGS = ("emulator", "plaza", "hello")
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def start_emulator(work: Path, log: IO[str], size: str = "small") -> tuple[subprocess.Popen, dict]:
    info_file = work / "emulator.json"
    process = subprocess.Popen(
        [PLAZA, "emulator", "serve", "--seed", "7", "--port", "0", "--info-file",
         str(info_file), "--env-file", str(work / "emulator.env"), "--state-dir",
         str(work / "emulator"), "--size", size, *EMULATOR_ARGS],
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    while not info_file.exists() or not info_file.read_text().strip().endswith("}"):
        if process.poll() is not None:
            raise SystemExit(f"emulator exited with {process.returncode}")
        time.sleep(0.02)
    return process, json.loads(info_file.read_text())


def plaza_environment(work: Path, port: int, extra: dict | None = None) -> dict[str, str]:
    """PLAZA_* for the web app and the sync CLI: the emulator's, plus the app's own (and
    `extra`, e.g. PLAZA_DATABASE_URL: bench/pg_overlay_load.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    for line in (work / "emulator.env").read_text().splitlines():
        name, _, value = line.partition("=")
        env[name] = value.strip("'")
    env.update(
        PLAZA_DATA_DIR=str(work / "data"),
        PLAZA_SECRET_KEY="bench-secret-" + "k" * 40,
        PLAZA_PUBLIC_URL=f"http://localhost:{port}",
        PLAZA_WRITES_PER_MINUTE="10000",  # one person writes 20/s here
        **CONNECTOR_ENV,  # the back-to-back syncs are load, not paced by the budget
    )
    env.update(extra or {})
    return env


def run_plaza(env: dict[str, str], *args: str) -> float:
    began = time.perf_counter()
    subprocess.run([PLAZA, *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def start_server(command: list[str], env: dict[str, str], url: str, log: IO[str]):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_until_answering(url, process)
    return process


class SyncLoop:
    """Full syncs back to back in a thread, each a `plaza sync run` process, until stopped."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.durations = env, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.durations.append(run_plaza(self.env, "sync", "run", "--all", "--full"))

    def __enter__(self) -> SyncLoop:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def cast(info: dict) -> tuple[str, str, list[tuple[str, str]]]:
    """A writer, a reader (not the writer: their page has no edit forms) and two files both
    can open, by the emulator's own oracle (and Graph, to tell files from folders)."""
    with emulator_session(info) as session:
        oracle = f"{info['authority'].rsplit('/', 1)[0]}/_emulator/oracle/visible-items"

        def visible(upn: str) -> set[tuple[str, str]]:
            items = session.get(oracle, params={"user": upn}, timeout=30).json()["items"]
            return {(item["drive_id"], item["item_id"]) for item in items}

        session.headers["Authorization"] = "Bearer " + token(info, GRAPH_SCOPE)
        writer, mine = info["users"][0], visible(info["users"][0])
        for reader in info["users"][1:6]:
            found = []
            for drive_id, item_id in sorted(mine & visible(reader)):
                url = f"{info['graph_url']}/drives/{drive_id}/items/{item_id}"
                if "file" in session.get(url, timeout=30).json():
                    found.append((drive_id, item_id))
                if len(found) == 2:
                    return writer, reader, found
    raise SystemExit("no two people share two files")


def seed_comments(base_url: str, token: str, document: tuple[str, str], count: int) -> None:
    """`count` comments, some of them replies, in Markdown with links and emphasis."""
    url = f"{base_url}/api/v1/documents/{document[0]}/{document[1]}/comments"
    with requests.Session() as api:
        api.headers["Authorization"] = f"Bearer {token}"
        parent = None
        for n in range(count):
            body = f"Point {n}: the **indemnity** clause in [section {n}](https://example.com/{n})"
            answer = api.post(url, json={"body": body, "parent_id": parent if n % 4 else None})
            answer.raise_for_status()
            parent = answer.json()["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per phase instead of 30 s")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (2-4)")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    options = parser.parse_args()
    seconds = 10 if options.quick else 30
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        rows, notes = run(Path(scratch), seconds, options.workers)
    table = render(rows, notes, seconds, options.workers)
    print(table)
    if not options.no_readme:
        write_section(table)


@dataclass
class Setup:
    """Everything running and ready to be loaded."""

    env: dict[str, str]
    info: dict
    reader: str  # who loads the page (the POSTs are the writer's, by bearer token)
    base: str
    hello_url: str
    token: str
    page_url: str
    post_url: str
    comments: int
    first_sync: float


def prepare(
    work: Path,
    log: dict[str, IO[str]],
    workers: int,
    setup_processes: list,
    extra: dict,
    size: str = "small",
) -> Setup:
    """The emulator, a first sync, Plaza and the hello app under gunicorn, the seeded page."""
    emulator, info = start_emulator(work, log["emulator"], size)
    setup_processes.append(emulator)
    port, hello_port = free_port(), free_port()
    env = plaza_environment(work, port, extra)
    run_plaza(env, "sync", "add", "people", "--people", "--every", "1h")
    run_plaza(env, "sync", "add", "documents", "--all-sites", "--every", "1h")
    first_sync = run_plaza(env, "sync", "run", "--all")
    base = f"http://localhost:{port}"
    serve = [PLAZA, "serve", "--port", str(port), "--workers", str(workers)]
    setup_processes.append(start_server(serve, env, base + "/signout", log["plaza"]))
    (work / "hello.py").write_text(HELLO_APP)
    hello = [GUNICORN, "--workers", str(workers), "--worker-class", "sync", "--bind",
             f"127.0.0.1:{hello_port}", "--chdir", str(work), "hello:create_app()"]  # fmt: skip
    hello_url = f"http://127.0.0.1:{hello_port}/"
    setup_processes.append(start_server(hello, env, hello_url, log["hello"]))
    writer, reader, (page_doc, post_doc) = cast(info)
    api = token(info, f"api://{info['client_id']}/.default", writer)
    seed_comments(base, api, page_doc, 100)
    page_url = f"{base}/documents/{page_doc[0]}/{page_doc[1]}"
    warm = sign_in(base, info, reader).get(page_url, timeout=30)
    if warm.status_code != 200:
        raise SystemExit(f"the document page answered {warm.status_code}")
    post_url = f"{base}/api/v1/documents/{post_doc[0]}/{post_doc[1]}/comments"
    comments = warm.text.count('<li class="comment')
    return Setup(env, info, reader, base, hello_url, api, page_url, post_url, comments, first_sync)


def load(
    setup: Setup, seconds: float, page_rate: float = PAGE_RATE, post_rate: float = POST_RATE
) -> tuple[list[tuple], dict]:
    """The baseline phase, then pages and POSTs together, with full syncs running throughout."""
    signed_in = [sign_in(setup.base, setup.info, setup.reader) for _ in range(16)]

    def bearer() -> requests.Session:
        session = plain_session()
        session.headers["Authorization"] = f"Bearer {setup.token}"
        return session

    hello = Stream("hello", page_rate, 16, plain_session, lambda s, n: s.get(setup.hello_url))
    page = Stream("page", page_rate, 16, signed_in.pop, lambda s, n: s.get(setup.page_url))
    post = Stream(
        "post", post_rate, 4, bearer,
        lambda s, n: s.post(setup.post_url, json={"body": f"Load comment {n}"}),
    )  # fmt: skip
    unloaded = {
        "hello": one_at_a_time(plain_session(), lambda s: s.get(setup.hello_url)),
        "page": one_at_a_time(signed_in[0], lambda s: s.get(setup.page_url)),
        "post": one_at_a_time(
            bearer(), lambda s: s.post(setup.post_url, json={"body": "Unloaded comment"})
        ),
    }
    with SyncLoop(setup.env) as syncs:
        hello_took = measure([hello], seconds)
        plaza_took = measure([page, post], seconds)
    notes = {
        "first_sync": setup.first_sync,
        "syncs": len(syncs.durations),
        "sync_seconds": sum(syncs.durations) / max(1, len(syncs.durations)),
        "load_average": os.getloadavg()[0],
        "unloaded": unloaded,
    }
    return [
        row('bare Flask "hello" GET', hello, hello_took),
        row(f"document page GET ({setup.comments} comments)", page, plaza_took),
        row("comment POST (JSON API)", post, plaza_took),
    ], notes


def run(work: Path, seconds: float, workers: int) -> tuple[list[tuple], dict]:
    def loaded(setup: Setup) -> tuple[list[tuple], dict]:
        load_before = os.getloadavg()[0]
        rows, notes = load(setup, seconds)
        notes["load_before"] = load_before
        return rows, notes

    return run_with(work, workers, loaded)


def run_with(
    work: Path,
    workers: int,
    use: Callable[[Setup], T],
    extra_env: dict | None = None,
    size: str = "small",
) -> T:
    """Prepares everything (see prepare), hands it to `use`, and stops it all afterwards."""
    processes: list[subprocess.Popen] = []
    with ExitStack() as logs:
        log = {name: logs.enter_context((work / f"{name}.log").open("w")) for name in LOGS}
        try:
            return use(prepare(work, log, workers, processes, extra_env or {}, size))
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)


def row(what: str, stream: Stream, took: float) -> tuple:
    values = stream.latencies or [0.0]
    return (what, stream.name, stream.rate, len(stream.latencies) / took,
            percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99),
            stream.failures, stream.dropped)  # fmt: skip


def verdict(name: str, p95: float, p99: float) -> str:
    if name not in TARGETS:
        return "baseline"
    want95, want99 = TARGETS[name]
    met = p95 <= want95 and (want99 is None or p99 <= want99)
    wanted = f"p95 <= {want95} ms" + (f", p99 <= {want99} ms" if want99 else "")
    return f"{wanted}: {'met' if met else 'missed'}"


def summary(notes: dict, seconds: float, workers: int) -> str:
    cores, alone = os.cpu_count() or 1, notes["unloaded"]
    return (
        f"Measured {datetime.date.today()} on this project's {cores}-core machine, {seconds:g} s"
        f" per phase, gunicorn with {workers} sync workers for both apps; {notes['syncs']} full"
        f" syncs ran back to back through both phases (about {notes['sync_seconds']:.1f} s each;"
        f" the first sync took {notes['first_sync']:.1f} s). Latency counts from when each"
        f" request was due; requests still unsent {GRACE:g} s after a phase's end are dropped."
        f" Load average before the run {notes['load_before']:.1f}, after"
        f" {notes['load_average']:.1f}. One request at a time, before the load and the syncs,"
        f" took (median) {alone['hello']:.1f} ms for hello, {alone['page']:.1f} ms for the page"
        f" and {alone['post']:.1f} ms for a POST: {cores} idle cores could answer at most about"
        f" {1000 * cores / alone['page']:.0f} such pages/s with nothing else running, where"
        f" {PAGE_RATE}/s needs a page in {1000 * cores / PAGE_RATE:.0f} ms of CPU or less."
    )


def render(rows: list[tuple], notes: dict, seconds: float, workers: int) -> str:
    lines = [
        textwrap.fill(summary(notes, seconds, workers), width=96),
        "",
        "| what | asked | answered/s | p50 | p95 | p99 | errors | dropped | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for what, name, rate, achieved, p50, p95, p99, failures, dropped in rows:
        lines.append(
            f"| {what} | {rate:g}/s | {achieved:.0f} | {p50:.0f} ms | {p95:.0f} ms |"
            f" {p99:.0f} ms | {failures} | {dropped} | {verdict(name, p95, p99)} |"
        )
    return "\n".join(lines)


def write_section(table: str) -> None:
    """Replaces (or appends) the "## Overlay load" section of bench/README.md, keeping its
    hand-written "### " subsections (history: figures from earlier code) after the table."""
    intro = (
        f"{SECTION}\n\n"
        "`.venv/bin/python bench/overlay_load.py [--quick]` serves Plaza with `plaza serve`"
        " (gunicorn, sync workers) on loopback against the tenant emulator, seeds a document"
        " page with 100 comments, then loads it at 200 requests/s together with 20 comment"
        " POSTs/s (to another document, so the page keeps its 100 comments) while full syncs"
        ' run back to back; a bare Flask "hello" app under the same gunicorn settings is'
        " loaded at 200 requests/s first, in the same run, as the baseline.\n\n"
    )
    intro = "\n".join(textwrap.fill(part, width=96) for part in intro.split("\n"))
    text = README.read_text()
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + intro + table + "\n"
    else:
        end = text.find("\n## ", start + len(SECTION))
        rest = "" if end < 0 else text[end:]
        section = text[start:] if end < 0 else text[start:end]
        notes = section.find("\n### ")
        kept = "" if notes < 0 else section[notes:].rstrip("\n") + "\n"
        text = text[:start] + intro + table + "\n" + kept + rest
    README.write_text(text)


if __name__ == "__main__":
    main()
