"""Graph change-notification subscriptions on a drive root, as the emulator serves them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.connector.emulator.receiver import Receiver
from tests.connector.emulator.tenant_calls import documents, session_for


@pytest.fixture
def receiver(fresh_emulator) -> Iterator[Receiver]:
    found = Receiver(fresh_emulator.certificates)
    yield found
    found.stop()


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def subscribe(handle, url: str, **extra):
    drive = documents(handle)
    body = {
        "changeType": "updated",
        "notificationUrl": url,
        "lifecycleNotificationUrl": url,
        "resource": f"/drives/{drive.id}/root",
        "expirationDateTime": in_minutes(60),
        "clientState": "s3cret",
        **extra,
    }
    with session_for(handle) as graph:
        return graph.post(f"{handle.base_url}/v1.0/subscriptions", json=body, timeout=30)


def control(handle, method: str, path: str, body=None):
    with handle.session() as session:
        return session.request(method, f"{handle.base_url}/_emulator{path}", json=body, timeout=30)


def test_create_validates_then_notifies_each_change(fresh_emulator, receiver):
    created = subscribe(fresh_emulator, receiver.url)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert receiver.validations == 2  # notificationUrl and lifecycleNotificationUrl
    assert sub["changeType"] == "updated" and sub["clientState"] == "s3cret"
    drive = documents(fresh_emulator)
    root = fresh_emulator.tenant.root(drive.id)
    user = next(u for u in fresh_emulator.tenant.users.values() if u.account_enabled)
    added = control(
        fresh_emulator,
        "POST",
        "/items",
        {"drive_id": drive.id, "parent_id": root.id, "name": "New.docx", "by": user.id},
    )
    assert added.status_code == 201
    (note,) = receiver.wait(1)
    assert note == {
        "subscriptionId": sub["id"],
        "clientState": "s3cret",
        "changeType": "updated",
        "resource": f"/drives/{drive.id}/root",
        "subscriptionExpirationDateTime": sub["expirationDateTime"],
        "tenantId": fresh_emulator.tenant.tenant_id,
    }


def test_a_refused_handshake_creates_nothing(fresh_emulator):
    refusing = Receiver(fresh_emulator.certificates, echo=False)
    try:
        created = subscribe(fresh_emulator, refusing.url)
    finally:
        refusing.stop()
    assert created.status_code == 400
    assert created.json()["error"]["code"] == "ValidationError"
    with session_for(fresh_emulator) as graph:
        listed = graph.get(f"{fresh_emulator.base_url}/v1.0/subscriptions", timeout=30).json()
    assert listed["value"] == []


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        # A lifetime, not a date: the date is taken when the test runs, not when it is collected.
        ({"expirationDateTime": 42_300 + 10}, "ExtensionError"),
        ({"changeType": "created"}, "InvalidRequest"),
        ({"notificationUrl": "http://plaza.example.com/hook"}, "InvalidRequest"),
        ({"resource": "/sites/root/lists"}, "InvalidRequest"),
    ],
)
def test_requests_graph_refuses(fresh_emulator, receiver, extra, code):
    if "expirationDateTime" in extra:
        extra = {"expirationDateTime": in_minutes(extra["expirationDateTime"])}
    created = subscribe(fresh_emulator, receiver.url, **extra)
    assert (created.status_code, created.json()["error"]["code"]) == (400, code)


def test_renew_delete_and_lifecycle_events(fresh_emulator, receiver):
    sub = subscribe(fresh_emulator, receiver.url).json()
    url = f"{fresh_emulator.base_url}/v1.0/subscriptions/{sub['id']}"
    later = in_minutes(2_000)
    with session_for(fresh_emulator) as graph:
        renewed = graph.patch(url, json={"expirationDateTime": later}, timeout=30)
        assert renewed.json()["expirationDateTime"].startswith(later[:-1])
        sent = control(fresh_emulator, "POST", f"/subscriptions/{sub['id']}/lifecycle",
                       {"event": "reauthorizationRequired"})  # fmt: skip
        assert sent.status_code == 200
        (event,) = receiver.wait(1)
        assert event["lifecycleEvent"] == "reauthorizationRequired"
        assert graph.post(url + "/reauthorize", timeout=30).status_code == 204
        assert graph.delete(url, timeout=30).status_code == 204
        assert graph.get(url, timeout=30).status_code == 404


def test_paused_deliveries_are_missed(fresh_emulator, receiver):
    subscribe(fresh_emulator, receiver.url)
    drive = documents(fresh_emulator)
    item = next(i for i in fresh_emulator.tenant.iter_items(drive.id) if not i.folder)
    assert control(fresh_emulator, "PUT", "/subscriptions/paused", {"paused": True}).ok
    control(fresh_emulator, "PATCH", f"/items/{drive.id}/{item.id}", {"name": "Renamed.docx"})
    state = control(fresh_emulator, "GET", "/subscriptions").json()
    assert (state["missed"], state["delivered"]) == (1, 0)
