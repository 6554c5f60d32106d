"""The chat pages: /chat (my rooms with unread counts, channels to join, start a conversation),
/chat/<room_id> (one room), and the chat panel of the document page.

Every page works without JavaScript: history is rendered here, forms post to page URLs (CSRF,
then a 303 back: PRG) and a refused write comes back as a flashed message. static/chat.js adds
the live stream, the offline outbox and unread badges on top, through /api/v1.

Nothing here decides who sees what: rooms come from chat_access (access_room, my_rooms,
open_channels), writes go through chat_actions / chat_room_actions (check_* then do_*), and the
document panel is only rendered on a page that already passed access.require_document. A
document room's own page names the document, so it is confirmed live as the document's page is.

Contract with the document page: document.html includes `_chat_panel.html`, which calls the
template global `chat_panel(document)` (None when nobody is signed in).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from overlay_app import access, db
from overlay_app.access import Document
from overlay_app.chat import access as chat_access
from overlay_app.chat import actions as chat_actions
from overlay_app.chat import reads as chat_reads
from overlay_app.chat import room_actions as chat_room_actions
from overlay_app.chat import store_rooms
from overlay_app.chat.access import CHANNEL, DIRECT, DOCUMENT, Room
from overlay_app.discussion import rendering
from overlay_app.errors import (
    BadInput,
    form_reply,
)
from overlay_app.identity import Person, current_person, require_person
from overlay_app.realtime import views as realtime
from sync import directory

bp = Blueprint("chat_pages", __name__)
API_PATHS: dict = {}  # pages only: the chat API is chat/api.py
API_SCHEMAS: dict = {}

PANEL_MESSAGES = 30
KIND_LABELS = {DOCUMENT: _l("Document"), CHANNEL: _l("Channel"), DIRECT: _l("Direct")}
# Refusals a form shows as a flashed message (a 404 stays a 404 page).
ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")
MAX_ADDRESSES = 20


# -- what the templates show ---------------------------------------------------------------


@dataclass(frozen=True)
class RoomView:
    """One room as the pages show it (from the API's room JSON, so both agree)."""

    id: str
    kind: str
    title: str
    unread: int
    last_read_seq: int  # the place of the last message read (chat.js compares places)
    description: str | None = None
    member_names: list[str] = field(default_factory=list)
    document_url: str | None = None
    writable: bool = True
    can_leave: bool = False
    can_join: bool = False

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


def room_view(person: Person, answer: dict[str, Any]) -> RoomView:
    document = answer.get("document")
    members = answer.get("members") or []
    return RoomView(
        id=answer["id"],
        kind=answer["kind"],
        title=("#" if answer["kind"] == CHANNEL else "") + (answer.get("title") or ""),
        unread=answer.get("unreadCount") or 0,
        last_read_seq=answer.get("lastReadSeq") or 0,
        description=answer.get("description"),
        member_names=[m["displayName"] for m in members] if answer["kind"] != CHANNEL else [],
        document_url=document_url(document["driveId"], document["itemId"]) if document else None,
        writable=not answer.get("archived"),
        can_leave=answer["kind"] == CHANNEL and answer.get("myRole") is not None,
        can_join=answer["kind"] == CHANNEL and answer.get("myRole") is None,
    )


def document_url(drive_id: str, item_id: str) -> str:
    return url_for("documents.document_page", drive_id=drive_id, item_id=item_id)


def stream_settings(person: Person) -> dict[str, Any]:
    """What chat.js needs: who I am, where the event stream is, and where it starts (a cursor at
    the log's newest event now, so nothing written between this render and the connection is
    missed)."""
    settings = current_app.extensions["plaza.settings"]
    return {
        "me_id": person.id,
        "me_name": person.display_name,
        "events_url": getattr(settings, "realtime_url", "") + "/api/v1/events",
        "after": realtime.current_cursor(),
    }


# -- the document page's panel ---------------------------------------------------------------


def document_room(drive_id: str, item_id: str) -> Room | None:
    """The document's room if one was opened (it is made on first use, never by a page view)."""
    room_id = store_rooms.document_room_id(db.social(), drive_id, item_id)
    return None if room_id is None else chat_access.load_room(room_id)


def chat_panel(document: Document) -> dict[str, Any] | None:
    """The `chat` of _chat_panel.html; the page already passed access.require_document."""
    person = current_person()
    if person is None:
        return None
    room = document_room(document.drive_id, document.item_id)
    base = f"/documents/{document.drive_id}/{document.item_id}"
    panel = {
        **stream_settings(person),
        "room_id": None,
        "last_read_seq": 0,
        "messages": [],
        "writable": not document.archived,
        "room_api": f"/api/v1{base}/room",
        "send_url": f"{base}/chat",
    }
    if room is not None:
        answer = chat_room_actions.answer(person, room)
        page = chat_reads.history(room, None, None, PANEL_MESSAGES)
        panel.update(
            room_id=room.id, last_read_seq=answer["lastReadSeq"], messages=page["messages"]
        )
    return panel


# -- form helpers ----------------------------------------------------------------------------


def room_url(room_id: str, anchor: str = "") -> str:
    url = url_for("chat_pages.room_page", room_id=room_id)
    return f"{url}#{anchor}" if anchor else url


def form_client_key() -> str:
    """The form's idempotency key: a resubmitted form sends the same one, so nothing doubles."""
    return request.form.get("client_key") or str(uuid.uuid4())


def resolve_people(text: str) -> list[str]:
    """Object ids for the addresses (UPN, mail or object id) typed in the direct-room form."""
    wanted = [word for word in ADDRESS_SEPARATORS.split(text) if word]
    if not wanted:
        raise BadInput("Name at least one person (their email address).")
    if len(wanted) > MAX_ADDRESSES:
        raise BadInput("Name at most %(most)s people.", most=MAX_ADDRESSES)
    ids = []
    for word in wanted:
        person_id = directory.active_by_address(db.index(), word)
        if person_id is None:
            raise BadInput("%(who)s is not anyone in the directory.", who=word[:80])
        ids.append(person_id)
    return ids


# -- pages -----------------------------------------------------------------------------------


@bp.get("/chat")
def chat_home():
    person = require_person()
    mine = chat_reads.rooms_json(person, chat_access.my_rooms(person))
    settings = current_app.extensions["plaza.settings"]
    return render_template(
        "chat.html",
        rooms=[room_view(person, answer) for answer in mine],
        joinable=chat_access.open_channels(person),
        can_create_channels=not person.guest
        and (person.is_admin or getattr(settings, "channels_open", True)),
        can_start_direct=not person.guest,
        chat=stream_settings(person),
    )


@bp.get("/chat/<room_id>")
def room_page(room_id: str):
    person = require_person()
    room = chat_access.access_room(person, room_id)
    if room.document_key is not None:  # it shows the document's name: confirmed live, like its page
        access.require_document(person, *room.document_key, live=True)
    before, after = _message_id_arg(room, "before"), _message_id_arg(room, "after")
    page = chat_reads.history(room, before, after, chat_reads.DEFAULT_PAGE)
    messages = page["messages"]
    latest = before is None and (after is None or not page["hasMore"])
    if latest and messages:
        # Seeing the newest messages reads them (the marker never moves back).
        chat_actions.mark_read(person, room.id, messages[-1]["id"])
    view = room_view(person, chat_room_actions.answer(person, room))
    older = messages and (page["hasMore"] if after is None else True)
    newer = messages and not latest
    here = ".room_page"
    return render_template(
        "chat_room.html",
        room=view,
        messages=messages,
        older_url=url_for(here, room_id=room.id, before=messages[0]["id"]) if older else None,
        newer_url=url_for(here, room_id=room.id, after=messages[-1]["id"]) if newer else None,
        document_room_api=_document_room_api(room),
        chat=stream_settings(person),
    )


def _document_room_api(room: Room) -> str | None:
    key = room.document_key
    return f"/api/v1/documents/{key[0]}/{key[1]}/room" if key else None


def _message_id_arg(room: Room, name: str) -> int | None:
    """The rowid of the room's message a page link names (anything else: the newest page)."""
    raw = request.args.get(name, "")
    return chat_reads.place_in(room, raw) if 0 < len(raw) <= chat_actions.MAX_ID_CHARS else None


# -- form posts ------------------------------------------------------------------------------


@bp.post("/chat/<room_id>/messages")
def send_form(room_id: str):
    person = require_person()
    chat_access.access_room(person, room_id)  # 404 before anything else

    def send() -> str:
        outcome = chat_actions.send_message(
            person, room_id, {"body": request.form.get("body"), "client_key": form_client_key()},
            None,
        )  # fmt: skip
        return room_url(room_id, f"message-{outcome.payload['id']}")

    return form_reply(room_url(room_id), send)


@bp.post("/documents/<drive_id>/<item_id>/chat")
def send_document_form(drive_id: str, item_id: str):
    person = require_person()
    access.require_document(person, drive_id, item_id, live=True)
    page = document_url(drive_id, item_id)

    def send() -> str:
        # The body is checked before the room is opened.
        body = rendering.check_body(request.form.get("body"), chat_actions.MESSAGE)
        room = chat_room_actions.open_document_room(person, drive_id, item_id).payload
        payload = {"body": body, "client_key": form_client_key()}
        outcome = chat_actions.send_message(person, room["id"], payload, None)
        return f"{page}#message-{outcome.payload['id']}"

    return form_reply(f"{page}#chat", send)


@bp.post("/chat/messages/<message_id>/edit")
def edit_form(message_id: str):
    person = require_person()
    _, room = chat_actions.require_message(person, message_id)

    def edit() -> None:
        chat_actions.edit_message(person, message_id, request.form.get("body"))

    return form_reply(room_url(room.id, f"message-{message_id}"), edit)


@bp.post("/chat/messages/<message_id>/delete")
def delete_form(message_id: str):
    person = require_person()
    _, room = chat_actions.require_message(person, message_id)
    return form_reply(
        room_url(room.id, f"message-{message_id}"),
        lambda: chat_actions.delete_message(person, message_id),
    )


@bp.post("/chat/channels")
def create_channel_form():
    person = require_person()

    def create() -> str:
        outcome = chat_room_actions.create_channel(
            person,
            {
                "name": request.form.get("name"),
                "description": request.form.get("description") or None,
                "closed": request.form.get("closed") == "1",
            },
        )
        return room_url(outcome.payload["id"])

    return form_reply(url_for(".chat_home"), create)


@bp.post("/chat/direct")
def start_direct_form():
    person = require_person()

    def start() -> str:
        others = resolve_people(request.form.get("with", ""))
        return room_url(chat_room_actions.open_direct(person, others).payload["id"])

    return form_reply(url_for(".chat_home"), start)


@bp.post("/chat/<room_id>/join")
def join_form(room_id: str):
    person = require_person()
    chat_access.access_room(person, room_id)
    return form_reply(
        room_url(room_id),
        lambda: chat_room_actions.add_member(person, room_id, {"person_id": person.id}),
    )


@bp.post("/chat/<room_id>/leave")
def leave_form(room_id: str):
    person = require_person()
    chat_access.access_room(person, room_id)

    def leave() -> str:
        chat_room_actions.remove_member(person, room_id, person.id)
        return url_for(".chat_home")

    return form_reply(room_url(room_id), leave)


def init_app(app: Flask) -> None:
    app.add_template_global(chat_panel)
