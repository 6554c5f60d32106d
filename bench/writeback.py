"""Write-back of 10,000 documents' discussion counts: requests per document and time.

Run: .venv/bin/python bench/writeback.py [--quick] [--documents N]

The emulator runs as a subprocess (`plaza emulator serve`, seed 1, enough documents), a first
sync fills an index (bench/sync_initial.py's runner), a documents job gets write-back on, and
overlay.db is given a discussion (comments, a like, a tag) on N documents (default 10,000;
`--quick` 1,000). Then, in this process, through the connector (one Transport, certificate
credential, as the scheduler runs it):

1. the baseline: the same N list items read once each through SharePoint REST
   (`GET items(n)?$select=ID`), the least a per-document write-back could cost;
2. the write-back round (delay 0): columns checked and added per library, then one system
   update (`ValidateUpdateListItem`) per document;
3. a second round with nothing changed: it must send nothing.

Reported: requests per document, seconds and documents/s of the round, its ratio to the
baseline, and the minutes those requests take within the budget Microsoft allows an app on
the smallest tenants (1,200 resource units a minute, SharePoint's app limit for 0-1,000
licences; REST calls cost at least 1 unit: PROTOCOL 3.2) and within PLAZA_MAX_REQUESTS_PER_MINUTE
when set (the connector's own budget, shared by sync and write-back).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sync_initial import run_sync, start_emulator

from connector.auth import TokenProvider
from connector.settings import ConnectorSettings
from connector.sharepoint_fields import SharePointFields
from overlay_app.db import open_social
from overlay_app.writeback.worker import WriteBack
from sync.db import open_index, transaction
from sync.jobs import add_job, documents_job
from sync.schedules import Schedule
from sync.targets import DocumentTarget

APP_LIMIT_PER_MINUTE = 1_200  # SharePoint's app resource units a minute, 0-1,000 licences
NOW = "2026-12-06T12:00:00.000Z"


def discuss(social, documents: list[tuple[str, str]]) -> None:
    """A comment, a like and a tag on each document, written straight into overlay.db."""
    comments = [
        (f"c{n}", d, i, None, "bench-author", "Looks right", "<p>Looks right</p>", NOW)
        for n, (d, i) in enumerate(documents)
    ]
    with transaction(social) as conn:
        conn.executemany(
            "INSERT INTO comments (id, drive_id, item_id, parent_id, author_id, body, body_html,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            comments,
        )
        conn.executemany(
            "INSERT INTO document_likes (drive_id, item_id, person_id, created_at)"
            " VALUES (?, ?, 'bench-reader', ?)",
            [(d, i, NOW) for d, i in documents],
        )
        conn.executemany(
            "INSERT INTO tags (drive_id, item_id, tag, added_by, added_at)"
            " VALUES (?, ?, 'audit', 'bench-author', ?)",
            [(d, i, NOW) for d, i in documents],
        )


def documents_of(index, count: int) -> list[tuple[str, str, str, str, int]]:
    rows = index.execute(
        """SELECT i.drive_id, i.item_id, s.web_url, i.list_id, i.list_item_id FROM items i
           JOIN drives d ON d.id = i.drive_id JOIN sites s ON s.id = d.site_id
           WHERE i.is_folder = 0 AND i.deleted = 0 AND i.list_item_id IS NOT NULL
           ORDER BY i.rowid LIMIT ?""",
        [count],
    ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"the tenant has only {len(rows)} documents")
    return rows


def measure(count: int, scratch: Path) -> dict:
    emulator = start_emulator(int(count * 1.4) + 1_000, scratch)
    try:
        run_sync(emulator, scratch / "index.db")
        index = open_index(scratch / "index.db")
        job = documents_job("docs", DocumentTarget(all_sites=True), Schedule.interval("1h"))
        add_job(index, replace(job, write_back=True))
        rows = documents_of(index, count)
        social = open_social(scratch / "overlay.db")
        discuss(social, [(d, i) for d, i, *_ in rows])
        settings = ConnectorSettings.from_env({**os.environ, **emulator.env})
        fields = SharePointFields(settings, TokenProvider(settings))
        fields.columns(rows[0][2], rows[0][3])  # the token, outside the timings
        began = time.perf_counter()
        for _, _, site_url, list_id, number in rows:
            fields.item_values(site_url, list_id, number, ("ID",))
        baseline = time.perf_counter() - began
        worker = WriteBack(social, index, fields, "https://plaza.example", delay=0)
        sent = fields.transport.stats().requests
        began = time.perf_counter()
        report = worker.run_round()
        seconds = time.perf_counter() - began
        requests = fields.transport.stats().requests - sent
        began = time.perf_counter()
        again = worker.run_round()
        idle_seconds = time.perf_counter() - began
        idle_requests = fields.transport.stats().requests - sent - requests
        libraries = len({(r[2], r[3]) for r in rows})
    finally:
        emulator.process.terminate()
        emulator.process.wait()
    written = sum(r.written for r in report.rounds.values())
    return {
        "documents": count, "libraries": libraries, "written": written,
        "requests": requests, "seconds": seconds, "baseline_seconds": baseline,
        "idle_requests": idle_requests, "idle_seconds": idle_seconds,
        "idle_rounds": len(again.rounds), "budget": settings.max_requests_per_minute,
    }  # fmt: skip


def report(result: dict) -> None:
    count, requests, seconds = result["documents"], result["requests"], result["seconds"]
    print(f"documents {count:,} in {result['libraries']} libraries; written {result['written']:,}")
    print(
        f"write-back round: {requests:,} requests ({requests / count:.3f} per document),"
        f" {seconds:.1f} s, {count / seconds:,.0f} documents/s"
    )
    print(
        f"baseline (one GET per item): {result['baseline_seconds']:.1f} s;"
        f" write-back / baseline = {seconds / result['baseline_seconds']:.2f}"
    )
    print(
        f"second round, nothing changed: {result['idle_requests']} requests,"
        f" {result['idle_seconds'] * 1000:.0f} ms"
    )
    print(
        f"within {APP_LIMIT_PER_MINUTE:,} requests/minute (SharePoint's smallest app limit):"
        f" {requests / APP_LIMIT_PER_MINUTE:.1f} minutes"
    )
    if result["budget"]:
        print(
            f"within PLAZA_MAX_REQUESTS_PER_MINUTE={result['budget']}:"
            f" {requests / result['budget']:.1f} minutes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 documents")
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args()
    count = args.documents or (1_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory(prefix="plaza-writeback-") as scratch:
        report(measure(count, Path(scratch)))


if __name__ == "__main__":
    main()
