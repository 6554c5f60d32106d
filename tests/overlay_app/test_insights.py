"""Insights through HTTP on the real synced tenant: exact KPIs of a scripted discussion, the
k-anonymity boundary (4 people withheld, 5 shown), trimming (a hidden document's activity
changes no figure, list or page byte for a viewer who cannot open it), who may see what.

The script: on a document A that the outsider (the viewer) and at least six other members can
open, p1 starts a thread, p2 answers it, p3 starts a thread mentioning p6, p4 likes p1's
comment, p5 likes the document, and p6 marks the mention read (reading only).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from overlay_app import db
from overlay_app.insights import store as insights_store
from tests.overlay_app.api_calls import mention, posted
from tests.overlay_app.app_rows import who
from tests.overlay_app.conftest import PlazaEnv, sign_in
from tests.overlay_app.insights_script import as_of, find_stage, run_script

DAYS = 7


@pytest.fixture(scope="module")
def stage(plaza_env: PlazaEnv) -> dict[str, Any]:
    return find_stage(plaza_env)


def kpis(api, who_: str, scope: str, when: str) -> dict[str, Any]:
    response = api(who_).get(
        "/api/v1/insights/kpis", query_string={"scope": scope, "days": DAYS, "asOf": when}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def hours_between(first: str, second: str) -> float:
    from datetime import datetime

    start = datetime.fromisoformat(first.replace("Z", "+00:00"))
    end = datetime.fromisoformat(second.replace("Z", "+00:00"))
    return round((end - start).total_seconds() / 3600, 2)


# -- exact figures ---------------------------------------------------------------------------


def test_kpis_of_the_scripted_discussion_are_exact(app, api, people, stage):
    written = run_script(app, api, stage)
    a = stage["a"]
    answer = kpis(api, people["outsider"], f"library:{a[0]}", as_of())
    assert answer["withheld"] is None
    assert answer["current"] == {
        "posting": 5,
        "onlyReading": 1,
        "contributions": 5,  # three comments, two likes
        "perActivePerson": 1.0,
        "threads": 2,
        "replies": 1,
        "answeredShare": 0.5,
        "medianHoursToFirstReply": hours_between(
            written["t1"]["createdAt"], written["r1"]["createdAt"]
        ),
    }
    assert answer["previous"] is None and answer["trend"] is None  # nobody then: too few
    name = stage_name(app, a)
    assert answer["unanswered"] == [
        {
            "commentId": written["t2"]["id"],
            "driveId": a[0],
            "itemId": a[1],
            "name": name,
            "createdAt": written["t2"]["createdAt"],
        }
    ]
    assert answer["topDocuments"] == [
        {"driveId": a[0], "itemId": a[1], "name": name, "comments": 3}
    ]
    assert sum(answer["daily"]) == 3 and len(answer["daily"]) == DAYS
    everything = kpis(api, people["outsider"], "all", as_of())
    assert everything["current"] == answer["current"]


def test_the_page_shows_a_share_as_a_percentage_and_a_ratio_with_one_decimal(
    app, api, people, stage
):
    run_script(app, api, stage)
    client = app.test_client()
    sign_in(client, people["outsider"])
    path = f"/insights?scope=library:{stage['a'][0]}&days=28&asOf={as_of()}"
    rows = {}
    for language in ("en", "nl"):
        page = client.get(path, headers={"Accept-Language": language}).get_data(as_text=True)
        rows[language] = re.findall(r'<th scope="row">([^<]+)</th><td class="count">([^<]+)<', page)
    assert rows["en"][3:7] == [
        ("Contributions per active person", "1.0"),
        ("Threads", "2"),
        ("Replies", "1"),
        ("Share of threads answered", "50%"),
    ]
    assert rows["nl"][3][1] == "1,0" and rows["nl"][6][1] == "50%"


def stage_name(app: Flask, key: tuple[str, str]) -> str:
    with app.app_context():
        row = db.index().execute(
            "SELECT name FROM items WHERE drive_id = ? AND item_id = ?", list(key)
        )
        return row.fetchone()[0]


def test_a_group_of_four_is_withheld_and_of_five_shown(app, api, people, stage):
    a, p = stage["a"], stage["p"]
    thread = posted(api(p[0]), a, "Four of us so far")
    for person in p[1:4]:
        posted(api(person), a, "Here", parent_id=thread["id"])
    scope = f"library:{a[0]}"
    four = kpis(api, people["outsider"], scope, as_of())
    assert (four["current"], four["withheld"]) == (None, "too few people")
    assert (four["unanswered"], four["topDocuments"], four["daily"]) == ([], [], None)
    posted(api(p[4]), a, "And a fifth", parent_id=thread["id"])
    five = kpis(api, people["outsider"], scope, as_of())
    assert five["withheld"] is None
    assert (five["current"]["posting"], five["current"]["replies"]) == (5, 4)


def test_the_threshold_is_configurable_but_never_below_five(make_app, api, people, stage):
    from overlay_app.settings import OverlaySettings, SettingsError

    with pytest.raises(SettingsError) as refused:
        base = make_app().extensions["plaza.settings"]
        OverlaySettings.from_env(
            {"PLAZA_INSIGHTS_MIN_GROUP": "4", "PLAZA_DATA_DIR": str(base.data_dir),
             "PLAZA_SECRET_KEY": "k" * 40, "PLAZA_TENANT_ID": base.tenant_id,
             "PLAZA_CLIENT_ID": base.client_id, "PLAZA_CLIENT_SECRET": "s",
             "PLAZA_INSIGHTS_ETHICAL_WALLS": "not-a-group"}
        )  # fmt: skip
    assert (
        "PLAZA_INSIGHTS_MIN_GROUP must be a whole number from 5 to 10000" in refused.value.problems
    )
    assert any("PLAZA_INSIGHTS_ETHICAL_WALLS" in p for p in refused.value.problems)
    seven = make_app(insights_min_group=7)
    as_seven = lambda upn: api(upn, seven)  # noqa: E731
    run_script(seven, as_seven, stage)
    answer = kpis(as_seven, people["outsider"], f"library:{stage['a'][0]}", as_of())
    assert answer["withheld"] == "too few people"  # the script's group: six people


# -- trimming --------------------------------------------------------------------------------

NONCE = re.compile(r'nonce="[^"]*"')
CSRF = re.compile(r'<meta name="csrf-token" content="[^"]*">')


def snapshot(app: Flask, api, client, viewer: str, stage: dict[str, Any], when: str) -> list:
    """Everything insights tells the viewer: every scope's KPIs, the pages, the CSV, the
    network (recomputed: the cache is emptied first), the experts, p1's profile evidence."""
    with app.app_context(), db.transaction() as conn:
        insights_store.forget_older_than(conn, "9999")
    caller = api(viewer)
    scopes = caller.get("/api/v1/insights/scopes").get_json()
    taken = [scopes]
    listed = ["all"] + [entry["scope"] for entries in scopes.values() for entry in entries]
    for scope in listed:
        for days in (7, 28, 90):
            query = {"scope": scope, "days": days, "asOf": when}
            taken.append(caller.get("/api/v1/insights/kpis", query_string=query).get_json())
    for unit in ("department", "office"):
        answer = caller.get("/api/v1/insights/network", query_string={"unit": unit, "days": 90})
        taken.append({k: v for k, v in answer.get_json().items() if k != "computedAt"})
    taken.append(caller.get("/api/v1/insights/experts?tag=insights-topic").get_json())
    p1 = who(app, stage["p"][0])["id"]
    taken.append(caller.get(f"/api/v1/insights/evidence/{p1}").get_json())
    for path in (
        f"/insights?scope=all&days=28&asOf={when}",
        f"/insights?scope=library:{stage['a'][0]}&days=7&asOf={when}",
        f"/insights/kpis.csv?scope=all&days=7&asOf={when}",
        "/insights/experts?tag=insights-topic",
        f"/people/{p1}",
    ):
        page = client.get(path).get_data(as_text=True)
        taken.append(CSRF.sub("", NONCE.sub("", page)))
    network = client.get("/insights/network?unit=department&days=90").get_data(as_text=True)
    taken.append(re.sub(r"computed [0-9: -]+ UTC", "", CSRF.sub("", NONCE.sub("", network))))
    return taken


