"""GET / — the home page (see overlay_app/home/__init__.py)."""

from __future__ import annotations

from flask import Blueprint, render_template

from overlay_app.browse.views import visible_sites
from overlay_app.chat import access as chat_access
from overlay_app.chat import reads as chat_reads
from overlay_app.home import reads
from overlay_app.identity import require_person
from overlay_app.notifications import reads as notifications
from overlay_app.tags import suggestions

bp = Blueprint("home", __name__)

WAITING = 5
TAGS = 12
ROOMS = 5

API_PATHS: dict = {}  # a page only: its parts have their own APIs
API_SCHEMAS: dict = {}


@bp.get("/")
def home():
    person = require_person()
    rooms = chat_reads.rooms_json(person, chat_access.my_rooms(person))
    return render_template(
        "home.html",
        discussions=reads.recent_discussions(person),
        waiting=notifications.listing(person, WAITING, unread_only=True),
        tags=suggestions.suggestions(person, limit=TAGS),
        unread_rooms=[room for room in rooms if room["unreadCount"]][:ROOMS],
        sites=visible_sites(person),
        first_run=not reads.has_taken_part(person),
    )
