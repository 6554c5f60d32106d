"""Tag suggestions over many tagged documents: what a document's tags cost, person by person.

Run: .venv/bin/python bench/tag_suggestions.py [--quick] [--runs N]

Builds a tenant in this process (the emulator, seed 1: 60,000 documents; 15,000 with
`--quick`), syncs it into a scratch index, then tags 50,000 of its files (10,000) in overlay.db
with 300 tags drawn by a Zipf-like law (the n-th tag about 1/n as often as the first), one to
three tags a file. People: among a dozen members spread over the directory and every guest,
the one who sees the most tagged files, the median one and the one who sees the fewest (but
some). For each, on a tagged file they may see, GET /api/v1/documents/{drive_id}/{item_id}/tags
through the Flask test client with a bearer token (access check, the tags, their authors'
names, the suggestions), timed over N runs after one warm-up (median and p95):

- with the ranking kept (tags/suggestions.py), as on every page while neither the
  index nor the tags change;
- with the ranking counted afresh (the kept rankings dropped before each call): the baseline,
  in the same run. Every call cost this before rankings were kept, and the first call of each
  principal set still does after a sync commits or a tag is added or removed.

Both answers must equal an independent count (every tagged file checked with
`access.filter_visible`, the visible ones' tags counted), or the run stops. Prints a Markdown
table for bench/README.md ("## Tag suggestions").
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from bench.synced_app import build  # noqa: E402
from overlay_app import access, db  # noqa: E402
from overlay_app.identity import MEMBER, Person  # noqa: E402
from overlay_app.tags import reads as tags  # noqa: E402
from overlay_app.tags import suggestions as tag_suggestions  # noqa: E402

SEED = 1
FULL, QUICK = (60_000, 50_000), (15_000, 10_000)  # (documents in the tenant, files tagged)
TAG_NAMES = [f"topic-{n:03d}" for n in range(1, 301)]
SAMPLED_MEMBERS = 12


def seed_tags(app: Flask, tagged: int) -> list[tuple[str, str]]:
    """Tags `tagged` files chosen at random (seeded); the keys tagged."""
    weights = [1 / rank for rank in range(1, len(TAG_NAMES) + 1)]
    chance = random.Random(SEED)
    with app.app_context():
        files = db.index().execute(
            "SELECT drive_id, item_id FROM items WHERE is_folder = 0 AND deleted = 0 "
            "ORDER BY drive_id, item_id"
        )
        keys = chance.sample(list(files), tagged)
        rows = []
        for drive_id, item_id in keys:
            names = set(chance.choices(TAG_NAMES, weights, k=chance.randint(1, 3)))
            rows += [(drive_id, item_id, name, "bench", "2026-11-23T00:00:00Z") for name in names]
        with db.transaction() as conn:
            conn.executemany("INSERT INTO tags VALUES (?, ?, ?, ?, ?)", rows)
    print(f"tagged {tagged:,} files: {len(rows):,} tags, {len(TAG_NAMES)} distinct")
    return sorted(keys)


def pick_people(app: Flask, tagged: list[tuple[str, str]]) -> list[tuple[str, Person, list]]:
    """(label, person, the tagged files they may see) for the one who sees most, the median
    one and the one who sees fewest (but some)."""
    with app.app_context():
        rows = db.index().execute(
            "SELECT id, display_name, upn, guest FROM people "
            "WHERE enabled = 1 AND deleted = 0 ORDER BY guest, id"
        )
        everyone = [Person(i, name or "", upn or "", bool(guest), frozenset({MEMBER})) for
                    i, name, upn, guest in rows]  # fmt: skip
    members = [person for person in everyone if not person.guest]
    sampled = members[:: max(1, len(members) // SAMPLED_MEMBERS)][:SAMPLED_MEMBERS]
    seen = []
    for person in sampled + [person for person in everyone if person.guest]:
        with app.test_request_context("/"):
            visible = sorted(access.filter_visible(person, tagged))
        if visible:
            seen.append((len(visible), person.id, person, visible))
    seen.sort()
    chosen = {"sees most": seen[-1], "median": seen[len(seen) // 2], "sees fewest": seen[0]}
    return [(label, person, visible) for label, (_, _, person, visible) in chosen.items()]


def every_tagged_document_way(person: Person, exclude: list[str]) -> list[str]:
    """The check: every tagged document's visibility, then the visible ones' tags counted."""
    rows = db.social().execute("SELECT drive_id, item_id, tag FROM tags").fetchall()
    visible = access.filter_visible(person, ((d, i) for d, i, _ in rows))
    counted = Counter(tag for d, i, tag in rows if (d, i) in visible and tag not in exclude)
    ranked = sorted(counted.items(), key=lambda entry: (-entry[1], entry[0]))
    return [tag for tag, _ in ranked[: tag_suggestions.SUGGESTIONS]]


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Milliseconds of each of `runs` calls after a warm-up, and the warm-up's answer."""
    answer = call()
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return spent, answer


def figures(spent: list[float]) -> str:
    ordered = sorted(spent)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(spent):.1f} / {p95:.1f}"


def measure(handle, app: Flask, label: str, person: Person, visible: list, runs: int) -> str:
    """One table row: the API call with the ranking kept, and counted afresh (what every call
    cost before rankings were kept, and what the first one costs after a sync or a tag write);
    both answers checked against an independent count."""
    document = visible[0]
    with app.app_context():
        exclude = tags.tags_of(*document)
    token = handle.token("api", user=person.upn)
    client = app.test_client()
    url = "/api/v1/documents/{}/{}/tags".format(*document)

    def kept() -> list[str]:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["suggestions"]

    def counted() -> list[str]:
        app.extensions.pop(tag_suggestions.RANKINGS, None)
        return kept()

    counted_spent, counted_answer = timed(counted, runs)
    kept_spent, kept_answer = timed(kept, runs)
    with app.test_request_context("/"):
        expected = every_tagged_document_way(person, exclude)
    if not counted_answer == kept_answer == expected:
        raise SystemExit(f"answers differ for {label}: {counted_answer} {kept_answer} {expected}")
    return (
        f"| {label} | {len(visible):,} | {figures(kept_spent)} | {figures(counted_spent)} | "
        f"{', '.join(expected[:3])}, ... |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15,000 documents, 10,000 tagged")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (default 20)")
    args = parser.parse_args()
    documents, tagged = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        handle, app = build(documents, Path(scratch))
        try:
            keys = seed_tags(app, tagged)
            people = pick_people(app, keys)
            print(f"\n{args.runs} runs each, ms median / p95\n")
            print("| person | tagged files they see | GET tags, ranking kept | "
                  "GET tags, ranking counted | top suggestions |")  # fmt: skip
            print("|---|---|---|---|---|")
            for label, person, visible in people:
                print(measure(handle, app, label, person, visible, args.runs))
        finally:
            handle.stop()
    print(json.dumps({"documents": documents, "tagged": tagged, "runs": args.runs}))


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log
    main()
