"""CSRF tokens: a random token lives in the signed session; forms carry it as `csrf_token`
(template global `csrf_token()`), script calls as the `X-CSRF-Token` header.

It is required on every POST/PUT/PATCH/DELETE except API calls authenticated by
`Authorization: Bearer` (a browser never attaches that header cross-site on its own), API calls
without the session cookie (they are unauthenticated and get 401 from the auth layer), and views
marked `@csrf_exempt`. The check runs after the auth layer has identified the caller
(`init_csrf`, wired last): a signed-out write to a view that needs a person never reaches it, it
is sent to sign-in (or 401) as a read would be, instead of being told its form expired.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session

from overlay_app.errors import N_, BadInput

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_SESSION_KEY = "csrf_token"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_EXPIRED = N_("the form expired: reload the page and try again")

View = TypeVar("View", bound=Callable[..., Any])


def csrf_exempt(view: View) -> View:
    """Marks a view that checks its request some other way (e.g. an OAuth form_post)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def csrf_token() -> str:
    """This session's CSRF token, created on first use (template global).

    A signed-out visitor without a session gets "" rather than a new session: they have
    nothing to post, and pages seen by crawlers should not each store a session."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        if not session and g.get("person") is None:
            return ""
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method not in STATE_CHANGING or not _needs_csrf():
        return
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or _form_token()
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise BadInput(CSRF_EXPIRED)


def _needs_csrf() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt", False):
        return False
    if request.path.startswith("/api/"):
        # The auth layer takes a bearer token instead of the cookie only under /api.
        return not _bearer_call() and _session_cookie_name() in request.cookies
    return True


def _bearer_call() -> bool:
    authorization = request.headers.get("Authorization", "")
    return authorization[:7].lower() == "bearer "


def _session_cookie_name() -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app.session_interface.get_cookie_name(app)


def _form_token() -> str | None:
    # Only urlencoded and multipart bodies are forms; reading request.form on a JSON body
    # would return nothing anyway, but skip the parse.
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get(CSRF_FORM_FIELD)
    return None


def init_csrf(app: Flask) -> None:
    """The CSRF check, registered after the auth layer's before_request hook (Flask runs them in
    order): whoever is not signed in meets sign-in first, whoever carries a session meets this
    before any view runs."""
    app.before_request(_check_csrf)
