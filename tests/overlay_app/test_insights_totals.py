"""Insights' KPIs from the nightly daily totals (insights/totals.py): the same answers as the
direct computation for every member of the test tenant and every kind of scope; the next
night recomputes only the days that changed (a new reply, a deleted one, a hidden thread) and
agrees again exactly; a document revoked from a viewer leaves their figures at the next sync,
without waiting for the night; a document's chat room counts for it.

The scripted discussion (insights_script.py) is written today; a nightly run "tomorrow" makes
today a complete day of the totals, so that the answers come from the totals alone, and a run
today leaves it to be read directly: both are compared.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import pytest
from flask import Flask

from overlay_app import db
from overlay_app.identity import MEMBER, Person
from overlay_app.insights import reads, totals
from overlay_app.insights import store_totals as store
from overlay_app.insights.kpis import Scope
from sync import directory
from tests.overlay_app.admin_staff import moderator_group, staff_app
from tests.overlay_app.api_calls import document_room, posted
from tests.overlay_app.conftest import PlazaEnv, sign_in
from tests.overlay_app.insights_script import find_stage, run_script
from tests.postgres import backend_is_postgres

TOMORROW = datetime.now(UTC) + timedelta(days=1)
WHEN = datetime.combine(TOMORROW.date(), datetime.min.time(), UTC)  # tomorrow, midnight


@pytest.fixture(scope="module")
def stage(plaza_env: PlazaEnv) -> dict[str, Any]:
    return find_stage(plaza_env)


def members(app: Flask) -> list[Person]:
    with app.app_context():
        rows = db.index().execute(
            "SELECT id, display_name, upn FROM people"
            " WHERE enabled = 1 AND deleted = 0 AND guest = 0 ORDER BY id"
        )
        return [Person(i, name, upn, False, frozenset({MEMBER})) for i, name, upn in rows]


def both(app: Flask, viewer: Person, scope: Scope, days: int, when: datetime) -> tuple[dict, dict]:
    """(from the totals, computed directly) for the viewer."""
    with app.test_request_context():
        return (
            reads.kpis_of(viewer, scope, days, when),
            reads.kpis_direct(viewer, scope, days, when),
        )


def night(app: Flask, moment: datetime) -> totals.Update:
    with app.app_context():
        return totals.update(moment)


def scopes_of_stage(app: Flask, stage: dict[str, Any]) -> list[Scope]:
    a = stage["a"]
    with app.app_context():
        site = db.index().execute(
            "SELECT site_id FROM items WHERE drive_id = ? AND item_id = ?", list(a)
        )
        site_id = site.fetchone()[0]
        p0 = db.index().execute("SELECT id FROM people WHERE upn = ?", [stage["p"][0]])
        department, office = directory.units(db.index())[p0.fetchone()[0]]
    return [
        Scope("all"), Scope("library", a[0]), Scope("site", site_id),
        Scope("tag", "totals-topic"), Scope("department", department), Scope("office", office),
    ]  # fmt: skip


def talk_in_the_room(api, stage: dict[str, Any]) -> None:
    """p1 and p2 write in document A's chat room; p6 reads it."""
    p = stage["p"]
    room = document_room(api(p[0]), stage["a"])["id"]
    sent = None
    for person in p[:2]:
        answer = api(person).post(f"/api/v1/rooms/{room}/messages", json={"body": "On A"})
        assert answer.status_code == 201, answer.get_json()
        sent = answer.get_json()["id"]
    read = api(p[5]).put(f"/api/v1/rooms/{room}/read", json={"last_read_id": sent})
    assert read.status_code == 200, read.get_json()


