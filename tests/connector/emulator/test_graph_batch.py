"""JSON batching over real HTTPS: limits, ids, ordering, dependsOn, per-request auth and faults."""

from __future__ import annotations

from tests.connector.emulator.tenant_calls import documents, session_for


def batch_url(handle) -> str:
    return f"{handle.base_url}/v1.0/$batch"


def test_twenty_requests_answer_out_of_order_and_twenty_one_fail(emulator, graph):
    drive = documents(emulator)
    requests_ = [
        {"id": str(n), "method": "GET", "url": f"/drives/{drive.id}/root"} for n in range(20)
    ]
    response = graph.post(batch_url(emulator), json={"requests": requests_})
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert sorted(a["id"] for a in answers) == sorted(r["id"] for r in requests_)
    assert [a["id"] for a in answers] != [r["id"] for r in requests_]
    assert {a["status"] for a in answers} == {200}
    assert {a["body"]["id"] for a in answers} == {emulator.tenant.root(drive.id).id}
    assert answers[0]["headers"]["Content-Type"].startswith("application/json")

    too_many = [*requests_, {"id": "20", "method": "GET", "url": "/sites/root"}]
    refused = graph.post(batch_url(emulator), json={"requests": too_many})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalidRequest"


def test_ids_must_be_unique_ignoring_case(emulator, graph):
    twins = [
        {"id": "a", "method": "GET", "url": "/sites/root"},
        {"id": "A", "method": "GET", "url": "/sites/root"},
    ]
    assert graph.post(batch_url(emulator), json={"requests": twins}).status_code == 400
    assert graph.post(batch_url(emulator), json={"nothing": []}).status_code == 400


def test_depends_on_a_failed_request_answers_424(emulator, graph):
    requests_ = [
        {"id": "1", "method": "GET", "url": "/drives/b!nope/root"},
        {"id": "2", "method": "GET", "url": "/sites/root", "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "sites?search=tax"},
        {"id": "4", "method": "GET", "url": "/sites/root", "dependsOn": ["3"]},
    ]
    answers = {
        a["id"]: a
        for a in graph.post(batch_url(emulator), json={"requests": requests_}).json()["responses"]
    }
    assert answers["1"]["status"] == 404
    assert answers["1"]["body"]["error"]["code"] == "itemNotFound"
    assert answers["2"]["status"] == 424
    assert [s["displayName"] for s in answers["3"]["body"]["value"]] == ["Tax"]
    assert answers["4"]["status"] == 200


def test_each_request_is_authorised_on_its_own(emulator):
    drive = documents(emulator)
    guest = next(u for u in emulator.tenant.users.values() if u.user_type == "Guest")
    session = session_for(emulator, user=guest.user_principal_name)
    hidden = next(
        i
        for i in emulator.tenant.iter_items(drive.id)
        if not emulator.tenant.can_open(guest.id, drive.id, i.id)
    )
    requests_ = [
        {"id": "hidden", "method": "GET", "url": f"/drives/{drive.id}/items/{hidden.id}"},
        {"id": "sites", "method": "GET", "url": "/sites"},
    ]
    answers = {
        a["id"]: a["status"]
        for a in session.post(batch_url(emulator), json={"requests": requests_}).json()["responses"]
    }
    assert answers == {"hidden": 404, "sites": 403}
    anonymous = emulator.session().post(batch_url(emulator), json={"requests": requests_})
    assert {a["status"] for a in anonymous.json()["responses"]} == {401}


def test_a_throttled_request_keeps_its_retry_after(fresh_emulator):
    session = session_for(fresh_emulator)
    rule = {"kind": "throttle", "path": "/root/children$", "retry_after": "7", "count": 1}
    added = session.post(f"{fresh_emulator.base_url}/_emulator/faults", json={"rules": [rule]})
    assert added.status_code == 201
    drive = documents(fresh_emulator)
    requests_ = [
        {"id": "children", "method": "GET", "url": f"/drives/{drive.id}/root/children"},
        {"id": "root", "method": "GET", "url": f"/drives/{drive.id}/root"},
    ]
    response = session.post(batch_url(fresh_emulator), json={"requests": requests_})
    assert response.status_code == 200
    answers = {a["id"]: a for a in response.json()["responses"]}
    assert answers["children"]["status"] == 429
    assert answers["children"]["headers"]["Retry-After"] == "7"
    assert answers["children"]["body"]["error"]["code"] == "TooManyRequests"
    assert answers["root"]["status"] == 200
