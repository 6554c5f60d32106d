"""`POST /webhooks/graph`: where Microsoft Graph sends change and lifecycle notifications.

- Validation handshake: `?validationToken=...` is answered at once, 200 text/plain, with the
  token (Flask has already URL-decoded it, as Graph requires), before anything else.
- Notifications `{"value": [...]}`: each one's clientState must match the secret stored with
  its subscription (sync.subscriptions, compared in constant time); matching ones are queued in
  the index in one short transaction and the answer is 202 with no other work (Graph wants an
  answer within 3 s; the scheduler runs the delta rounds). If none matches: 403, so nothing a
  stranger posts is queued. Lifecycle events come to the same URL and are queued alike.
Graph carries no user: the view is public and exempt from CSRF, and it reads nothing of Plaza
but the subscription secrets.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from overlay_app.auth.views import public
from overlay_app.csrf import csrf_exempt
from overlay_app.db import index_location
from overlay_app.errors import BadInput, Forbidden
from sync.subscriptions import accept_notifications

bp = Blueprint("webhooks", __name__)
API_PATHS: dict = {}  # not part of Plaza's API: Graph's contract (PROTOCOL 7)
API_SCHEMAS: dict = {}
MAX_BODY = 1_000_000  # bytes; Graph batches notifications, a few KB each


@bp.post("/webhooks/graph")
@public
@csrf_exempt
def graph_notifications() -> Response:
    token = request.args.get("validationToken")
    if token is not None:
        return Response(token, status=200, content_type="text/plain; charset=utf-8")
    if (request.content_length or 0) > MAX_BODY:
        raise BadInput("The notification body is too large.")
    body = request.get_json(silent=True)
    values = body.get("value") if isinstance(body, dict) else None
    if not isinstance(values, list) or not values:
        raise BadInput('The body must be {"value": [notifications]}.')
    settings = current_app.extensions["plaza.settings"]
    accepted, _refused = accept_notifications(index_location(settings), values)
    if not accepted:
        raise Forbidden("No notification matched its subscription's clientState.")
    return Response(status=202)
