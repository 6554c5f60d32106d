"""connector.session: one session factory and one retry decision for every call to Microsoft.

SharePoint REST (under office365) and Graph calls with a person's token share a Transport with
Graph's app-only calls here, against the emulator's faults over HTTPS.
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pytest

from connector.delegated import DelegatedSession, item_reachable
from connector.errors import Throttled
from connector.graph import GraphSource
from connector.http import GraphHttp
from connector.session import HttpStats, retry_wait
from connector.sharepoint import SITE_PAGES, SharePointComments
from tests.connector.test_http import add_faults, pending_faults
from tests.connector.test_sharepoint import a_site_with_comments

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ROOT / "connector" / "session.py"
RUNTIME_PACKAGES = ("connector", "sync", "overlay_app", "plaza")
REQUESTS_SENDERS = {"Session", "session", "get", "post", "put", "patch", "delete", "head"}
REQUESTS_SENDERS |= {"options", "request"}


def a_document(source: GraphSource) -> tuple[str, str]:
    """(drive id, item id) of a file in a site other than the root."""
    for site in source.sites():
        for drive in source.drives(site.id):
            for page in source.drive_changes(drive.id):
                for item in page.items:
                    if item.is_file:
                        return drive.id, item.id
    raise AssertionError("the emulator has no file")


def since(before: HttpStats, after: HttpStats) -> tuple[int, int, int]:
    """(requests, retries, throttled waits) between two snapshots."""
    return (
        after.requests - before.requests,
        after.retries - before.retries,
        after.throttled_waits - before.throttled_waits,
    )


def test_sharepoint_and_delegated_429s_share_one_decision_and_stats(fresh_emulator, make_settings):
    settings = make_settings(fresh_emulator, "thumbprint")
    graph = GraphHttp(settings)
    comments = SharePointComments(settings, graph.tokens, graph.transport)
    delegated = DelegatedSession(transport=graph.transport)
    site_url, page_id = a_site_with_comments(fresh_emulator)
    drive_id, item_id = a_document(GraphSource(graph))
    person_token = fresh_emulator.token("graph", user=fresh_emulator.info["users"][0])
    graph_url = settings.graph_url
    expected = (
        comments.page_comments(site_url, page_id),
        item_reachable(delegated, graph_url, person_token, drive_id, item_id),
    )
    item_path = rf"/items/{re.escape(item_id)}$"
    add_faults(
        fresh_emulator,
        {"kind": "throttle", "path": "/comments$", "retry_after": "1", "count": 1},
        {"kind": "throttle", "path": item_path, "retry_after": "1", "count": 1},
    )
    before = graph.stats()
    answers = (
        comments.page_comments(site_url, page_id),
        item_reachable(delegated, graph_url, person_token, drive_id, item_id),
    )
    assert answers == expected
    assert since(before, graph.stats()) == (4, 2, 2)
    assert pending_faults(fresh_emulator) == []

    # The decision is the transport's: with no retries left, both answers stand.
    graph.transport.max_retries = 0
    add_faults(
        fresh_emulator,
        {"kind": "throttle", "path": "/comments$", "retry_after": "1", "count": 1},
        {"kind": "throttle", "path": item_path, "retry_after": "1", "count": 1},
    )
    with pytest.raises(Throttled) as sharepoint_refusal:
        comments.comments(site_url, SITE_PAGES, page_id)
    with pytest.raises(Throttled) as graph_refusal:
        item_reachable(delegated, graph_url, person_token, drive_id, item_id)
    assert (sharepoint_refusal.value.status, sharepoint_refusal.value.retry_after) == (429, 1.0)
    assert (graph_refusal.value.status, graph_refusal.value.retry_after) == (429, 1.0)


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "wait"),
    [
        (429, "2", 0, 2.0),
        (503, "0.25", 2, 0.25),
        (504, "7", 2, None),  # longer than max_wait
        (429, "1", 3, None),  # no retries left
        (404, "1", 0, None),  # not throttling: the answer stands
        (500, None, 0, None),
    ],
)
def test_retry_wait(status, retry_after, attempt, wait):
    assert retry_wait(status, retry_after, attempt, max_retries=3, max_wait=5.0) == wait


def test_backoff_without_retry_after_and_after_connection_failures():
    waits = [retry_wait(s, None, 2, max_retries=3, base=0.5) for s in (429, None) * 50]
    assert all(w is not None and 0.0 <= w <= 2.0 for w in waits)


def test_a_person_is_not_kept_waiting_for_a_long_retry_after(fresh_emulator, make_source):
    """The live access check retries briefly: a Retry-After of 30 s is answered at once."""
    source = make_source(fresh_emulator)
    drive_id, item_id = a_document(source)
    delegated = DelegatedSession(fresh_emulator.info["ca_file"])
    token = fresh_emulator.token("graph", user=fresh_emulator.info["users"][0])
    item_path = rf"/items/{re.escape(item_id)}$"
    add_faults(fresh_emulator, {"kind": "throttle", "path": item_path, "retry_after": "30"})
    started = time.monotonic()
    with pytest.raises(Throttled) as refusal:
        item_reachable(delegated, source.http.settings.graph_url, token, drive_id, item_id)
    assert time.monotonic() - started < 5
    assert refusal.value.retry_after == 30.0
    assert delegated.transport.stats() == HttpStats(requests=1)


def session_builders(path: Path) -> list[str]:
    """Where a module makes its own HTTP session or sends without one: calls and subclasses
    of requests' Session, requests.get/post/..., office365's with_transport (its own
    session), and an MSAL app without our `http_client` (MSAL would make a session)."""
    tree = ast.parse(path.read_text(), str(path))
    from_requests = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "requests"
        for alias in node.names
        if alias.name in REQUESTS_SENDERS
    }
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Call):
            targets = [node.func]
            name = ast.unparse(node.func)
            if name.endswith("ClientApplication") and "http_client" not in {
                k.arg for k in node.keywords
            }:
                found.append(f"{path.name}:{node.lineno} {name} without http_client")
            if name.endswith(".with_transport"):
                found.append(f"{path.name}:{node.lineno} {name}")
        elif isinstance(node, ast.ClassDef):
            targets = node.bases
        for target in targets:
            name = ast.unparse(target)
            if name in from_requests or (
                name.startswith("requests.") and name.split(".")[-1] in REQUESTS_SENDERS
            ):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def runtime_modules() -> list[Path]:
    emulator = ROOT / "connector" / "emulator"
    return [
        path
        for package in RUNTIME_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if emulator not in path.parents
    ]


def test_only_the_factory_builds_sessions():
    assert session_builders(FACTORY) != []  # the check sees the factory's own session
    offenders = [
        found for path in runtime_modules() if path != FACTORY for found in session_builders(path)
    ]
    assert offenders == []