def test_totals_answer_exactly_as_the_direct_computation_for_every_member(
    app, api, client, people, stage
):
    written = run_script(app, api, stage)
    a = stage["a"]
    tag = api(stage["p"][0]).post(
        f"/api/v1/documents/{a[0]}/{a[1]}/tags", json={"tag": "totals-topic"}
    )
    assert tag.status_code in (200, 201)
    talk_in_the_room(api, stage)
    outsider = next(m for m in members(app) if m.upn == people["outsider"])
    direct = both(app, outsider, Scope("library", a[0]), 7, WHEN)[1]
    assert direct["current"] == {
        "posting": 5,
        "onlyReading": 1,
        "contributions": 7,  # three comments, two likes, two messages in A's room
        "perActivePerson": 1.4,
        "threads": 2,
        "replies": 1,
        "answeredShare": 0.5,
        "medianHoursToFirstReply": direct["current"]["medianHoursToFirstReply"],
    }
    assert [t["commentId"] for t in direct["unanswered"]] == [written["t2"]["id"]]
    assert sum(direct["daily"]) == 5  # three comments, two messages: written, not likes

    assert night(app, datetime.now(UTC)).days == 0  # today is not complete: read directly
    compare_all(app, stage)
    done = night(app, TOMORROW)  # today complete: every figure from the totals
    assert (done.days, done.complete_until) == (1, TOMORROW.date().isoformat())
    with app.app_context():
        assert store.dirty_days(db.social(), "9999") == []
    with app.test_request_context():
        found = totals.window(outsider, 7, WHEN)
    assert (found.split, found.recent.comments, set(found.visible)) == (
        TOMORROW.date().isoformat(),
        [],
        {a},
    )  # nothing of A read directly: it all comes from the totals
    compare_all(app, stage)
    totals_answer = both(app, outsider, Scope("library", a[0]), 7, WHEN)[0]
    assert totals_answer == direct
    sign_in(client, people["outsider"])  # the page, from the totals too
    page = client.get(f"/insights?scope=library:{a[0]}&days=7&asOf={WHEN.date().isoformat()}")
    assert page.status_code == 200
    assert escape(direct["label"]) in page.get_data(as_text=True)


def compare_all(app: Flask, stage: dict[str, Any]) -> None:
    """Every member, every kind of scope, 7 days (and 28 for everything): both forms equal."""
    scopes = scopes_of_stage(app, stage)
    shown = 0
    for viewer in members(app):
        for scope in scopes:
            for days in (7, 28) if scope.kind == "all" else (7,):
                from_totals, direct = both(app, viewer, scope, days, WHEN)
                assert from_totals == direct, (viewer.upn, scope, days)
                shown += direct["current"] is not None
    assert shown > 0  # some figures are shown, not only withheld ones


def test_the_next_night_recomputes_only_the_changed_day_and_agrees_again(
    make_app, api, people, stage, plaza_env
):
    staff = staff_app(make_app, plaza_env)
    call = lambda upn: api(upn, staff)  # noqa: E731
    p, a = stage["p"], stage["a"]
    written = run_script(staff, call, stage)
    extra = posted(call(p[4]), a, "A thread to be hidden")
    assert night(staff, TOMORROW).days == 1
    library = Scope("library", a[0])
    outsider = next(m for m in members(staff) if m.upn == people["outsider"])
    before = both(staff, outsider, library, 7, WHEN)
    assert before[0] == before[1] and before[0]["current"]["threads"] == 3

    answer = posted(call(p[3]), a, "Here is a review", parent_id=written["t2"]["id"])
    assert call(p[1]).delete(f"/api/v1/comments/{written['r1']['id']}").status_code in (200, 204)
    hidden = call(moderator_group(plaza_env)[1]).post(
        "/api/v1/admin/moderation",
        json={"kind": "comment", "targetId": extra["id"], "act": "hide", "reason": "test"},
    )
    assert hidden.status_code == 200, hidden.get_json()
    with staff.app_context():
        assert store.dirty_days(db.social(), "9999") == [datetime.now(UTC).date().isoformat()]
    stale, direct = both(staff, outsider, library, 7, WHEN)
    assert stale == before[0]  # until the night: the day is complete in the totals

    done = night(staff, TOMORROW)
    assert done.days == 1  # only the day that changed
    from_totals, direct = both(staff, outsider, library, 7, WHEN)
    assert from_totals == direct
    assert (direct["current"]["threads"], direct["current"]["replies"]) == (2, 1)
    assert direct["current"]["answeredShare"] == 0.5  # t2 answered now, t1 no longer
    assert [t["commentId"] for t in direct["unanswered"]] == [written["t1"]["id"]]
    assert answer["id"] not in {t["commentId"] for t in direct["unanswered"]}


