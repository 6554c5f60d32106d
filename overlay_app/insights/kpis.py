"""Engagement KPIs of one scope over one period and the period before it, from an Activity
that is already trimmed for the viewer (activity.py). Pure: no SQL, no request.

Words:
- scope: everything (`all`), a community (`channel:<room id>`), a site, a library, a tag, or a
  unit of people (`department:<name>`, `office:<name>`: what the people sync stores).
- contribution: a comment, a reply, a channel message or a like given.
- posting: made a contribution in the period; only reading: read (activity.py says what that
  means) but made none. Both are counts, never lists of people.
- thread: a top-level comment; answered: someone other than its author replied (at any time
  up to the end of the period); time to first reply: to that reply, in hours.
- the group: the people posting or reading in the period. Its figures are shown only when it
  holds at least `min_group` people (and, for a unit, the unit too); else "too few people".
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from overlay_app.errors import N_
from overlay_app.insights.activity import Activity, Comment, Key, parse, stamp

PERIODS = (7, 28, 90)
SCOPE_KINDS = ("all", "channel", "site", "library", "tag", "department", "office")
UNIT_KINDS = ("department", "office")
TOO_FEW = N_("too few people")
LIST_LIMIT = 20
TOP_LIMIT = 10


@dataclass(frozen=True)
class Scope:
    kind: str
    value: str = ""

    @property
    def text(self) -> str:
        return self.kind if self.kind == "all" else f"{self.kind}:{self.value}"


def parse_scope(text: str) -> Scope | None:
    kind, _, value = text.partition(":")
    if kind == "all" and not value:
        return Scope("all")
    if kind in SCOPE_KINDS and kind != "all" and value:
        return Scope(kind, value)
    return None


# -- which activity a scope holds ------------------------------------------------------------


class InScope:
    """Membership tests of one scope over one Activity."""

    def __init__(self, activity: Activity, scope: Scope) -> None:
        self.activity, self.scope = activity, scope
        unit_index = UNIT_KINDS.index(scope.kind) if scope.kind in UNIT_KINDS else None
        self.unit_people = (
            {p for p, unit in activity.units.items() if unit[unit_index] == scope.value}
            if unit_index is not None
            else None
        )
        self.keys = {key for key in activity.documents if self._holds(key)}

    def _holds(self, key: Key) -> bool:
        kind, value = self.scope.kind, self.scope.value
        document = self.activity.documents[key]
        if kind == "channel":
            return False
        if kind == "site":
            return document.site_id == value
        if kind == "library":
            return document.drive_id == value
        if kind == "tag":
            return value in self.activity.tags.get(key, [])
        return True

    def document(self, key: Key) -> bool:
        return key in self.keys

    def room(self, room_id: str) -> bool:
        if self.scope.kind == "channel":
            return room_id == self.scope.value
        return self.scope.kind in ("all", *UNIT_KINDS)

    def person(self, person_id: str) -> bool:
        return self.unit_people is None or person_id in self.unit_people


# -- one period ------------------------------------------------------------------------------


@dataclass
class Period:
    start: str
    end: str

    def holds(self, at: str) -> bool:
        return self.start <= at < self.end


def periods(now: datetime, days: int) -> tuple[Period, Period]:
    """(this period, the one before it), each `days` long, ending at `now`."""
    cut, first = now - timedelta(days=days), now - timedelta(days=2 * days)
    return Period(stamp(cut), stamp(now)), Period(stamp(first), stamp(cut))


def figures(activity: Activity, within: InScope, period: Period) -> dict:
    """The KPIs of the scope over the period, before any group threshold."""
    comments = [c for c in activity.comments if within.document(c.key)]
    by_id = {c.id: c for c in comments}
    mine = [c for c in comments if period.holds(c.at) and within.person(c.author)]
    threads = [c for c in mine if c.parent_id is None]
    replies = [c for c in mine if c.parent_id is not None]
    messages = [
        (room, who) for room, who, at in activity.messages
        if within.room(room) and period.holds(at) and within.person(who)
    ]  # fmt: skip
    likes = [
        who for cid, who, at in activity.comment_likes
        if cid in by_id and period.holds(at) and within.person(who)
    ] + [
        who for key, who, at in activity.document_likes
        if within.document(key) and period.holds(at) and within.person(who)
    ]  # fmt: skip
    posting = {c.author for c in mine} | {who for _, who in messages} | set(likes)
    readers = {
        who for key, who, at in activity.notification_reads
        if within.document(key) and period.holds(at) and within.person(who)
    } | {
        who for room, who, at in activity.marker_moves
        if within.room(room) and period.holds(at) and within.person(who)
    }  # fmt: skip
    contributions = len(mine) + len(messages) + len(likes)
    first_replies = _first_replies(comments, threads, period.end)
    waits = [(parse(reply.at) - parse(t.at)).total_seconds() / 3600 for t, reply in first_replies]
    return {
        "group": len(posting | readers),
        "posting": len(posting),
        "onlyReading": len(readers - posting),
        "contributions": contributions,
        "perActivePerson": round(contributions / len(posting), 2) if posting else None,
        "threads": len(threads),
        "replies": len(replies),
        "answeredShare": round(len(first_replies) / len(threads), 3) if threads else None,
        "medianHoursToFirstReply": round(statistics.median(waits), 2) if waits else None,
        "_threads": threads,
        "_answered": {t.id for t, _ in first_replies},
        "_mine": mine,
        "_daily": _daily(mine, messages_at(activity, within, period), period),
    }


def messages_at(activity: Activity, within: InScope, period: Period) -> list[str]:
    return [
        at for room, who, at in activity.messages
        if within.room(room) and period.holds(at) and within.person(who)
    ]  # fmt: skip


def _first_replies(
    comments: list[Comment], threads: list[Comment], until: str
) -> list[tuple[Comment, Comment]]:
    """(thread, its first reply by someone else before `until`) of the answered threads."""
    first: dict[str, Comment] = {}
    authors = {t.id: t.author for t in threads}
    for comment in comments:  # oldest first
        parent = comment.parent_id
        if parent in authors and comment.author != authors[parent] and comment.at < until:
            first.setdefault(parent, comment)
    return [(t, first[t.id]) for t in threads if t.id in first]


def _daily(mine: list[Comment], message_times: list[str], period: Period) -> list[int]:
    """Contributions written (comments, replies, messages) per day of the period."""
    start = parse(period.start)
    days = max(1, round((parse(period.end) - start).total_seconds() / 86400))
    counts = [0] * days
    for at in [c.at for c in mine] + message_times:
        index = int((parse(at) - start).total_seconds() // 86400)
        if 0 <= index < days:
            counts[index] += 1
    return counts


# -- the answer ------------------------------------------------------------------------------

SHOWN = (
    "posting", "onlyReading", "contributions", "perActivePerson", "threads", "replies",
    "answeredShare", "medianHoursToFirstReply",
)  # fmt: skip


def kpis(
    activity: Activity, scope: Scope, days: int, min_group: int, unit_size: int | None
) -> dict:
    """The KPIs of `scope` over the last `days` and the period before, with trends, the
    unanswered threads and the most discussed documents; figures withheld ("too few people")
    for a period whose group, or the unit itself, holds fewer than `min_group` people."""
    within = InScope(activity, scope)
    current_period, previous_period = periods(activity.now, days)
    current = figures(activity, within, current_period)
    previous = figures(activity, within, previous_period)
    unit_ok = unit_size is None or unit_size >= min_group
    shown_now = unit_ok and current["group"] >= min_group
    shown_before = unit_ok and previous["group"] >= min_group
    answer = {
        "scope": scope.text,
        "days": days,
        "from": current_period.start,
        "until": current_period.end,
        "current": _public(current) if shown_now else None,
        "previous": _public(previous) if shown_before else None,
        "withheld": None if shown_now else TOO_FEW,
        "trend": _trend(current, previous) if shown_now and shown_before else None,
        "daily": current["_daily"] if shown_now else None,
        "unanswered": _unanswered(activity, current) if shown_now else [],
        "topDocuments": _top_documents(activity, current) if shown_now else [],
    }
    return answer


def _public(found: dict) -> dict:
    return {name: found[name] for name in SHOWN}


def _trend(current: dict, previous: dict) -> dict:
    """This period minus the one before, per figure (None where either has no value)."""
    changes = {}
    for name in SHOWN:
        now, before = current[name], previous[name]
        changes[name] = None if now is None or before is None else round(now - before, 3)
    return changes


def _unanswered(activity: Activity, found: dict) -> list[dict]:
    waiting = [t for t in found["_threads"] if t.id not in found["_answered"]]
    return [_thread_json(activity, t) for t in waiting[:LIST_LIMIT]]


def _thread_json(activity: Activity, thread: Comment) -> dict:
    document = activity.documents[thread.key]
    return {
        "commentId": thread.id,
        "driveId": thread.key[0],
        "itemId": thread.key[1],
        "name": document.name,
        "createdAt": thread.at,
    }


def _top_documents(activity: Activity, found: dict) -> list[dict]:
    counts = Counter(c.key for c in found["_mine"])
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_LIMIT]
    return [
        {"driveId": d, "itemId": i, "name": activity.documents[(d, i)].name, "comments": n}
        for (d, i), n in ranked
    ]
