"""The chat API under /api/v1: rooms, messages (list, send, edit, delete), read markers,
members and search. The event stream (/api/v1/events) lives in realtime.py.

Views only parse the request and shape the answer: chat_access decides who sees a room,
chat_actions and chat_room_actions write (check_* then do_*, one transaction with the events),
chat_reads reads. A room one may not see answers 404 exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from overlay_app.chat import access as chat_access
from overlay_app.chat import actions as chat_actions
from overlay_app.chat import openapi as chat_openapi
from overlay_app.chat import reads as chat_reads
from overlay_app.chat import room_actions as chat_room_actions
from overlay_app.chat.access import Room
from overlay_app.chat.actions import Outcome
from overlay_app.errors import BadInput
from overlay_app.identity import require_person
from overlay_app.rate_limits import check_read_rate

bp = Blueprint("chat", __name__)
API_PATHS = chat_openapi.CHAT_PATHS
API_SCHEMAS = chat_openapi.API_SCHEMAS


def _int_arg(name: str, low: int, high: int, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput(
            "%(name)s must be a whole number from %(low)s to %(high)s.",
            name=name,
            low=low,
            high=high,
        )
    return int(raw)


def _message_arg(room: Room, name: str) -> int | None:
    """`before` / `after`: the id of one of the room's messages (`after` may be 0: from the
    start), as the rowid history pages from."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if name == "after" and raw == "0":
        return 0
    place = chat_reads.place_in(room, raw) if len(raw) <= chat_actions.MAX_ID_CHARS else None
    if place is None:
        raise BadInput(
            "%(name)s must be the id of a message in this room, got %(given)s.",
            name=name,
            given=repr(raw[:40]),
        )
    return place


def _body_field(name: str) -> Any:
    """One field of the JSON request body; None when it is missing or the body is not a JSON
    object (the action then says what is wrong)."""
    payload = request.get_json(silent=True)
    return payload.get(name) if isinstance(payload, dict) else None


def _created(outcome: Outcome, location: str):
    response = jsonify(outcome.payload)
    response.status_code = outcome.status
    response.headers["Location"] = location
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# --- rooms ----------------------------------------------------------------------------------


@bp.get("/api/v1/rooms")
def api_rooms():
    person = require_person()
    mine = chat_reads.rooms_json(person, chat_access.my_rooms(person))
    joinable = [
        {**chat_reads.room_json(room), "title": room.name}
        for room in chat_access.open_channels(person)
    ]
    return jsonify({"rooms": mine, "openChannels": joinable})


@bp.post("/api/v1/rooms")
def api_create_room():
    outcome = chat_room_actions.create_room(require_person(), request.get_json(silent=True))
    return _created(outcome, f"/api/v1/rooms/{outcome.payload['id']}")


@bp.get("/api/v1/rooms/<room_id>")
def api_room(room_id: str):
    person = require_person()
    return jsonify(chat_room_actions.answer(person, chat_access.access_room(person, room_id)))


@bp.post("/api/v1/documents/<drive_id>/<item_id>/room")
def api_document_room(drive_id: str, item_id: str):
    outcome = chat_room_actions.open_document_room(require_person(), drive_id, item_id)
    return _created(outcome, f"/api/v1/rooms/{outcome.payload['id']}")


@bp.post("/api/v1/rooms/<room_id>/members")
def api_add_member(room_id: str):
    person = require_person()
    return jsonify(chat_room_actions.add_member(person, room_id, request.get_json(silent=True)))


@bp.delete("/api/v1/rooms/<room_id>/members")
def api_remove_member(room_id: str):
    person = require_person()
    target: Any = request.args.get("person_id")
    if target is None:  # also accepted in a JSON body, for clients that send one
        target = _body_field("person_id")
    chat_room_actions.remove_member(person, room_id, target)
    return "", 204


@bp.put("/api/v1/rooms/<room_id>/read")
def api_mark_read(room_id: str):
    person = require_person()
    return jsonify(chat_actions.mark_read(person, room_id, _body_field("last_read_id")))


# --- messages -------------------------------------------------------------------------------


@bp.get("/api/v1/rooms/<room_id>/messages")
def api_messages(room_id: str):
    person = require_person()
    room = chat_access.access_room(person, room_id)
    before, after = _message_arg(room, "before"), _message_arg(room, "after")
    limit = _int_arg("limit", 1, chat_reads.MAX_PAGE, chat_reads.DEFAULT_PAGE)
    assert limit is not None
    return jsonify(chat_reads.history(room, before, after, limit))


@bp.post("/api/v1/rooms/<room_id>/messages")
def api_send(room_id: str):
    outcome = chat_actions.send_message(
        require_person(),
        room_id,
        request.get_json(silent=True),
        request.headers.get("Idempotency-Key"),
    )
    return _created(outcome, f"/api/v1/rooms/{room_id}/messages")


@bp.patch("/api/v1/messages/<message_id>")
def api_edit(message_id: str):
    person = require_person()
    return jsonify(chat_actions.edit_message(person, message_id, _body_field("body")))


@bp.delete("/api/v1/messages/<message_id>")
def api_delete(message_id: str):
    chat_actions.delete_message(require_person(), message_id)
    return "", 204


@bp.get("/api/v1/chat/search")
def api_search():
    person = require_person()
    room_id = request.args.get("room_id")
    room = chat_access.access_room(person, room_id) if room_id is not None else None
    text = request.args.get("q", "")
    if not text.strip():
        raise BadInput("Give q: the words to look for.")
    check_read_rate(person, "search")
    limit = _int_arg("limit", 1, chat_reads.MAX_HITS, chat_reads.DEFAULT_HITS)
    assert limit is not None
    return jsonify({"messages": chat_reads.search(person, text, room, limit)})
