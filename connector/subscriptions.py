"""Graph change-notification subscriptions on library roots (PROTOCOL 7).

Graph POSTs to the notificationUrl when anything in a subscribed drive changes, carrying no
details: the receiver runs delta. Creating one makes Graph send a validation request to the
URL first; an unreachable or wrong endpoint fails the creation (a GraphError with code
`ValidationError`). A subscription lives at most 42,300 minutes for a drive: renew it before
then, or it is gone. Lifecycle events go to the same URL here (the body tells them apart).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import NotFound
from connector.http import GraphHttp

MAX_LIFETIME = timedelta(minutes=42_300)  # driveItem subscriptions
FILES_READ = "Files.Read.All"


@dataclass(frozen=True)
class GraphSubscription:
    id: str
    resource: str
    expires: datetime
    client_state: str | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(raw: dict[str, Any]) -> GraphSubscription:
    expires = datetime.fromisoformat(raw["expirationDateTime"].replace("Z", "+00:00"))
    return GraphSubscription(raw["id"], raw["resource"], expires, raw.get("clientState"))


class Subscriptions:
    """Create, renew, reauthorize and delete subscriptions through the one GraphHttp."""

    def __init__(self, http: GraphHttp) -> None:
        self.http = http

    def create(
        self, drive_id: str, url: str, client_state: str, expires: datetime
    ) -> GraphSubscription:
        body = {
            "changeType": "updated",
            "notificationUrl": url,
            "lifecycleNotificationUrl": url,
            "resource": f"/drives/{drive_id}/root",
            "expirationDateTime": _iso(expires),
            "clientState": client_state,
        }
        answer = self.http.request("POST", "/subscriptions", json=body, needs=FILES_READ)
        return _parse(answer.json())

    def renew(self, subscription_id: str, expires: datetime) -> GraphSubscription:
        answer = self.http.request(
            "PATCH",
            f"/subscriptions/{subscription_id}",
            json={"expirationDateTime": _iso(expires)},
            retry_safe=True,
            needs=FILES_READ,
        )
        return _parse(answer.json())

    def reauthorize(self, subscription_id: str) -> None:
        self.http.request("POST", f"/subscriptions/{subscription_id}/reauthorize", retry_safe=True)

    def live_ids(self) -> set[str]:
        """Ids of the subscriptions Graph holds for this app (every page of GET /subscriptions)."""
        pages = self.http.pages("/subscriptions", needs=FILES_READ)
        return {raw["id"] for page in pages for raw in page.get("value", ()) if raw.get("id")}

    def delete(self, subscription_id: str) -> None:
        """Deletes it; one already gone is fine."""
        with contextlib.suppress(NotFound):
            self.http.request("DELETE", f"/subscriptions/{subscription_id}")