def test_activity_on_a_hidden_document_changes_nothing_the_viewer_receives(
    app, api, client, people, stage
):
    a, b = stage["a"], stage["b"]
    run_script(app, api, stage)
    tag = {"tag": "insights-topic"}
    assert api(stage["p"][0]).post(
        f"/api/v1/documents/{a[0]}/{a[1]}/tags", json=tag
    ).status_code in (200, 201)
    sign_in(client, people["outsider"])
    when = as_of()
    before = snapshot(app, api, client, people["outsider"], stage, when)

    author, reader = api(people["author"]), api(people["reader"])
    assert author.post(f"/api/v1/documents/{b[0]}/{b[1]}/tags", json=tag).status_code in (200, 201)
    thread = posted(author, b, f"{mention(who(app, people['reader']))} hidden question")
    posted(reader, b, "hidden answer", parent_id=thread["id"])
    posted(reader, b, "another hidden thread")
    assert reader.put(f"/api/v1/comments/{thread['id']}/like").status_code in (200, 204)
    assert reader.put(f"/api/v1/documents/{b[0]}/{b[1]}/like").status_code in (200, 204)
    assert reader.post("/api/v1/notifications/read", json={"all": True}).status_code == 200

    after = snapshot(app, api, client, people["outsider"], stage, when)
    assert after == before
    # ... while someone who can open B sees it counted
    seen = kpis(api, people["author"], f"library:{b[0]}", when)
    assert seen["withheld"] == "too few people"  # two people: withheld, but computed over B


