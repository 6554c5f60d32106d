"""The KPI figures on a hand-written activity (the pure part of insights/kpis.py): a unit
scope counts only its members' activity and is withheld while the unit itself holds fewer
people than the threshold, however many of them took part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overlay_app.insights import kpis
from overlay_app.insights.activity import Activity, Comment, stamp
from sync.visibility import Document

NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = ("drive", "doc")


def activity_of(members: int) -> Activity:
    """`members` people of Tax and two of Audit each start a thread on one document."""
    at = stamp(NOW - timedelta(hours=5))
    units = {f"t{n}": ("Tax", "Oslo") for n in range(members)}
    units |= {"a0": ("Audit", "Oslo"), "a1": ("Audit", "Oslo")}
    comments = [Comment(f"c-{p}", KEY, None, p, at) for p in sorted(units)]
    comments.append(Comment("r", KEY, "c-t0", "a0", stamp(NOW - timedelta(hours=2))))
    document = Document(*KEY, "Plan.docx", "/Plan.docx", None, False, "docx", 1, None, None)
    return Activity(now=NOW, comments=comments, documents={KEY: document}, units=units)


def test_a_unit_of_four_is_withheld_and_of_five_shown():
    scope = kpis.Scope("department", "Tax")
    four = kpis.kpis(activity_of(4), scope, 7, 5, unit_size=4)
    assert (four["current"], four["withheld"], four["unanswered"]) == (None, "too few people", [])
    five = kpis.kpis(activity_of(5), scope, 7, 5, unit_size=5)
    assert five["current"] == {
        "posting": 5,  # Tax's five; Audit's reply is not theirs
        "onlyReading": 0,
        "contributions": 5,
        "perActivePerson": 1.0,
        "threads": 5,
        "replies": 0,
        "answeredShare": 0.2,  # t0's thread, answered by a0
        "medianHoursToFirstReply": 3.0,
    }
    assert [t["commentId"] for t in five["unanswered"]] == ["c-t1", "c-t2", "c-t3", "c-t4"]
    assert five["topDocuments"] == [
        {"driveId": "drive", "itemId": "doc", "name": "Plan.docx", "comments": 5}
    ]


def test_a_scope_of_everything_counts_everyone():
    answer = kpis.kpis(activity_of(5), kpis.Scope("all"), 7, 5, unit_size=None)
    assert answer["current"]["posting"] == 7
    assert (answer["current"]["threads"], answer["current"]["replies"]) == (7, 1)
    assert answer["daily"] == [0, 0, 0, 0, 0, 0, 8]
