"""Graph's `/subscriptions` for drive roots, and the control endpoints that drive them in tests.

Graph side (PROTOCOL 7, subscription-post-subscriptions.md): `POST /subscriptions` for
`/drives/{id}/root` (changeType `updated` only; expirationDateTime at most 42,300 minutes
ahead; notificationUrl and lifecycleNotificationUrl validated by a handshake before 201),
`GET /subscriptions[/{id}]`, `PATCH /subscriptions/{id}` (new expirationDateTime; renewing also
reauthorizes), `DELETE /subscriptions/{id}` (204), `POST /subscriptions/{id}/reauthorize` (204).
Callers need Files.* or Sites.* permissions, as for reading the drive.

Control side (`/_emulator/subscriptions`): list with the delivery log, pause deliveries (changes
meanwhile are missed), send a lifecycle event, expire a subscription now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from connector.emulator import tokens
from connector.emulator.graph_files import FILE_ROLES, FILE_SCOPES
from connector.emulator.odata import GraphHTTPError, bad_request
from connector.emulator.subscription_board import Subscription, SubscriptionBoard, is_loopback

bp = Blueprint("graph_subscriptions", __name__, url_prefix="/v1.0")
control_bp = Blueprint("subscriptions_control", __name__, url_prefix="/_emulator/subscriptions")

MAX_MINUTES = 42_300  # driveItem (and SharePoint list) subscriptions
DRIVE_ROOT = re.compile(r"^/?drives/(?P<drive>[^/]+)/root/?$", re.IGNORECASE)
MAX_CLIENT_STATE = 128
VALIDATION_FAILED = (
    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
    "to validation request."
)


def board() -> SubscriptionBoard:
    return current_app.extensions["subscriptions"]


def pump_changes(response: Response) -> Response:
    """After-request hook: a request that may have changed the tenant notifies subscribers."""
    if request.method != "GET" and board().all():
        tenant = current_app.extensions["tenant"]
        with tenant.lock:
            lengths = {drive_id: len(state.journal) for drive_id, state in tenant.drives.items()}
        board().pump(lengths)
    return response


def _caller() -> tokens.Caller:
    caller = tokens.graph_caller()
    tokens.require_permission(caller, FILE_ROLES, FILE_SCOPES, directory=False)
    return caller


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "InvalidRequest")
    return body


def _expiration(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise bad_request("expirationDateTime is required.", "InvalidRequest")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as err:
        raise bad_request(f"Invalid expirationDateTime '{raw}'.", "InvalidRequest") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if moment <= now:
        raise bad_request("Subscription expiration must be in the future.", "ExtensionError")
    if moment > now + timedelta(minutes=MAX_MINUTES):
        raise bad_request(
            f"Subscription expiration can only be {MAX_MINUTES} minutes in the future.",
            "ExtensionError",
        )
    return moment


def _endpoint(body: dict[str, Any], name: str, required: bool) -> str | None:
    url = body.get(name)
    if url is None and not required:
        return None
    scheme = url.split("://", 1)[0].lower() if isinstance(url, str) else ""
    if not (scheme == "https" or (scheme == "http" and is_loopback(url))):  # type: ignore[arg-type]
        raise bad_request(f"The {name} must be an https URL.", "InvalidRequest")
    return url


def _drive_of(resource: Any) -> str:
    match = DRIVE_ROOT.match(resource) if isinstance(resource, str) else None
    if match is None:
        raise bad_request(
            f"Resource '{resource}' is not supported: subscribe to /drives/{{id}}/root.",
            "InvalidRequest",
        )
    drive_id = match["drive"]
    if current_app.extensions["tenant"].drive(drive_id) is None:
        raise GraphHTTPError(404, "itemNotFound", "The resource could not be found.")
    return drive_id


@bp.post("/subscriptions")
def create():
    caller = _caller()
    body = _body()
    if body.get("changeType") != "updated":
        raise bad_request("changeType must be 'updated' for a driveItem.", "InvalidRequest")
    drive_id = _drive_of(body.get("resource"))
    expires = _expiration(body.get("expirationDateTime"))
    notification_url = _endpoint(body, "notificationUrl", required=True)
    lifecycle_url = _endpoint(body, "lifecycleNotificationUrl", required=False)
    client_state = body.get("clientState")
    if client_state is not None and (
        not isinstance(client_state, str) or len(client_state) > MAX_CLIENT_STATE
    ):
        raise bad_request("clientState must be a string of at most 128 characters.")
    for url in filter(None, (notification_url, lifecycle_url)):
        if not board().validate(url):
            raise bad_request(VALIDATION_FAILED, "ValidationError")
    tenant = current_app.extensions["tenant"]
    with tenant.lock:
        seen = len(tenant.drives[drive_id].journal)
    sub = Subscription(
        id=board().new_id(),
        resource=body["resource"],
        drive_id=drive_id,
        change_type="updated",
        notification_url=notification_url,  # type: ignore[arg-type]
        lifecycle_url=lifecycle_url,
        client_state=client_state,
        expires=expires,
        application_id=caller.app_id,
        creator_id=caller.user_id or tokens.service_principal_id(tenant.apps[caller.app_id]),
        seen=seen,
    )
    board().add(sub)
    response = jsonify(sub.as_json())
    response.status_code = 201
    return response


def _own(subscription_id: str) -> Subscription:
    caller = _caller()
    sub = board().get(subscription_id)
    if sub is None or sub.application_id != caller.app_id:
        raise GraphHTTPError(
            404, "ResourceNotFound", f"The object was not found: '{subscription_id}'."
        )
    return sub


@bp.get("/subscriptions")
def list_all():
    caller = _caller()
    mine = [s.as_json() for s in board().all() if s.application_id == caller.app_id]
    for entry in mine:
        entry.pop("@odata.context")
    context = "https://graph.microsoft.com/v1.0/$metadata#subscriptions"
    return jsonify({"@odata.context": context, "value": mine})


@bp.get("/subscriptions/<subscription_id>")
def get_one(subscription_id: str):
    return jsonify(_own(subscription_id).as_json())


@bp.patch("/subscriptions/<subscription_id>")
def renew(subscription_id: str):
    sub = _own(subscription_id)
    sub.expires = _expiration(_body().get("expirationDateTime"))
    sub.needs_reauthorization = False
    return jsonify(sub.as_json())


@bp.delete("/subscriptions/<subscription_id>")
def delete(subscription_id: str):
    board().remove(_own(subscription_id).id)
    return Response(status=204)


@bp.post("/subscriptions/<subscription_id>/reauthorize")
def reauthorize(subscription_id: str):
    _own(subscription_id).needs_reauthorization = False
    return Response(status=204)


# -- control -------------------------------------------------------------------------------


def _control_error(status: int, message: str):
    code = {400: "badRequest", 404: "notFound"}.get(status, "error")
    return jsonify({"error": {"code": code, "message": message}}), status


@control_bp.get("")
def control_list():
    found = board()
    log = found.log
    return jsonify(
        {
            "paused": found.paused,
            "subscriptions": [s.as_json() | {"driveId": s.drive_id} for s in found.all()],
            "delivered": log.delivered,
            "failedAttempts": log.failed_attempts,
            "dropped": log.dropped,
            "missed": log.missed,
            "lifecycle": list(log.lifecycle),
        }
    )


@control_bp.put("/paused")
def control_pause():
    """{"paused": true}: changes from now on are not notified (as if Graph missed them)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("paused"), bool):
        return _control_error(400, 'The body must be {"paused": true|false}.')
    board().paused = body["paused"]
    return jsonify({"paused": board().paused})


@control_bp.post("/<subscription_id>/lifecycle")
def control_lifecycle(subscription_id: str):
    """{"event": "reauthorizationRequired" | "subscriptionRemoved" | "missed"}."""
    sub = board().get(subscription_id)
    if sub is None:
        return _control_error(404, f"No subscription {subscription_id!r}.")
    body = request.get_json(silent=True) or {}
    try:
        board().lifecycle(sub, str(body.get("event", "")))
    except ValueError as err:
        return _control_error(400, str(err))
    return jsonify({"sent": body["event"]})


@control_bp.post("/<subscription_id>/expire")
def control_expire(subscription_id: str):
    """The subscription expires now (it disappears, as at Graph, without any notice)."""
    sub = board().get(subscription_id)
    if sub is None:
        return _control_error(404, f"No subscription {subscription_id!r}.")
    board().remove(sub.id)
    return Response(status=204)
