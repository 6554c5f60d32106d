"""The web app's capacity under wrk: how many document pages per second Plaza serves flat out,
beside a bare Flask "hello" under the same gunicorn, while syncs run back to back.

Run: .venv/bin/python bench/overlay_wrk.py [--quick]   (needs `wrk`: apt-get install wrk)

The same set-up as bench/overlay_load.py (emulator, first sync, `plaza serve`, the hello app, a
page with 100 comments). wrk is closed loop: it sends as fast as answers come back, so it
measures capacity and latency at saturation, where overlay_load.py holds the issue's fixed
rates (200 pages/s, 20 POSTs/s) and measures latency there. Results go to stdout only.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from overlay_load import Setup, SyncLoop, run_with
from tenant_session import sign_in

THREADS, CONNECTIONS = 2, 8
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
PERCENTILE = re.compile(r"^\s+(50|90|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
NOT_OK = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def wrk(url: str, seconds: int, cookie: str | None = None) -> dict[str, float]:
    """Requests/s, p50/p90/p99 latency in ms and non-2xx answers of one wrk run."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = {f"p{p}": float(v) * UNITS[u] for p, v, u in PERCENTILE.findall(output)}
    rate = RATE.search(output)
    errors = NOT_OK.search(output)
    if rate is None or len(found) != 3:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    return {"rate": float(rate.group(1)), **found, "errors": int(errors.group(1)) if errors else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per phase instead of 30 s")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk, then run this again")
    seconds = 10 if options.quick else 30
    with tempfile.TemporaryDirectory(prefix="plaza-wrk-") as scratch:
        hello, page = run(Path(scratch), seconds, options.workers)
    print(f"wrk -t{THREADS} -c{CONNECTIONS}, {seconds} s each, syncs running, "
          f"{options.workers} gunicorn sync workers\n")  # fmt: skip
    print("| what | requests/s | p50 | p90 | p99 | non-2xx |\n|---|---|---|---|---|---|")
    for what, got in (('bare Flask "hello" GET', hello), ("document page GET", page)):
        print(f"| {what} | {got['rate']:,.0f} | {got['p50']:.1f} ms | {got['p90']:.1f} ms "
              f"| {got['p99']:.1f} ms | {got['errors']} |")  # fmt: skip
    print(f"\npage capacity = {page['rate'] / hello['rate']:.0%} of hello's")


def run(work: Path, seconds: int, workers: int) -> tuple[dict, dict]:
    def flat_out(setup: Setup) -> tuple[dict, dict]:
        reader = sign_in(setup.base, setup.info, setup.reader)
        cookie = "; ".join(f"{c.name}={c.value}" for c in reader.cookies)
        check = requests.get(setup.page_url, headers={"Cookie": cookie}, allow_redirects=False)
        if check.status_code != 200:  # wrk counts a redirect to sign-in as a success
            raise SystemExit(f"the page answered {check.status_code} to wrk's cookie")
        with SyncLoop(setup.env):
            return wrk(setup.hello_url, seconds), wrk(setup.page_url, seconds, cookie)

    return run_with(work, workers, flat_out)


if __name__ == "__main__":
    main()
