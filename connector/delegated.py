"""Graph calls made with a person's own delegated token (not the app's), for live access checks.

The overlay trims by the synced index, then confirms high-risk reads (opening a document page)
with the person's token: Graph answers an item the user cannot open exactly like a missing
one (404 itemNotFound; some tenants say 403 accessDenied), so "reachable" means "may open it
right now", whatever the index says. Only this module sends those requests, through a
connector.session Transport: the same session factory and retry decision as every other call,
with few, short waits, because a person is waiting for the page.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from connector.error_mapping import error_from_response
from connector.session import (
    PERSON_WAITING_MAX_WAIT,
    PERSON_WAITING_RETRIES,
    Transport,
    connection_error,
    new_session,
)

DENIED_STATUSES = frozenset({403, 404})


class DelegatedSession:
    """Where delegated calls go: one per process, shared between threads.

    `transport` may be shared with other clients, which then pause and are counted together.
    """

    def __init__(
        self, ca_bundle: str = "", timeout: float = 10.0, transport: Transport | None = None
    ) -> None:
        self.transport = transport or Transport(
            new_session(ca_bundle, timeout),
            max_retries=PERSON_WAITING_RETRIES,
            max_wait=PERSON_WAITING_MAX_WAIT,
        )


def item_reachable(
    session: DelegatedSession, graph_url: str, token: str, drive_id: str, item_id: str
) -> bool:
    """Whether the token's user can open the item now: True on 2xx, False on 403/404.

    Any other answer (401 for an expired token, throttling that outlasts the retries, an
    outage) raises a ConnectorError subclass, so callers can tell "denied" apart from
    "could not ask".
    """
    url = f"{graph_url.rstrip('/')}/drives/{_segment(drive_id)}/items/{_segment(item_id)}"
    try:
        response = session.transport.send(
            "GET",
            url,
            params={"$select": "id"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            retryable=True,
        )
    except requests.RequestException as exc:  # not only resets: the check must not crash
        raise connection_error("GET", url, exc) from exc
    if response.status_code in DENIED_STATUSES:
        return False
    if response.status_code >= 400:
        raise error_from_response(response)
    return True


def _segment(value: str) -> str:
    # Drive ids look like "b!AbC-_..."; keep "!" readable, escape anything that breaks a path.
    return quote(value, safe="!")
