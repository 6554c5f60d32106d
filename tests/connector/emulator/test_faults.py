"""Faults on demand over real HTTPS: throttling, outages, resets, slowness, early expiry."""

from __future__ import annotations

import re
import time

import jwt
import pytest
import requests

from connector.emulator import server
from connector.emulator.faults import FaultBoard, FaultRule
from tests.connector.emulator.tenant_calls import session_for

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def add_rules(handle, *rules: dict) -> requests.Response:
    with handle.session() as session:
        return session.post(f"{handle.base_url}/_emulator/faults", json={"rules": list(rules)})


def users_url(handle) -> str:
    return f"{handle.base_url}/v1.0/users"


@pytest.mark.parametrize("retry_after", ["2", "2.128", "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_throttle_answers_429_as_graph_documents(fresh_emulator, retry_after):
    session = session_for(fresh_emulator)
    rule = {"kind": "throttle", "path": "^/v1.0/users$", "retry_after": retry_after}
    assert add_rules(fresh_emulator, rule).status_code == 201
    throttled = session.get(users_url(fresh_emulator))
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == retry_after
    body = throttled.json()
    inner = body["error"]["innerError"]
    assert DATE.match(inner["date"])
    assert inner["request-id"] == throttled.headers["request-id"]
    assert body == {
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": inner["date"],
                "message": "Please retry after",
                "request-id": inner["request-id"],
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    }
    assert list(body["error"]) == ["code", "innerError", "message"]
    app_id, tenant_id = fresh_emulator.info["client_id"], fresh_emulator.tenant.tenant_id
    assert throttled.headers["x-ms-throttle-scope"] == (
        f"Tenant_Application/ReadWrite/{app_id}/{tenant_id}"
    )
    assert throttled.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert session.get(users_url(fresh_emulator)).status_code == 200  # count defaults to 1


def test_unavailable_and_gateway_timeout(fresh_emulator):
    session = session_for(fresh_emulator)
    add_rules(
        fresh_emulator,
        {"kind": "unavailable", "path": "/users", "retry_after": "3"},
        {"kind": "gateway_timeout", "path": "/groups"},
    )
    unavailable = session.get(users_url(fresh_emulator))
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "3")
    assert unavailable.json()["error"]["code"] == "serviceNotAvailable"
    timeout = session.get(f"{fresh_emulator.base_url}/v1.0/groups")
    assert timeout.status_code == 504
    assert timeout.json()["error"]["code"] == "gatewayTimeout"
    assert "Retry-After" not in timeout.headers


def test_reset_drops_the_connection_without_a_response(fresh_emulator):
    session = session_for(fresh_emulator)
    add_rules(fresh_emulator, {"kind": "reset", "path": "/users"})
    with pytest.raises(requests.ConnectionError):
        session.get(users_url(fresh_emulator))
    assert session.get(users_url(fresh_emulator)).status_code == 200


def test_slow_adds_at_least_the_delay(fresh_emulator):
    session = session_for(fresh_emulator)
    add_rules(fresh_emulator, {"kind": "slow", "path": "/users", "seconds": 0.4})
    started = time.monotonic()
    assert session.get(users_url(fresh_emulator)).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_expire_delta_makes_the_next_delta_call_410(fresh_emulator):
    session = session_for(fresh_emulator)
    drive = next(iter(fresh_emulator.tenant.drives))
    url = f"{fresh_emulator.base_url}/v1.0/drives/{drive}/root/delta"
    body = session.get(url, params={"token": "latest"}).json()
    delta_link = body["@odata.deltaLink"]
    assert session.get(delta_link).status_code == 200
    add_rules(fresh_emulator, {"kind": "expire_delta", "path": "/delta"})
    expired = session.get(delta_link)
    assert expired.status_code == 410
    assert fresh_emulator.tenant.delta_epoch == 1


def test_token_lifetime_shortens_the_next_token(fresh_emulator):
    add_rules(fresh_emulator, {"kind": "token_lifetime", "seconds": 2})
    short = jwt.decode(fresh_emulator.token("graph"), options={"verify_signature": False})
    normal = jwt.decode(fresh_emulator.token("graph"), options={"verify_signature": False})
    assert short["exp"] - short["iat"] == 2
    assert normal["exp"] - normal["iat"] == 3599


def test_sharepoint_paths_and_method_filter(fresh_emulator):
    token = fresh_emulator.token("sharepoint", certificate=True)
    session = fresh_emulator.session()
    session.headers["Authorization"] = f"Bearer {token}"
    url = f"{fresh_emulator.base_url}/sites/intranet/_api/web"
    add_rules(fresh_emulator, {"kind": "throttle", "path": "/_api/", "method": "post"})
    assert session.get(url).status_code == 200
    throttled = session.post(f"{fresh_emulator.base_url}/sites/intranet/_api/contextinfo")
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "1")
    assert "x-ms-throttle-scope" not in throttled.headers  # a directory API header only


