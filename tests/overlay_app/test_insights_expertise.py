"""Who knows about X, through HTTP on the real synced tenant: people ranked by exact evidence
on the scripted discussion (insights_script.py), the same for a tag and for search words, and
a profile's evidence as links; evidence on a document the viewer cannot open counts for nobody
(test_insights.py's trimming test covers the experts and the profile too)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from overlay_app import db
from tests.overlay_app.app_rows import who
from tests.overlay_app.conftest import PlazaEnv, sign_in
from tests.overlay_app.insights_script import find_stage, run_script

TAG = "insights-topic"


@pytest.fixture(scope="module")
def stage(plaza_env: PlazaEnv) -> dict[str, Any]:
    return find_stage(plaza_env)


def creator_of(app: Flask, key: tuple[str, str]) -> str:
    with app.app_context():
        found = db.index().execute(
            "SELECT created_by FROM items WHERE drive_id = ? AND item_id = ?", list(key)
        )
        return found.fetchone()[0]


def test_experts_are_ranked_by_their_evidence(app, api, people, stage):
    a, p = stage["a"], stage["p"]
    written = run_script(app, api, stage)
    assert (
        api(p[0]).post(f"/api/v1/documents/{a[0]}/{a[1]}/tags", json={"tag": TAG}).status_code
        == 201
    )
    ids = [who(app, upn)["id"] for upn in p]
    name = api(people["outsider"]).get(f"/api/v1/documents/{a[0]}/{a[1]}").get_json()["name"]

    def piece(kind: str, comment: str | None) -> dict[str, Any]:
        return {"kind": kind, "driveId": a[0], "itemId": a[1], "commentId": comment, "name": name}

    t1, r1, t2 = written["t1"]["id"], written["r1"]["id"], written["t2"]["id"]
    evidence = {
        ids[0]: [piece("comment", t1), piece("like", t1)],  # 2 + 1
        ids[1]: [piece("reply", r1)],  # 3
        ids[2]: [piece("comment", t2)],  # 2
    }
    creator = creator_of(app, a)
    evidence.setdefault(creator, []).append(piece("authored", None))  # 3
    weights = {"comment": 2, "reply": 3, "like": 1, "authored": 3}
    expected = sorted(
        (
            {
                "id": person,
                "displayName": who(app, person_upn(app, person))["displayName"],
                "score": sum(weights[e["kind"]] for e in pieces),
                "counts": {k: sum(e["kind"] == k for e in pieces) for k in weights},
                "evidence": pieces,
            }
            for person, pieces in evidence.items()
        ),
        key=lambda e: (-e["score"], e["id"]),
    )
    by_tag = api(people["outsider"]).get(f"/api/v1/insights/experts?tag={TAG}").get_json()
    assert by_tag == {"tag": TAG, "q": None, "value": expected}
    # the words of the comments find the same document, so the same people
    by_words = api(people["outsider"]).get("/api/v1/insights/experts?q=clause").get_json()
    assert by_words["value"] == expected


def person_upn(app: Flask, person_id: str) -> str:
    with app.app_context():
        found = db.index().execute("SELECT upn FROM people WHERE id = ?", [person_id])
        return found.fetchone()[0]


def test_a_profile_shows_its_evidence_as_links(app, api, client, people, stage):
    a, p = stage["a"], stage["p"]
    written = run_script(app, api, stage)
    assert (
        api(p[0]).post(f"/api/v1/documents/{a[0]}/{a[1]}/tags", json={"tag": TAG}).status_code
        == 201
    )
    p1 = who(app, p[0])["id"]
    answer = api(people["outsider"]).get(f"/api/v1/insights/evidence/{p1}").get_json()
    kinds = [(e["kind"], e["commentId"]) for e in answer["value"][0]["evidence"]]
    assert answer["value"][0]["tag"] == TAG
    assert kinds[:2] == [("comment", written["t1"]["id"]), ("like", written["t1"]["id"])]
    sign_in(client, people["outsider"])
    page = client.get(f"/people/{p1}").get_data(as_text=True)
    assert "Evidence of expertise" in page
    assert f'href="/documents/{a[0]}/{a[1]}"' in page
