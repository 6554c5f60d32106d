"""SharePoint's per-app resource-unit budget: RateLimit headers from 80%, then 429."""

from __future__ import annotations

from tests.connector.emulator.tenant_calls import documents, session_for


def set_budget(handle, per_minute: int | None) -> dict:
    with handle.session() as session:
        answer = session.put(
            f"{handle.base_url}/_emulator/budget",
            json={"perMinute": per_minute, "reset": True},
            timeout=30,
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_headers_from_eighty_percent_then_429(fresh_emulator):
    set_budget(fresh_emulator, 10)
    drive = documents(fresh_emulator)
    item = next(i for i in fresh_emulator.tenant.iter_items(drive.id) if not i.folder)
    url = f"{fresh_emulator.base_url}/v1.0/drives/{drive.id}/items/{item.id}"
    seen = []
    with session_for(fresh_emulator) as graph:
        for _ in range(11):  # 1 unit each
            answer = graph.get(url, timeout=30)
            seen.append((answer.status_code, answer.headers.get("RateLimit-Remaining")))
        refused = answer
    assert seen == [
        *[(200, None)] * 7,
        (200, "2"),
        (200, "1"),
        (200, "0"),
        (429, "0"),
    ]
    assert refused.headers["RateLimit-Limit"] == "10"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert refused.json()["error"]["code"] == "TooManyRequests"


def test_permissions_cost_five_and_are_counted_per_app(fresh_emulator):
    set_budget(fresh_emulator, 1_000)
    drive = documents(fresh_emulator)
    item = next(i for i in fresh_emulator.tenant.iter_items(drive.id) if not i.folder)
    base = f"{fresh_emulator.base_url}/v1.0/drives/{drive.id}"
    with session_for(fresh_emulator) as graph:
        graph.get(f"{base}/items/{item.id}/permissions", timeout=30)
        graph.get(f"{base}/root/delta", timeout=30)  # first page, no token: 2
        graph.get(f"{base}/items/{item.id}", timeout=30)
    with fresh_emulator.session() as session:
        apps = session.get(f"{fresh_emulator.base_url}/_emulator/budget", timeout=30).json()
    (usage,) = apps["apps"].values()
    assert usage == {
        "used_last_minute": 8,
        "total_units": 8,
        "total_requests": 3,
        "throttled": 0,
        "peak_window_units": 8,
    }


def test_a_batch_is_charged_request_by_request(fresh_emulator):
    set_budget(fresh_emulator, 1_000)
    drive = documents(fresh_emulator)
    items = [i for i in fresh_emulator.tenant.iter_items(drive.id) if not i.folder][:2]
    batch = {
        "requests": [
            {"id": str(n), "method": "GET", "url": f"/drives/{drive.id}/items/{i.id}/permissions"}
            for n, i in enumerate(items)
        ]
    }
    with session_for(fresh_emulator) as graph:
        answer = graph.post(f"{fresh_emulator.base_url}/v1.0/$batch", json=batch, timeout=30)
    assert answer.status_code == 200
    costs = sorted(r["headers"]["x-ms-resource-unit"] for r in answer.json()["responses"])
    assert costs == ["5", "5"]
    with fresh_emulator.session() as session:
        apps = session.get(f"{fresh_emulator.base_url}/_emulator/budget", timeout=30).json()
    (usage,) = apps["apps"].values()
    assert (usage["total_units"], usage["total_requests"]) == (10, 2)
