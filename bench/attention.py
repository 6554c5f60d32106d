"""Attention without overload: a simulated firm day, and the feed at scale (issue 15).

Run: .venv/bin/python bench/attention.py --index PATH [--comments N] [--seed N]
(PATH: an index a sync left, e.g. the million-document tenant's; see bench/README.md.)

1. The day. The index's active members; 40% of them act today, each with a heavy-tailed
   (Pareto) share of the day's comments; each comment goes on a document the actor can open
   (popular documents more often), 60% of them reply to an earlier comment there, 15% mention
   a colleague who can open it, and half are followed by a like. Everyone follows a few
   documents, folders, tags and people. The same day is played twice through the real write
   path (discussion.actions.do_add_comment / do_set_comment_like, so notifications, levels and
   the mail queue are Plaza's own) on a fresh social store each time:
   - default levels and channels;
   - "notify on everything": watching everything one follows or took part in, every kind of
     event by every channel.
   Then the mail sender runs through a real SMTP server (aiosmtpd on loopback): 40% of the
   mentions are read before their 2 minutes; then a day later, the daily digests.
   Per active person: in-Plaza notifications, immediate mails (mentions), digests, and
   interruptions = notifications + immediate mails (median, p95, max); and whether every
   mention and every reply reached its person (in Plaza).
2. The feed. On the default run's store: 100,000 follows in all (documents, folders, sites,
   tags, people) and 200,000 past conversations (written through feed.activity.record, so each
   goes into the inboxes it concerns); the first three pages of the feed for a sample of
   people, timed, beside the notifications list (the baseline, same people, same run).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils
from aiosmtpd.controller import Controller
from flask import Flask

from overlay_app import access, create_app, db
from overlay_app.discussion import actions as discussion_actions
from overlay_app.discussion.rendering import Mentioned
from overlay_app.feed import activity as feed_activity
from overlay_app.feed import reads as feed_reads
from overlay_app.feed import store as feed_store
from overlay_app.follow import levels
from overlay_app.follow import store as follow_store
from overlay_app.identity import Person
from overlay_app.mail import sender
from overlay_app.notifications import reads as notification_reads
from sync import visibility
from sync.trimming import principal_set

ACTIVE_SHARE, REPLY_SHARE, MENTION_SHARE, LIKE_SHARE, READ_IN_TIME = 0.4, 0.6, 0.15, 0.5, 0.4
SAMPLE_DOCS, TAGS, CANDIDATE_FILES = 60, 40, 900
FOLLOWS_TOTAL, PAST_CONVERSATIONS, FEED_PEOPLE = 100_000, 200_000, 60


class CountingMailbox:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):
        for to in envelope.rcpt_tos:
            self.received[to] += 1
        return "250 OK"


def start_smtp() -> tuple[Controller, CountingMailbox, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = CountingMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, box, port


# -- the plan: the same day for both runs --------------------------------------------------------


def plan_day(index: Path, comments: int, seed: int, firm: int = 0) -> dict:
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    query = "SELECT id FROM people WHERE enabled = 1 AND deleted = 0 AND guest = 0 ORDER BY id"
    people = [row[0] for row in conn.execute(query)]
    conn.close()
    rng.shuffle(people)
    people = people[:firm] if firm else people  # a sample of the firm, when it is large
    actors = people[: max(2, int(len(people) * ACTIVE_SHARE))]
    weights = [rng.paretovariate(1.2) for _ in actors]
    index_db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    samples, viewers = {}, defaultdict(set)
    began = time.perf_counter()
    candidates = _random_files(index_db, rng, CANDIDATE_FILES)
    handle = sqlite_utils.Database(index_db)
    for person in people:
        seen = sorted(visibility.visible_among(handle, principal_set(handle, person), candidates))
        samples[person] = rng.sample(seen, min(SAMPLE_DOCS, len(seen)))
        for key in samples[person]:
            viewers[key].add(person)
    print(f"  visible samples of {len(people):,} people in {time.perf_counter() - began:.0f} s")
    events = []
    for _ in range(comments):
        actor = rng.choices(actors, weights)[0]
        if not samples[actor]:
            continue
        popular = sorted(samples[actor], key=lambda k: -len(viewers[k]))[:20]
        key = rng.choice(popular)
        others = sorted(viewers[key] - {actor})
        mention = rng.choice(others) if others and rng.random() < MENTION_SHARE else None
        liker = rng.choice(others) if others and rng.random() < LIKE_SHARE else None
        events.append((actor, key, rng.random() < REPLY_SHARE, mention, liker, rng.random()))
    follows = _plan_follows(rng, people, samples, index_db)
    index_db.close()
    return {"people": people, "events": events, "follows": follows, "samples": samples,
            "index": str(index)}  # fmt: skip


def _random_files(conn: sqlite3.Connection, rng: random.Random, count: int) -> list:
    """About `count` live files of the index, picked at random by rowid."""
    top = conn.execute("SELECT max(rowid) FROM items").fetchone()[0]
    rowids = rng.sample(range(1, top + 1), min(top, 4 * count))
    rows = conn.execute(
        "SELECT drive_id, item_id FROM items WHERE rowid IN (SELECT value FROM json_each(?))"
        " AND is_folder = 0 AND deleted = 0 LIMIT ?",
        [json.dumps(rowids), count],
    )
    return [tuple(row) for row in rows]


def _plan_follows(rng, people, samples, index_db) -> list[tuple[str, str, str]]:
    """A few follows each: documents and the folder above one, tags, colleagues."""
    found = []
    for person in people:
        sample = samples[person]
        for key in sample[:3]:
            found.append((person, "document", f"{key[0]}/{key[1]}"))
        if sample:
            parent = index_db.execute(
                "SELECT parent_id FROM items WHERE drive_id = ? AND item_id = ?", sample[0]
            ).fetchone()[0]
            if parent:
                found.append((person, "folder", f"{sample[0][0]}/{parent}"))
        found.append((person, "tag", f"topic-{rng.randrange(TAGS)}"))
        for other in rng.sample(people, min(3, len(people))):
            if other != person:
                found.append((person, "person", other))
    return found


# -- playing the day -----------------------------------------------------------------------------


def make_app(data_dir: Path, index: Path, port: int) -> Flask:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "index.db"
    if not target.exists():
        target.symlink_to(index)
    return create_app({
        "data_dir": str(data_dir), "secret_key": "bench-" + "x" * 40,
        "tenant_id": "00000000-0000-0000-0000-000000000001",
        "client_id": "00000000-0000-0000-0000-000000000002", "client_secret": "bench",
        "authority": "https://login.invalid/tenant", "smtp_host": "127.0.0.1", "smtp_port": port,
        "writes_per_minute": 1_000_000, "extra": {"testing": True},
    })  # fmt: skip


def play(app: Flask, plan: dict, everything: bool, rng: random.Random) -> dict:
    """The day through the real write path; what each person received."""
    with app.test_request_context():
        _follow(plan["follows"], everything)
        began = time.perf_counter()
        written: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
        for actor, key, reply, mention, liker, _ in plan["events"]:
            _comment(actor, key, reply, mention, liker, written, everything)
        seconds = time.perf_counter() - began
        _read_some_mentions(rng)
        now = datetime.now(UTC)
        first = sender.send_due(now + timedelta(minutes=3))
        digests = sender.send_due(now + timedelta(days=1, minutes=5))
    return {"seconds": seconds, "mention_mails": first.sent, "digests": digests.sent}


def _follow(follows, everything: bool) -> None:
    at = "2026-12-01T00:00:00.000Z"
    with db.transaction() as conn:
        for person, kind, key in follows:
            follow_store.follow(conn, person, kind, key, at)
            if everything and kind in ("document", "folder", "tag"):
                follow_store.set_level(conn, person, kind, key, levels.WATCHING, at)
        if everything:
            for person in {p for p, _, _ in follows}:
                for event in levels.EVENTS:
                    for channel in levels.CHANNELS:
                        follow_store.set_choice(conn, person, event, channel.name, True)


def _person(person_id: str) -> Person:
    return Person(person_id, "", "", False, frozenset())


def _comment(actor, key, reply, mention, liker, written, everything) -> None:
    person = _person(actor)
    document = visibility.document(db.index(), access.principals_of(actor), *key)
    if document is None:
        return
    earlier = written[key]
    parent = earlier[-1] if reply and earlier else None
    mentioned = {"m": Mentioned(mention, "")} if mention else {}
    draft = discussion_actions.Draft("words", "<p>words</p>", mentioned, parent and parent[0],
                                     parent and parent[1])  # fmt: skip
    context = discussion_actions.comment_context(person, document, draft)
    with db.transaction() as conn:
        node = discussion_actions.do_add_comment(conn, person, document, draft, context)
        if everything:  # watching what one took part in
            follow_store.set_level(conn, actor, "document", "{}/{}".format(*key),
                                   levels.WATCHING, node.created_at)  # fmt: skip
    earlier.append((node.id, actor))
    if liker:
        comment = db.social().execute("SELECT * FROM comments WHERE id = ?", [node.id])
        row = dict(zip([c[0] for c in comment.description], comment.fetchone(), strict=True))
        with db.transaction() as conn:
            discussion_actions.do_set_comment_like(conn, _person(liker), row, document, True)


def _read_some_mentions(rng: random.Random) -> None:
    rows = db.social().execute("SELECT id FROM notifications WHERE kind = 'mention'").fetchall()
    read = [r[0] for r in rows if rng.random() < READ_IN_TIME]
    with db.transaction() as conn:
        conn.executemany("UPDATE notifications SET read_at = 'x' WHERE id = ?", [[r] for r in read])


def received(app: Flask) -> dict[str, dict[str, int]]:
    """Per person: notifications in Plaza, mention mails, digests; and delivery checks."""
    with app.app_context():
        social = db.social()
        per: dict[str, Counter] = defaultdict(Counter)
        for person, n in social.execute("SELECT person_id, count(*) FROM notifications GROUP BY 1"):
            per[person]["notifications"] = n
        for person, kind, n in social.execute(
            "SELECT person_id, mail_kind, count(*) FROM outbox WHERE state = 'sent' GROUP BY 1, 2"
        ):
            per[person]["mention mails" if kind == "mention" else "digests"] = n
        mentions = social.execute("SELECT count(*) FROM mentions").fetchone()[0]
        told = social.execute(
            "SELECT count(*) FROM mentions AS m WHERE EXISTS (SELECT 1 FROM notifications AS n"
            " WHERE n.person_id = m.person_id AND n.comment_id = m.comment_id"
            " AND n.kind = 'mention')"
        ).fetchone()[0]
        replies = social.execute(
            "SELECT count(*) FROM comments AS c JOIN comments AS p ON p.id = c.parent_id"
            " WHERE p.author_id != c.author_id"
        ).fetchone()[0]
        replied = social.execute(
            "SELECT count(*) FROM comments AS c JOIN comments AS p ON p.id = c.parent_id"
            " WHERE p.author_id != c.author_id AND EXISTS (SELECT 1 FROM notifications AS n"
            " WHERE n.person_id = p.author_id AND n.comment_id = c.id"
            " AND n.kind IN ('reply', 'mention'))"
        ).fetchone()[0]
    return {"per": per, "mentions": (told, mentions), "replies": (replied, replies)}


def summary(values: list[int]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered):g} / {p95} / {ordered[-1]}"


# -- the feed at scale ---------------------------------------------------------------------------


def feed_bench(app: Flask, plan: dict, rng: random.Random, scale: dict) -> dict:
    people, samples = plan["people"], plan["samples"]
    index_conn = sqlite3.connect(f"file:{plan['index']}?mode=ro", uri=True)
    with app.app_context():
        with db.transaction() as conn:
            have = conn.execute("SELECT count(*) FROM follows").fetchone()[0]
            at = "2026-11-30T00:00:00.000Z"
            for _ in range(20 * scale["follows"]):  # a small firm may not hold that many
                if have >= scale["follows"]:
                    break
                person = rng.choice(people)
                sample = samples[person] or [("x", "y")]
                kind = rng.choice(("document", "document", "tag", "person"))
                key = {
                    "document": "{}/{}".format(*rng.choice(sample)),
                    "tag": f"topic-{rng.randrange(TAGS)}",
                    "person": rng.choice(people),
                }[kind]
                have += follow_store.follow(conn, person, kind, key, at)
            began = time.perf_counter()
            for n, (d, i) in enumerate(_random_files(index_conn, rng, scale["conversations"])):
                person = rng.choice(people)
                stamp = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=n * 7)).isoformat()
                feed_activity.record(conn, feed_store.Activity(f"doc:{d}/{i}", d, i, None,
                                     stamp.replace("+00:00", "Z"), person, None, None))  # fmt: skip
        seeded = time.perf_counter() - began
        total = db.social().execute("SELECT count(*) FROM follows").fetchone()[0]
        inboxed = db.social().execute("SELECT count(*) FROM feed_inbox").fetchone()[0]
        conversations = db.social().execute("SELECT count(*) FROM feed_activity").fetchone()[0]
    sampled = rng.sample(people, min(FEED_PEOPLE, len(people)))
    timings: dict[str, list[float]] = defaultdict(list)
    for person_id in sampled:
        person = _person(person_id)
        for what, read in (
            ("notifications list (baseline)", lambda p=person: notification_reads.listing(p, 50)),
            ("feed, first page", lambda p=person: feed_reads.page(p, None)),
        ):
            with app.test_request_context():
                began = time.perf_counter()
                answer = read()
                timings[what].append(time.perf_counter() - began)
            cursor = answer[1] if what == "feed, first page" else None
            for later in ("feed, second page", "feed, third page"):
                if not cursor:
                    break
                with app.test_request_context():
                    began = time.perf_counter()
                    _, cursor = feed_reads.page(person, cursor)
                    timings[later].append(time.perf_counter() - began)
    return {"timings": timings, "follows": total, "conversations": conversations,
            "inbox rows": inboxed, "seeded in": seeded}  # fmt: skip


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"{1000 * statistics.median(ordered):.1f} / {1000 * p95:.1f} / {1000 * ordered[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--comments", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--people", type=int, default=0, help="a sample of the firm (0: all)")
    parser.add_argument("--follows", type=int, default=FOLLOWS_TOTAL)
    parser.add_argument("--conversations", type=int, default=PAST_CONVERSATIONS)
    args = parser.parse_args()
    scale = {"follows": args.follows, "conversations": args.conversations}
    items = sqlite3.connect(args.index).execute("SELECT count(*) FROM items").fetchone()[0]
    print(f"index: {items:,} items")
    plan = plan_day(args.index, args.comments, args.seed, args.people)
    active = {e[0] for e in plan["events"]}
    print(f"the day: {len(plan['events']):,} comments by {len(active):,} of "
          f"{len(plan['people']):,} people; {len(plan['follows']):,} follows")  # fmt: skip
    controller, box, port = start_smtp()
    scratch = Path(tempfile.mkdtemp(prefix="plaza-attention-"))
    rows, feed = [], None
    try:
        for everything in (False, True):
            app = make_app(scratch / ("everything" if everything else "default"), args.index, port)
            played = play(app, plan, everything, random.Random(args.seed))
            print(
                f"  {'everything' if everything else 'default'}: played in"
                f" {played['seconds']:.0f} s",
                flush=True,
            )
            got = received(app)
            per = got["per"]
            cells = {
                what: summary([per[p][what] for p in active])
                for what in ("notifications", "mention mails", "digests")
            }
            interruptions = [per[p]["notifications"] + per[p]["mention mails"] for p in active]
            rows.append((everything, cells, summary(interruptions), got, played))
            if not everything:
                feed = feed_bench(app, plan, random.Random(args.seed), scale)
        print(f"mails received by the SMTP server: {sum(box.received.values()):,}")
    finally:
        controller.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        "\n| levels | notifications | mention mails | digests | interruptions | mentions told"
        " | replies told | day played in |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for everything, cells, inter, got, played in rows:
        told, mentions = got["mentions"]
        replied, replies = got["replies"]
        print(f"| {'notify on everything' if everything else 'default'} | {cells['notifications']} "
              f"| {cells['mention mails']} | {cells['digests']} | {inter} | {told}/{mentions} "
              f"| {replied}/{replies} | {played['seconds']:.0f} s |")  # fmt: skip
    assert feed is not None
    print(
        f"\nfeed: {feed['follows']:,} follows, {feed['conversations']:,} conversations, "
        f"{items:,} items; p50 / p95 / max over {FEED_PEOPLE} people; {feed['inbox rows']:,}"
        f" inbox rows; past conversations written (with their fan-out) in"
        f" {feed['seeded in']:.0f} s"
    )
    print("\n| read | p50 / p95 / max |\n|---|---|")
    for what, values in feed["timings"].items():
        print(f"| {what} | {ms(values)} |")


if __name__ == "__main__":
    main()