def test_a_revoked_document_leaves_the_viewers_figures_at_the_next_sync(
    fresh_plaza_env, make_app, api, people, stage, resync
):
    app = make_app(env=fresh_plaza_env)
    call = lambda upn: api(upn, app)  # noqa: E731
    run_script(app, call, stage)
    talk_in_the_room(call, stage)
    night(app, TOMORROW)
    outsider = next(m for m in members(app) if m.upn == people["outsider"])
    everything = Scope("all")
    seen, _ = both(app, outsider, everything, 7, WHEN)
    assert seen["current"]["contributions"] == 7
    assert [d["itemId"] for d in seen["topDocuments"]] == [stage["a"][1]]
    hidden_room = document_room(call(people["author"]), stage["b"])["id"]  # B: not theirs
    for upn in (people["author"], people["reader"]):
        sent = call(upn).post(f"/api/v1/rooms/{hidden_room}/messages", json={"body": "On B"})
        assert sent.status_code == 201, sent.get_json()
    night(app, TOMORROW)
    assert both(app, outsider, everything, 7, WHEN) == (seen, seen)  # B's chat: nothing

    fresh_plaza_env.revoke_everyone_but(*stage["a"], people["author"])
    resync(app, people=False, documents=True)
    from_totals, direct = both(app, outsider, everything, 7, WHEN)
    assert from_totals == direct
    assert from_totals["current"] is None and from_totals["topDocuments"] == []
    with app.test_request_context():
        found = totals.window(outsider, 7, WHEN)
    assert stage["a"] not in found.visible  # not even counted: its rows are never summed


def a_day_earlier(app: Flask) -> None:
    """Moves everything written so far one day back (before the totals' first run, which
    marks every day with activity)."""
    shift = "strftime('%Y-%m-%dT%H:%M:%fZ', {0}, '-1 day')"
    if backend_is_postgres():
        shift = (
            "to_char((CAST({0} AS timestamptz) - interval '1 day') AT TIME ZONE 'UTC',"
            ' \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')'
        )
    with app.app_context(), db.transaction() as conn:
        for table, column in (
            ("comments", "created_at"), ("comment_likes", "created_at"),
            ("document_likes", "created_at"), ("notifications", "read_at"),
        ):  # fmt: skip
            conn.execute(f"UPDATE {table} SET {column} = {shift.format(column)}")
        conn.execute("DELETE FROM insight_dirty_days")


def test_a_reply_since_the_last_run_answers_a_thread_the_totals_hold(app, api, people, stage):
    written = run_script(app, api, stage)
    a_day_earlier(app)
    done = night(app, datetime.now(UTC))  # yesterday complete, today read directly
    assert done.days == 1
    reply = posted(api(stage["p"][3]), stage["a"], "Late review", parent_id=written["t2"]["id"])
    outsider = next(m for m in members(app) if m.upn == people["outsider"])
    library = Scope("library", stage["a"][0])
    now = datetime.now(UTC)
    for when in (now, WHEN, now - timedelta(hours=12)):
        from_totals, direct = both(app, outsider, library, 7, when)
        assert from_totals == direct, when
    current = both(app, outsider, library, 7, WHEN)[0]["current"]
    assert (current["threads"], current["replies"], current["answeredShare"]) == (2, 2, 1.0)
    assert reply["id"]
    compare_all(app, stage)