# -- who may see what ------------------------------------------------------------------------


def test_guests_are_refused_and_person_level_views_are_for_audited_admins(app, api, people):
    assert api(people["guest"]).get("/api/v1/insights/kpis").status_code == 403
    member = api(people["outsider"])
    assert member.get("/api/v1/insights/network").status_code == 200
    refused = member.get("/api/v1/insights/network?includePeople=true")
    assert refused.status_code == 403
    assert "personLevel" not in member.get("/api/v1/insights/network").get_json()
    admin = api(people["admin"])
    shown = admin.get("/api/v1/insights/network?includePeople=true&unit=office&days=28")
    assert shown.status_code == 200
    answer = shown.get_json()
    assert answer["withheld"] == "too few people" or "personLevel" in answer
    with app.app_context():
        audited = (
            db.social()
            .execute("SELECT action, target FROM audit WHERE action = 'insights.people_viewed'")
            .fetchall()
        )
    assert audited == [("insights.people_viewed", "insights:network/office/28")]


def test_bad_parameters_answer_one_clear_400(api, people):
    member = api(people["outsider"])
    for query, words in (
        ("days=5", "days must be 7, 28 or 90."),
        ("scope=planet:x", "scope must be all"),
        ("asOf=yesterday", "asOf must be an ISO 8601 date or time."),
    ):
        answer = member.get(f"/api/v1/insights/kpis?{query}")
        assert answer.status_code == 400
        assert answer.get_json()["error"]["message"].startswith(words)
    assert member.get("/api/v1/insights/experts").status_code == 400
    assert member.get("/api/v1/insights/network?unit=team").status_code == 400


def test_a_channel_counts_its_messages_and_readers(api, people, stage):
    p = stage["p"]
    created = api(p[0]).post("/api/v1/rooms", json={"kind": "channel", "name": "insights-club"})
    assert created.status_code == 201, created.get_json()
    room = created.get_json()["id"]
    sent = []
    for person in p[:5]:
        answer = api(person).post(f"/api/v1/rooms/{room}/messages", json={"body": "Hello all"})
        assert answer.status_code == 201, answer.get_json()
        sent.append(answer.get_json()["id"])
    read = api(p[5]).put(f"/api/v1/rooms/{room}/read", json={"last_read_id": sent[-1]})
    assert read.status_code == 200, read.get_json()
    answer = kpis(api, people["outsider"], f"channel:{room}", as_of())
    assert answer["label"] == "#insights-club"
    assert answer["current"] == {
        "posting": 5,
        "onlyReading": 1,
        "contributions": 5,
        "perActivePerson": 1.0,
        "threads": 0,
        "replies": 0,
        "answeredShare": None,
        "medianHoursToFirstReply": None,
    }
    assert (answer["unanswered"], answer["topDocuments"]) == ([], [])
    # a library's figures leave the channel out
    library = kpis(api, people["outsider"], f"library:{stage['a'][0]}", as_of())
    assert library["current"] is None
