"""Feature switches per tenant, checked on the server for every request.

A switched-off feature answers 404 `featureOff` (its pages and API, as if it were not there)
and leaves the OpenAPI document; its data stays untouched and comes back when it is switched
on. "guests_may_post" off answers 403 `guestsMayNotPost` to every write by a guest.
"write_back" has no routes here: the write-back work asks `is_on("write_back")`.
The SQL is admin/store.py's; defaults hold until an admin sets a switch. On PostgreSQL the
switches are held per process until one changes (admin/held.py).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, g, request

from overlay_app import db
from overlay_app.admin import held, store
from overlay_app.chat import access as chat_access
from overlay_app.errors import N_, Forbidden, NotFound, Phrase

# name -> (default, label)
SWITCHES = {
    "chat": (True, N_("Chat (document rooms, channels and direct messages)")),
    "direct_messages": (True, N_("Direct messages")),
    "likes": (True, N_("Likes")),
    "tags": (True, N_("Tags")),
    "guests_may_post": (True, N_("Guests may post")),
    "write_back": (False, N_("Write-back to SharePoint")),
}
# Blueprints (or endpoints) that belong to a switch.
OWNED_BY = {
    # The event stream carries only chat's events (messages, rooms, chat mentions).
    "chat": {
        "chat",
        "chat_pages",
        "realtime",
        "moderation.api_report_message",
        "moderation.report_message",
    },
    "likes": {"likes"},
    "tags": {"tags"},
    "direct_messages": {"chat_pages.start_direct_form"},
}
SWITCHED_OFF = N_("%(feature)s is switched off here.")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GUEST_ALWAYS = {"auth.signout", "notifications.page_mark_read", "notifications.api_mark_read"}


class FeatureOff(NotFound):
    code = "featureOff"


class GuestsMayNotPost(Forbidden):
    code = "guestsMayNotPost"
    default_message = N_("Guests may not post here: an admin has switched it off.")


def states() -> dict[str, bool]:
    """Every switch's state now (once per request)."""
    if "plaza_switches" not in g:
        chosen = held.held().get("switches", lambda: store.switches(db.social()))
        defaults = {name: default for name, (default, _) in SWITCHES.items()}
        g.plaza_switches = {name: chosen.get(name, on) for name, on in defaults.items()}
    return g.plaza_switches


def is_on(name: str) -> bool:
    return states()[name]


def switch_of(endpoint: str) -> str | None:
    blueprint = endpoint.split(".", 1)[0]
    for name, owned in OWNED_BY.items():
        if name != "chat" and endpoint in owned:
            return name
    for name, owned in OWNED_BY.items():
        if endpoint in owned or blueprint in owned:
            return name
    return None


def _check() -> None:
    endpoint = request.endpoint or ""
    if not endpoint or endpoint == "static" or g.get("person") is None:
        return
    name = switch_of(endpoint)
    if name and not is_on(name):
        raise FeatureOff(SWITCHED_OFF, feature=Phrase(SWITCHES[name][1]))
    if is_on("chat") and not is_on("direct_messages") and _is_direct():
        raise FeatureOff(SWITCHED_OFF, feature=Phrase(SWITCHES["direct_messages"][1]))
    person = g.person
    if (person.guest and request.method in STATE_CHANGING and endpoint not in GUEST_ALWAYS
            and not endpoint.startswith("admin.") and not is_on("guests_may_post")):  # fmt: skip
        raise GuestsMayNotPost()


def _is_direct() -> bool:
    """A request about a direct room, or one that would start one."""
    args = request.view_args or {}
    if "room_id" in args:
        room = chat_access.load_room(args["room_id"])
        return room is not None and room.kind == chat_access.DIRECT
    if request.endpoint == "chat.api_create_room":
        body = request.get_json(silent=True)
        return isinstance(body, dict) and body.get("kind") == chat_access.DIRECT
    return False


def trim_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document without the operations of switched-off features."""
    off = {name for name, on in states().items() if not on}
    if not off:
        return document
    for rule in current_app.url_map.iter_rules():
        if switch_of(rule.endpoint) not in off:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        item = document["paths"].get(path)
        if item is None:
            continue
        for method in rule.methods or ():
            item.pop(method.lower(), None)
        if not set(item) - {"parameters", "summary", "description"}:
            del document["paths"][path]
    return document


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.extensions.setdefault("plaza.openapi_trims", []).append(trim_openapi)
    app.add_template_global(is_on, "feature_on")
