"""The admin console's blueprint and its one gate: who may reach /admin and /api/v1/admin.

Every route registered on `bp` is admin-only unless its endpoint is in MODERATOR_ENDPOINTS
(the moderation queue and its acts), so a route added later is closed by default. Anyone
else gets 404 with the same body as a missing page: the console's existence is not shown.
Signed-out visitors meet the auth layer first (sign-in redirect, or 401 under /api).
"""

from __future__ import annotations

from flask import Blueprint, request

from overlay_app.errors import NotFound
from overlay_app.identity import Person, require_person

bp = Blueprint("admin", __name__)
MODERATOR_ENDPOINTS: set[str] = set()


def for_moderators(view):
    """Opens a console view to moderators as well as admins."""
    MODERATOR_ENDPOINTS.add(f"{bp.name}.{view.__name__}")
    return view


def may_enter(person: Person, endpoint: str) -> bool:
    if person.is_admin:
        return True
    return person.is_moderator and endpoint in MODERATOR_ENDPOINTS


@bp.before_request
def _gate() -> None:
    person = require_person()
    if not may_enter(person, request.endpoint or ""):
        raise NotFound()


def require_admin() -> Person:
    """The admin asking (views gated already; for actions that run outside a view too)."""
    person = require_person()
    if not person.is_admin:
        raise NotFound()
    return person
