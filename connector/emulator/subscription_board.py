"""Change-notification subscriptions: what exists, and the deliveries to their endpoints.

Graph (PROTOCOL 7) checks a new subscription's endpoints with a validation POST
(`?validationToken=...`, answer 200 text/plain with the token within 10 s), then POSTs
`{"value": [...]}` to the notificationUrl when the subscribed resource changes (for a drive
root: any change in the drive, with no details: the receiver runs delta), and lifecycle events
(`reauthorizationRequired`, `subscriptionRemoved`, `missed`) to the lifecycleNotificationUrl.
A subscription past its expirationDateTime is gone.

Changes are noticed by `pump`, which the app calls after every request that may have changed
the tenant: a drive whose change journal grew notifies each of its subscriptions once, so a
burst of changes in one request is one notification (Graph batches too). Deliveries run on a
background thread so the change itself is never delayed; an answer other than 2xx, or none
within DELIVERY_TIMEOUT, is retried a few times with backoff (Graph retries for hours).

Trust: endpoints on loopback may be plain HTTP (a local Plaza), and HTTPS on loopback is
verified against the emulator's own CA (`ca_file`), which signs the certificate a local Plaza
is served with in tests; any other host must be HTTPS with a publicly trusted certificate.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger(__name__)

VALIDATION_TIMEOUT = 10.0  # seconds Graph waits for the validation answer
DELIVERY_TIMEOUT = 3.0  # seconds Graph waits for a notification's answer
DELIVERY_RETRIES = 4
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Subscription:
    id: str
    resource: str
    drive_id: str
    change_type: str
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires: datetime
    application_id: str
    creator_id: str
    needs_reauthorization: bool = False
    seen: int = 0  # journal length already notified

    def as_json(self) -> dict[str, Any]:
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": self.change_type,
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": iso(self.expires),
            "creatorId": self.creator_id,
            "includeResourceData": None,
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }


@dataclass
class Delivery:
    url: str
    payload: dict[str, Any]
    attempt: int = 0


@dataclass
class DeliveryLog:
    """What the board sent, for tests and benches."""

    delivered: int = 0
    failed_attempts: int = 0
    dropped: int = 0  # given up after every retry
    missed: int = 0  # changes while deliveries were paused
    lifecycle: list[str] = field(default_factory=list)


class SubscriptionBoard:
    """All subscriptions of the tenant, and the thread that delivers their notifications."""

    def __init__(self, tenant_id: str, ca_file: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.ca_file = ca_file
        self.paused = False  # control: drop change notifications (a "missed" scenario)
        self.log = DeliveryLog()
        self._subscriptions: dict[str, Subscription] = {}
        self._lock = threading.Lock()
        self._outbox: queue.Queue[Delivery] = queue.Queue()
        self._thread: threading.Thread | None = None

    # -- the subscriptions ---------------------------------------------------------------

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions[subscription.id] = subscription

    def get(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            self._drop_expired()
            return self._subscriptions.get(subscription_id)

    def all(self) -> list[Subscription]:
        with self._lock:
            self._drop_expired()
            return list(self._subscriptions.values())

    def remove(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.pop(subscription_id, None)

    def _drop_expired(self) -> None:
        now = datetime.now(UTC)
        for sub_id in [s.id for s in self._subscriptions.values() if s.expires <= now]:
            del self._subscriptions[sub_id]

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    # -- endpoints -----------------------------------------------------------------------

    def verify_for(self, url: str) -> str | bool:
        return self.ca_file if is_loopback(url) and self.ca_file else True

    def validate(self, url: str) -> bool:
        """The validation handshake: 200, text/plain, the token echoed, within 10 s."""
        token = "Validation: Testing client application reachability for subscription Request-Id: "
        token += secrets.token_hex(8)
        try:
            with requests.Session() as session:
                session.trust_env = False
                answer = session.post(
                    url,
                    params={"validationToken": token},
                    headers={"Content-Type": "text/plain; charset=utf-8"},
                    timeout=VALIDATION_TIMEOUT,
                    verify=self.verify_for(url),
                )
        except requests.RequestException as exc:
            log.info("validation of %s failed: %s", url, exc)
            return False
        content_type = answer.headers.get("Content-Type", "")
        return (
            answer.status_code == 200
            and content_type.split(";")[0].strip().lower() == "text/plain"
            and answer.text == token
        )

    # -- change notifications ------------------------------------------------------------

    def pump(self, journal_lengths: dict[str, int]) -> int:
        """Queues one notification per subscription whose drive's journal grew; returns how
        many. `journal_lengths` maps drive ids to their journal length now."""
        queued = 0
        with self._lock:
            self._drop_expired()
            for sub in self._subscriptions.values():
                length = journal_lengths.get(sub.drive_id, sub.seen)
                if length <= sub.seen:
                    continue
                sub.seen = length
                if self.paused or sub.needs_reauthorization:
                    self.log.missed += 1
                    continue
                self._queue(sub.notification_url, self._change(sub))
                queued += 1
        return queued

    def _change(self, sub: Subscription) -> dict[str, Any]:
        return {
            "subscriptionId": sub.id,
            "clientState": sub.client_state,
            "changeType": sub.change_type,
            "resource": sub.resource,
            "subscriptionExpirationDateTime": iso(sub.expires),
            "tenantId": self.tenant_id,
        }

    def lifecycle(self, sub: Subscription, event: str) -> None:
        """Sends a lifecycle event; subscriptionRemoved also removes the subscription."""
        if event not in LIFECYCLE_EVENTS:
            raise ValueError(f"event must be one of {', '.join(LIFECYCLE_EVENTS)}")
        if not sub.lifecycle_url:
            raise ValueError("the subscription has no lifecycleNotificationUrl")
        if event == "subscriptionRemoved":
            self.remove(sub.id)
        elif event == "reauthorizationRequired":
            sub.needs_reauthorization = True
        notice = {
            "subscriptionId": sub.id,
            "subscriptionExpirationDateTime": iso(sub.expires),
            "tenantId": self.tenant_id,
            "clientState": sub.client_state,
            "lifecycleEvent": event,
        }
        self.log.lifecycle.append(event)
        self._queue(sub.lifecycle_url, notice)

    # -- delivery ------------------------------------------------------------------------

    def _queue(self, url: str, notification: dict[str, Any]) -> None:
        self._outbox.put(Delivery(url, {"value": [notification]}))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._deliver_forever, name="emulator:notifications", daemon=True
            )
            self._thread.start()

    def _deliver_forever(self) -> None:
        with requests.Session() as session:
            session.trust_env = False
            while True:
                delivery = self._outbox.get()
                self._deliver(session, self._batch(delivery))

    def _batch(self, first: Delivery) -> Delivery:
        """Notifications for the same URL waiting right now go in one POST, as Graph does."""
        values = list(first.payload["value"])
        held: list[Delivery] = []
        while True:
            try:
                more = self._outbox.get_nowait()
            except queue.Empty:
                break
            if more.url == first.url and more.attempt == first.attempt:
                values.extend(more.payload["value"])
            else:
                held.append(more)
        for delivery in held:
            self._outbox.put(delivery)
        return Delivery(first.url, {"value": values}, first.attempt)

    def _deliver(self, session: requests.Session, delivery: Delivery) -> None:
        try:
            answer = session.post(
                delivery.url,
                json=delivery.payload,
                timeout=DELIVERY_TIMEOUT,
                verify=self.verify_for(delivery.url),
            )
            ok = 200 <= answer.status_code < 300
        except requests.RequestException:
            ok = False
        if ok:
            self.log.delivered += len(delivery.payload["value"])
            return
        self.log.failed_attempts += 1
        if delivery.attempt >= DELIVERY_RETRIES:
            self.log.dropped += len(delivery.payload["value"])
            return
        delivery.attempt += 1
        timer = threading.Timer(0.5 * 2**delivery.attempt, self._outbox.put, (delivery,))
        timer.daemon = True
        timer.start()