def test_sharepoint_sends_whole_seconds_in_retry_after(fresh_emulator):
    token = fresh_emulator.token("sharepoint", certificate=True)
    session = fresh_emulator.session()
    session.headers["Authorization"] = f"Bearer {token}"
    add_rules(
        fresh_emulator,
        {"kind": "throttle", "path": "/_api/web$", "retry_after": "0.25"},
        {"kind": "unavailable", "path": "/_api/web$", "retry_after": "2.128"},
        {"kind": "throttle", "path": "^/v1.0/users$", "retry_after": "2.128"},
    )
    web = f"{fresh_emulator.base_url}/sites/intranet/_api/web"
    throttled, unavailable = session.get(web), session.get(web)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "1")
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "3")
    with session_for(fresh_emulator) as graph:
        documented = graph.get(users_url(fresh_emulator))  # Graph's own example is fractional
    assert (documented.status_code, documented.headers["Retry-After"]) == (429, "2.128")


def test_control_api_is_never_faulted_and_rules_can_be_cleared(fresh_emulator):
    session = session_for(fresh_emulator)
    add_rules(fresh_emulator, {"kind": "throttle", "count": -1}, {"kind": "slow", "count": 2})
    control = fresh_emulator.session()
    listed = control.get(f"{fresh_emulator.base_url}/_emulator/faults")
    assert listed.status_code == 200
    assert [(r["kind"], r["count"]) for r in listed.json()["rules"]] == [
        ("throttle", -1),
        ("slow", 2),
    ]
    for _ in range(3):
        assert session.get(users_url(fresh_emulator)).status_code == 429
    cleared = control.delete(f"{fresh_emulator.base_url}/_emulator/faults")
    assert cleared.json() == {"profile": "none", "rules": []}
    assert session.get(users_url(fresh_emulator)).status_code == 200


def test_bad_rules_are_refused_with_the_reason(fresh_emulator):
    cases = {
        "meltdown": {"kind": "meltdown"},
        "'count'": {"kind": "throttle", "count": 0},
        "'path'": {"kind": "throttle", "path": "("},
        "'retry_after'": {"kind": "throttle", "retry_after": "soon"},
        "Unknown rule field": {"kind": "throttle", "colour": "red"},
    }
    for words, rule in cases.items():
        refused = add_rules(fresh_emulator, rule)
        assert refused.status_code == 400
        assert words in refused.json()["error"]["message"]
    assert fresh_emulator.app.extensions["faults"].rules() == []


def test_throttled_profile_hits_every_tenth_graph_request(emulator_state):
    handle = server.start(seed=3, state_dir=emulator_state, fault_profile="throttled")
    try:
        session = session_for(handle)
        statuses = [session.get(users_url(handle)).status_code for _ in range(20)]
    finally:
        handle.stop()
    assert [i for i, status in enumerate(statuses, start=1) if status == 429] == [10, 20]


def test_flaky_profile_is_a_fixed_sequence():
    first, second = FaultBoard("flaky:5"), FaultBoard("flaky:5")
    runs = [
        [board.next_fault("/v1.0/users", "GET") for _ in range(2000)] for board in (first, second)
    ]
    kinds = [[r.kind if r else None for r in run] for run in runs]
    assert kinds[0] == kinds[1]
    throttles = [r for r in runs[0] if r and r.kind == "throttle"]
    assert 60 <= len(throttles) <= 140  # about 5%
    assert 5 <= kinds[0].count("unavailable") <= 40  # about 1%
    assert all("." in r.retry_after and 0.1 <= float(r.retry_after) <= 1.5 for r in throttles)
    assert FaultBoard("flaky").next_fault("/_emulator/state", "GET") is None


def test_rules_count_down_and_profiles_are_checked():
    board = FaultBoard()
    board.add([FaultRule("throttle", path="/a", count=2)])
    assert [bool(board.next_fault("/a", "GET")) for _ in range(3)] == [True, True, False]
    with pytest.raises(ValueError):
        FaultBoard("chaos")
