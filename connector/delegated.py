"""Graph calls made with a person's own delegated token (not the app's), for live access checks.

The overlay trims by the synced index, then confirms high-risk reads (opening a document page)
with the person's token: Graph answers an item the user cannot open exactly like a missing
one (404 itemNotFound; some tenants say 403 accessDenied), so "reachable" means "may open it
right now", whatever the index says. Only this module sends those requests, through a session
that trusts exactly the configured CA bundle (as connector.auth.trusted_session does).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import requests

from connector.error_mapping import error_from_response
from connector.errors import GraphError

log = logging.getLogger("connector.delegated")

DENIED_STATUSES = frozenset({403, 404})


class DelegatedSession(requests.Session):
    """Every request gets a timeout; with `ca_bundle` set, the environment cannot override it."""

    def __init__(self, ca_bundle: str = "", timeout: float = 10.0) -> None:
        super().__init__()
        self.timeout = timeout
        if ca_bundle:
            self.trust_env = False
            self.verify = ca_bundle

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def item_reachable(
    session: requests.Session, graph_url: str, token: str, drive_id: str, item_id: str
) -> bool:
    """Whether the token's user can open the item now: True on 2xx, False on 403/404.

    Any other answer (401 for an expired token, throttling, an outage) raises a ConnectorError
    subclass, so callers can tell "denied" apart from "could not ask".
    """
    url = f"{graph_url.rstrip('/')}/drives/{_segment(drive_id)}/items/{_segment(item_id)}"
    started = time.monotonic()
    try:
        response = session.get(
            url,
            params={"$select": "id"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise GraphError(f"GET item failed: {type(exc).__name__}", code="connectionError") from exc
    log.debug(
        "delegated GET item -> %d in %d ms request-id %s",
        response.status_code,
        (time.monotonic() - started) * 1000,
        response.headers.get("request-id", "-"),
    )
    if response.status_code in DENIED_STATUSES:
        return False
    if response.status_code >= 400:
        raise error_from_response(response)
    return True


def _segment(value: str) -> str:
    # Drive ids look like "b!AbC-_..."; keep "!" readable, escape anything that breaks a path.
    return quote(value, safe="!")
