"""How the tenant emulator scales: start-up time and a full drive delta's memory and speed.

Run: .venv/bin/python bench/emulator_scale.py [--quick]

Start-up is timed from process spawn until OIDC discovery answers, for the default size and for
a million documents; the ratio between them shows whether start-up grows with size. The delta
pull follows every nextLink of the largest library of the million-document tenant (of every
library without --quick) while sampling the server's resident memory; flat memory means the
peak stays near where it started however many items go by.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from unbudgeted import EMULATOR_ARGS

PLAZA = str(Path(sys.executable).with_name("plaza"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(size: str, state: Path) -> tuple[subprocess.Popen, dict, float]:
    info_file = state / f"info-{size}.json"
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            PLAZA,
            "emulator",
            "serve",
            "--size",
            size,
            "--port",
            "0",
            "--info-file",
            str(info_file),
            "--state-dir",
            str(state),
            *EMULATOR_ARGS,  # bare paging measured, not SharePoint's budget
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not info_file.exists() or not info_file.read_text().strip().endswith("}"):
        if process.poll() is not None:
            raise SystemExit(f"emulator exited with {process.returncode}")
        time.sleep(0.01)
    info = json.loads(info_file.read_text())
    session = client(info)
    discovery = f"{info['authority']}/v2.0/.well-known/openid-configuration"
    while True:
        try:
            if session.get(discovery, timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.01)
    return process, info, time.perf_counter() - began


def client(info: dict) -> requests.Session:
    session = requests.Session()
    session.verify, session.trust_env = info["ca_file"], False
    return session


def app_token(session: requests.Session, info: dict) -> str:
    response = session.post(
        f"{info['authority']}/oauth2/v2.0/token",
        data={
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default",
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def drives(session: requests.Session, info: dict) -> list[dict]:
    found = []
    sites = session.get(f"{info['graph_url']}/sites/getAllSites", timeout=60).json()["value"]
    for site in sites:
        url = f"{info['graph_url']}/sites/{site['id']}/drives"
        found += session.get(url, timeout=60).json()["value"]
    return found


def pull_delta(session: requests.Session, url: str, pid: int) -> tuple[int, float, float, float]:
    """Follows a delta round to its deltaLink: (items, seconds, start RSS MB, peak RSS MB)."""
    items, began, first, peak = 0, time.perf_counter(), rss_mb(pid), rss_mb(pid)
    while url:
        page = session.get(url, timeout=120).json()
        items += len(page["value"])
        url = page.get("@odata.nextLink")
        peak = max(peak, rss_mb(pid))
    return items, time.perf_counter() - began, first, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the largest library")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch)
        small, _, small_start = start("small", state)
        small.terminate()
        large, info, large_start = start("large", state)
        try:
            print(f"start-up, default size (30 people, 400 items): {small_start:.2f} s")
            print(
                f"start-up, 1,000,000 items: {large_start:.2f} s "
                f"(ratio to default {large_start / small_start:.2f})"
            )
            session = client(info)
            session.headers["Authorization"] = f"Bearer {app_token(session, info)}"
            libraries = drives(session, info)
            # The first practice's Documents library is one of the largest (about 52,000 items).
            audit = ("/sites/audit/Shared%20Documents", "/sites/audit/Shared Documents")
            largest = [d for d in libraries if d["webUrl"].endswith(audit)]
            chosen = largest if args.quick else libraries
            total, seconds, first, peak = 0, 0.0, rss_mb(large.pid), rss_mb(large.pid)
            for drive in chosen:
                url = f"{info['graph_url']}/drives/{drive['id']}/root/delta?$top=999"
                n, s, _, p = pull_delta(session, url, large.pid)
                total, seconds, peak = total + n, seconds + s, max(peak, p)
            print(
                f"delta: {total:,} items from {len(chosen)} libraries in {seconds:.1f} s "
                f"({total / seconds:,.0f} items/s)"
            )
            print(
                f"server memory: {first:.0f} MB before, {peak:.0f} MB peak "
                f"(+{peak - first:.0f} MB), {rss_mb(large.pid):.0f} MB after"
            )
        finally:
            large.terminate()
            large.wait(timeout=10)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
