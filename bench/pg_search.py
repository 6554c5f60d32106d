"""Trimmed comment and chat search on SQLite and on PostgreSQL, in the same run.

Run: .venv/bin/python bench/pg_search.py [--quick] [--index PATH] [--documents N]
     [--comments N] [--messages N] [--runs N] [--budget S] [--very-common] [--document-search]

What is on PostgreSQL today is the social store, so this times its searches: comments (the
site search, overlay_app.search.views.merge: comment, tag and name arms merged, trimmed to
what the person may open) and chat (overlay_app.chat.reads.search: newest matching messages
in rooms the person may see, document rooms trimmed by the document's access), each first
page of 20, in a request context of a real app (create_app) per backend. The sync index
(names, paths, permissions) is SQLite for both: `--index PATH` (e.g. from
`bench/sync_initial.py --keep DIR`), else the emulator's tenant of --documents documents
(default 20,000) synced into a scratch one.

Both stores get the same rows: --comments comments (default 1,000,000; --quick 50,000) on
the index's files and --messages chat messages (same defaults) in document rooms of up to
ROOMS files; bodies of 12 words drawn (Zipf, seeded) from a made-up vocabulary of 50,000
words. SQLite: overlay.db migrated, rows inserted (its FTS5 triggers index them).
PostgreSQL: a database migrated in a throwaway cluster (bench/pg_cluster.py), rows copied
in with COPY (the GIN indexes take them), then VACUUM ANALYZE. Terms by how many rows hold them:
rare (~0.005%), common (~1%), frequent (~8%), very common (the commonest word). People:
the one who sees most and the one who sees least (bench/search.py's pick). Each query runs
once to warm up, then --runs times, SQLite and PostgreSQL alternately (fewer, at least two,
where the warm-up says that would take more than --budget seconds). The very common term is
searched with --quick or --very-common only: its comment search reads two thirds of all rows
on either backend, minutes a query at a million.

`--document-search`: stops, pointing at bench/pg_sync.py, which times document (name, path)
search on both engines over the index it has just synced.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import pg_cluster
import psycopg
from search import pick_people
from sync_initial import run_sync, start_emulator

from overlay_app import create_app
from overlay_app import db as overlay_db
from overlay_app.chat import reads as chat_reads
from overlay_app.identity import Person
from overlay_app.search.views import Query, merge
from sync.db import connect

VOCABULARY, WORDS_PER_BODY, ROOMS, SEED = 50_000, 12, 5_000, 17
SHARES = {"rare": 0.00005, "common": 0.01, "frequent": 0.08}
SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "po", "de",
    "ba", "gu", "fe", "ri", "mo", "za", "ju", "ti", "le", "no",
)  # fmt: skip
DOCUMENT_SEARCH_MISSING = (
    "--document-search: document search is timed by bench/pg_sync.py on both engines, over the"
    " index it syncs; run that instead"
)


def word(n: int) -> str:
    """The n-th made-up word: four syllables, letters only (one token for both engines)."""
    parts = []
    for _ in range(4):
        n, digit = divmod(n, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts)


@dataclass
class Corpus:
    """Generated rows for both stores and how many rows hold each word."""

    comments: list[tuple]
    rooms: list[tuple]
    messages: list[tuple]
    holding: Counter  # word -> comments + messages holding it
    rows: int


def bodies(rng: random.Random, count: int, holding: Counter) -> list[str]:
    words = [word(n) for n in range(VOCABULARY)]
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]
    drawn = rng.choices(words, weights=weights, k=count * WORDS_PER_BODY)
    found = []
    for n in range(count):
        chosen = drawn[n * WORDS_PER_BODY : (n + 1) * WORDS_PER_BODY]
        holding.update(set(chosen))
        found.append(" ".join(chosen))
    return found


def generate(index: Path, comments: int, messages: int) -> Corpus:
    rng, holding = random.Random(SEED), Counter()
    with sqlite3.connect(index) as conn:
        files = conn.execute(
            "SELECT drive_id, item_id FROM items WHERE deleted = 0 AND is_folder = 0"
            " ORDER BY drive_id, item_id"
        ).fetchall()
        people = [r[0] for r in conn.execute("SELECT id FROM people WHERE enabled = 1")]
    stamp = "2026-11-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z"

    def at(n: int, total: int) -> str:
        s = n * 25 * 86400 // max(1, total)
        return stamp.format(1 + s // 86400, s // 3600 % 24, s // 60 % 60, s % 60, n % 10**6)

    comment_rows = [
        (f"c{n}", *rng.choice(files), rng.choice(people), body, f"<p>{body}</p>", at(n, comments))
        for n, body in enumerate(bodies(rng, comments, holding))
    ]
    room_files = rng.sample(files, min(ROOMS, len(files)))
    rooms = [
        (f"r{n}", "document", d, i, people[0], at(0, 1)) for n, (d, i) in enumerate(room_files)
    ]
    seqs: Counter = Counter()
    message_rows = []
    for n, body in enumerate(bodies(rng, messages, holding)):
        room = rng.randrange(len(rooms))
        seqs[room] += 1
        message_rows.append((f"r{room}", rng.choice(people), body, f"<p>{body}</p>",
                             at(n, messages), f"m{n}", seqs[room]))  # fmt: skip
    return Corpus(comment_rows, rooms, message_rows, holding, comments + messages)


COMMENT_COLUMNS = "id, drive_id, item_id, author_id, body, body_html, created_at"
ROOM_COLUMNS = "id, kind, drive_id, item_id, created_by, created_at"
MESSAGE_COLUMNS = "room_id, author_id, body, body_html, created_at, public_id, seq"


def fill_sqlite(path: Path, corpus: Corpus) -> float:
    began = time.perf_counter()
    store = overlay_db.open_social(path)  # migrated, synchronous=FULL
    store.conn.execute("BEGIN")  # one transaction (the connection is in autocommit mode)
    for table, columns, rows in tables(corpus):
        marks = ", ".join("?" * len(columns.split(",")))
        store.conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    store.conn.execute("COMMIT")
    store.conn.execute("ANALYZE")
    store.close()
    return time.perf_counter() - began


def fill_postgres(url: str, corpus: Corpus) -> float:
    began = time.perf_counter()
    with psycopg.connect(url) as conn:
        for table, columns, rows in tables(corpus):
            with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        # What autovacuum does to a settled table: statistics, and the visibility map that
        # lets index-only scans (counts per room) skip the heap; fresh COPYs have neither.
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - began


def tables(corpus: Corpus) -> list[tuple[str, str, list[tuple]]]:
    return [
        ("comments", COMMENT_COLUMNS, corpus.comments),
        ("rooms", ROOM_COLUMNS, corpus.rooms),
        ("messages", MESSAGE_COLUMNS, corpus.messages),
    ]


def pick_words(corpus: Corpus) -> list[tuple[str, str, int]]:
    """(kind, word, rows holding it) per share, and the commonest word."""
    picked = []
    for kind, share in SHARES.items():
        wanted = max(3, round(corpus.rows * share))
        text, held = min(corpus.holding.items(), key=lambda kv: (abs(kv[1] - wanted), kv[0]))
        picked.append((kind, text, held))
    text, held = corpus.holding.most_common(1)[0]
    return [*picked, ("very common", text, held)]


def person_of(index: Path, person_id: str) -> Person:
    with sqlite3.connect(index) as conn:
        upn, name, guest = conn.execute(
            "SELECT upn, display_name, guest FROM people WHERE id = ?", [person_id]
        ).fetchone()
    return Person(person_id, name or upn, upn, bool(guest), frozenset())


def app_for(data_dir: Path, index: Path, database_url: str = ""):
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "index.db").exists():
        (data_dir / "index.db").symlink_to(index.resolve())
    settings = {"data_dir": str(data_dir), "secret_key": "bench-" + "k" * 40}
    if database_url:
        settings["database_url"] = database_url
    return create_app({**settings, "extra": {"testing": False}})


def searches(person: Person, text: str) -> dict:
    return {
        "comments (site search)": lambda: merge(person, Query(text=text)),
        "chat": lambda: chat_reads.search(person, text, None, 20),
    }


def timed(
    apps: dict, person: Person, text: str, runs: int, budget: float
) -> dict[str, dict[str, list]]:
    """{search: {backend: latencies in ms}}, the backends alternating run by run; fewer runs
    (at least 2) where the warm-up says `runs` would take more than `budget` seconds."""
    found: dict[str, dict[str, list]] = {}
    for what in searches(person, text):
        found[what] = {backend: [] for backend in apps}
        attempts = runs + 1
        for attempt in range(runs + 1):
            if attempt >= attempts:
                break
            for backend, app in apps.items():
                with app.test_request_context():
                    began = time.perf_counter()
                    searches(person, text)[what]()
                    took = (time.perf_counter() - began) * 1000
                if attempt:  # the first is the warm-up
                    found[what][backend].append(took)
                else:
                    attempts = min(attempts, max(3, 1 + int(budget * 1000 / took / len(apps))))
    return found


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def build_index(documents: int, scratch: Path) -> Path:
    emulator = start_emulator(documents, scratch)
    index = scratch / "index.db"
    try:
        print(f"syncing {documents:,} documents ...", flush=True)
        run_sync(emulator, index)
    finally:
        emulator.stop()
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 comments and messages")
    parser.add_argument("--index", type=Path, help="a synced index to search (read-only)")
    parser.add_argument("--documents", type=int, default=20_000, help="tenant size to sync")
    parser.add_argument("--comments", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--budget", type=float, default=60, help="seconds per search and term")
    parser.add_argument("--very-common", action="store_true", help="default with --quick")
    parser.add_argument("--document-search", action="store_true")
    args = parser.parse_args()
    if args.document_search:
        raise SystemExit(DOCUMENT_SEARCH_MISSING)
    default = 50_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="plaza-pgsearch-") as scratch_name:
        scratch = Path(scratch_name)
        index = args.index or build_index(args.documents, scratch)
        run(args, scratch, index, args.comments or default, args.messages or default)


def run(args, scratch: Path, index: Path, comments: int, messages: int) -> None:
    corpus = generate(index, comments, messages)
    print(f"{comments:,} comments, {messages:,} messages, {len(corpus.rooms):,} rooms", flush=True)
    sqlite_took = fill_sqlite(scratch / "sqlite" / "overlay.db", corpus)
    print(f"SQLite filled in {sqlite_took:.0f} s", flush=True)
    with pg_cluster.throwaway_cluster() as cluster:
        print(pg_cluster.describe(cluster), flush=True)
        url = cluster.new_database()
        if pg_cluster.index_into(url, index):
            print("the index copied into PostgreSQL too", flush=True)
        print(f"PostgreSQL filled in {fill_postgres(url, corpus):.0f} s", flush=True)
        words, corpus = pick_words(corpus), None  # the rows are in both stores now
        if not (args.quick or args.very_common):
            words = [w for w in words if w[0] != "very common"]
        apps = {
            "sqlite": app_for(scratch / "sqlite", index),
            "postgres": app_for(scratch / "pg", index, url),
        }
        index_db = connect(index, readonly=True)
        people = pick_people(index_db)
        index_db.close()
        print(f"\n{args.runs} runs each (fewer past {args.budget:g} s), first page of 20; ms\n")
        print("| search | term (rows holding it) | person (documents seen) |"
              " SQLite p50 / p95 | PostgreSQL p50 / p95 | PG / SQLite p50, p95 |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for kind, text, held in words:
            for label, person_id, seen in people:
                person = person_of(index, person_id)
                for what, took in timed(apps, person, text, args.runs, args.budget).items():
                    s, p = took["sqlite"], took["postgres"]
                    sm, pm, s95, p95_ = statistics.median(s), statistics.median(p), p95(s), p95(p)
                    print(f"| {what} | {kind} `{text}` ({held:,}) | {label} ({seen:,}) |"
                          f" {sm:.1f} / {s95:.1f} | {pm:.1f} / {p95_:.1f} |"
                          f" {pm / sm:.2f}x, {p95_ / s95:.2f}x |")  # fmt: skip
        for app in apps.values():
            overlay_db.close(app)
    shutil.rmtree(scratch / "sqlite", ignore_errors=True)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
