"""GraphHttp against the emulator's faults: throttling, outages, resets, expiry, paging, batch.

Faults are set through the emulator's control API on a fresh tenant per test, with small
Retry-After values so the suite stays fast.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.errors import DeltaExpired, GraphError, NotFound, PermissionMissing, Throttled
from connector.http import BatchRequest, same_service

USERS = r"^/v1\.0/users$"


def add_faults(handle, *rules: dict) -> None:
    answer = handle.session().post(f"{handle.base_url}/_emulator/faults", json={"rules": rules})
    assert answer.status_code == 201, answer.text


def pending_faults(handle) -> list[dict]:
    return handle.session().get(f"{handle.base_url}/_emulator/faults").json()["rules"]


def live_users(handle) -> set[str]:
    return {u.id for u in handle.tenant.users.values() if not u.deleted}


@pytest.mark.parametrize(("retry_after", "at_least"), [("1", 1.0), ("0.3", 0.3), ("date", 0.0)])
def test_throttled_requests_wait_retry_after_then_succeed(
    fresh_emulator, fresh_source, retry_after, at_least
):
    if retry_after == "date":
        retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    add_faults(
        fresh_emulator, {"kind": "throttle", "path": USERS, "retry_after": retry_after, "count": 2}
    )
    started = time.monotonic()
    page = fresh_source.http.get_json("/users")
    elapsed = time.monotonic() - started
    assert {u["id"] for u in page["value"]} <= live_users(fresh_emulator)
    stats = fresh_source.http.stats()
    assert (stats.throttled_waits, stats.retries) == (2, 2)
    assert elapsed >= 2 * at_least
    assert pending_faults(fresh_emulator) == []


def test_unavailable_gateway_timeout_and_reset_are_retried(fresh_emulator, fresh_source):
    add_faults(
        fresh_emulator,
        {"kind": "unavailable", "path": USERS, "retry_after": "0.1"},
        {"kind": "gateway_timeout", "path": USERS},
        {"kind": "reset", "path": USERS},
    )
    fresh_source.http.backoff_base = 0.05  # no Retry-After on 504 and resets: back off briefly
    page = fresh_source.http.get_json("/users")
    assert len(page["value"]) > 0
    assert fresh_source.http.stats().retries == 3
    assert pending_faults(fresh_emulator) == []


def test_throttled_after_every_retry(fresh_emulator, make_source):
    source = make_source(fresh_emulator, PLAZA_MAX_RETRIES="1")
    add_faults(
        fresh_emulator, {"kind": "throttle", "path": USERS, "retry_after": "0.1", "count": 3}
    )
    with pytest.raises(Throttled) as caught:
        source.http.get_json("/users")
    error = caught.value
    assert (error.status, error.code, error.retry_after) == (429, "TooManyRequests", 0.1)
    assert error.message == "Please retry again later."
    assert error.request_id
    assert source.http.stats().requests == 2


def test_non_idempotent_requests_are_not_retried(fresh_emulator, fresh_source):
    add_faults(fresh_emulator, {"kind": "throttle", "path": r"/\$batch$", "retry_after": "0.1"})
    body = {
        "requests": [
            {
                "id": "1",
                "method": "PATCH",
                "url": "/users/x",
                "body": {},
                "headers": {"Content-Type": "application/json"},
            }
        ]
    }
    with pytest.raises(Throttled):
        fresh_source.http.request("POST", "/$batch", json=body)
    assert fresh_source.http.stats().requests == 1


def test_reset_on_a_non_idempotent_request_is_a_connection_error(fresh_emulator, fresh_source):
    add_faults(fresh_emulator, {"kind": "reset", "path": r"/\$batch$"})
    with pytest.raises(GraphError) as caught:
        fresh_source.http.request("POST", "/$batch", json={"requests": []})
    assert (caught.value.status, caught.value.code) == (None, "connectionError")


def test_a_throttled_answer_pauses_every_worker(fresh_emulator, fresh_source):
    add_faults(fresh_emulator, {"kind": "throttle", "path": USERS, "retry_after": "0.8"})
    worker = threading.Thread(target=fresh_source.http.get_json, args=("/users",))
    worker.start()
    deadline = time.monotonic() + 5
    while pending_faults(fresh_emulator) and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    fresh_source.http.get_json("/sites/root")  # another worker, another path: still waits
    waited = time.monotonic() - started
    worker.join()
    assert waited >= 0.5
    assert fresh_source.http.stats().throttled_seconds >= 0.5


def test_expired_token_mid_paging_is_refreshed_once(fresh_emulator, fresh_source):
    """Tokens live 1 s (MSAL never reuses a token this short, so pages 1 and 2 each get one);
    page 2 is held 1.5 s, so it reaches Graph with an expired token: 401
    InvalidAuthenticationToken, one refresh, and paging goes on."""
    add_faults(fresh_emulator, {"kind": "token_lifetime", "seconds": 1, "count": 2})
    pages = fresh_source.http.pages("/users", params={"$top": "7"})
    seen = [u["id"] for u in next(pages)["value"]]
    add_faults(fresh_emulator, {"kind": "slow", "path": USERS, "seconds": 1.5})
    for page in pages:
        seen.extend(u["id"] for u in page["value"])
    assert sorted(seen) == sorted(live_users(fresh_emulator))
    assert fresh_source.http.stats().token_refreshes == 1


def test_paging_follows_next_links_to_the_end(emulator, source):
    pages = list(source.http.pages("/users", params={"$top": "4"}))
    ids = [u["id"] for page in pages for u in page["value"]]
    assert len(pages) == -(-len(live_users(emulator)) // 4)
    assert len(ids) == len(set(ids)) and set(ids) == live_users(emulator)
    assert "@odata.nextLink" not in pages[-1]


def test_expired_delta_token_is_delta_expired_with_location(fresh_emulator, fresh_source):
    drive = next(iter(fresh_emulator.tenant.drives))
    rounds = list(fresh_source.drive_changes(drive))
    delta_link = rounds[-1].delta_link
    answer = fresh_emulator.session().post(f"{fresh_emulator.base_url}/_emulator/delta/expire")
    assert answer.ok
    with pytest.raises(DeltaExpired) as caught:
        list(fresh_source.drive_changes(drive, delta_link))
    error = caught.value
    assert (error.status, error.code) == (410, "resyncRequired")
    assert error.location.startswith(f"{fresh_emulator.base_url}/v1.0/drives/{drive}/root/delta")
    restarted = list(fresh_source.drive_changes(drive, error.location))
    assert sum(len(p.items) for p in restarted) == sum(len(p.items) for p in rounds)


def test_a_saved_link_from_another_graph_is_delta_expired(emulator, source):
    """A deltaLink kept while Plaza used another endpoint (the demo's emulator on its former
    port) is never sent there: the caller gets DeltaExpired and starts a new round."""
    drive = next(iter(emulator.tenant.drives))
    delta_link = list(source.drive_changes(drive))[-1].delta_link
    elsewhere = delta_link.replace(f":{emulator.port}/", ":1/", 1)
    with pytest.raises(DeltaExpired) as caught:
        list(source.drive_changes(drive, elsewhere))
    assert (caught.value.status, caught.value.code) == (None, "foreignLink")
    assert "https://localhost:1" in str(caught.value) and "token" not in str(caught.value)
    for round_ in (source.users_delta, source.groups_delta):
        with pytest.raises(DeltaExpired):
            list(round_("https://localhost:1/v1.0/users/delta?$deltatoken=x"))
    assert list(source.drive_changes(drive, delta_link))[-1].delta_link  # its own still works


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://graph.microsoft.com/v1.0/drives/b!1/root/delta?token=x", True),
        ("https://GRAPH.microsoft.com:443/v1.0/users/delta", True),
        ("https://graph.microsoft.com/v1.0", True),
        ("https://graph.microsoft.com/beta/users/delta", False),
        ("https://graph.microsoft.com/v1.0x/users", False),
        ("https://graph.microsoft.us/v1.0/users/delta", False),
        ("https://graph.microsoft.com:8443/v1.0/users/delta", False),
        ("http://graph.microsoft.com/v1.0/users/delta", False),
        ("https://graph.microsoft.com:x/v1.0/users/delta", False),
        ("/v1.0/users/delta", False),
    ],
)
def test_same_service_compares_scheme_host_port_and_version(url, same):
    assert same_service(url, "https://graph.microsoft.com/v1.0") is same


def test_batch_chunks_of_twenty_with_inner_throttling_and_errors(fresh_emulator, fresh_source):
    users = sorted(live_users(fresh_emulator))
    requests_ = [BatchRequest(f"u{n}", f"/users/{user_id}") for n, user_id in enumerate(users)]
    requests_.append(BatchRequest("missing", "/users/00000000-0000-0000-0000-000000000000"))
    add_faults(
        fresh_emulator,
        {"kind": "throttle", "path": f"/users/{users[0]}$", "retry_after": "0.2", "count": 2},
    )
    answers = fresh_source.http.batch(requests_)
    assert set(answers) == {r.id for r in requests_}
    assert all(answers[f"u{n}"].body["id"] == user_id for n, user_id in enumerate(users))
    assert answers["missing"].status == 404
    with pytest.raises(NotFound):
        answers["missing"].raise_for_error()
    stats = fresh_source.http.stats()
    assert stats.throttled_waits == 2
    assert stats.requests == 2 + 2  # two chunks, then the throttled request twice more


def test_missing_roles_are_permission_missing(fresh_emulator, make_source):
    client_id = fresh_emulator.info["client_id"]
    answer = fresh_emulator.session().put(
        f"{fresh_emulator.base_url}/_emulator/apps/{client_id}/roles", json={"roles": []}
    )
    assert answer.ok, answer.text
    source = make_source(fresh_emulator)
    with pytest.raises(PermissionMissing) as sites:
        list(source.sites())
    with pytest.raises(PermissionMissing) as users:
        list(source.users())
    assert (sites.value.permission, sites.value.kind, sites.value.status) == (
        "Sites.Read.All",
        "application",
        403,
    )
    assert sites.value.code == "accessDenied"
    assert (users.value.permission, users.value.code) == (
        "User.Read.All",
        "Authorization_RequestDenied",
    )


def test_user_agent_and_debug_log(fresh_emulator, fresh_source, caplog):
    seen: list[str] = []

    @fresh_emulator.app.before_request
    def remember_user_agent() -> None:
        from flask import request

        seen.append(request.headers.get("User-Agent", ""))

    caplog.set_level(logging.DEBUG, logger="connector.http")
    fresh_source.http.get_json("/sites/root")
    assert seen[-1].startswith("ISV|Plaza|Plaza/")
    record = caplog.records[-1]
    assert record.getMessage().startswith("GET /v1.0/sites/root -> 200 in ")
    assert "request-id " in record.getMessage()
