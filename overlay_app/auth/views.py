"""Who is asking: sign-in with Entra ID, sessions, bearer tokens, roles, and /api/v1/me.

- Pages: `/signin` starts MSAL's authorization-code flow with PKCE and sends the browser to
  the authority; `/auth/callback` redeems the code, validates the id token (entra.py) and
  starts a server-side session (sessions.py); `POST /signout` ends it and sends the browser to
  the authority's end_session_endpoint, which comes back to `GET /signout`.
- API: `Authorization: Bearer` with an Entra access token for Plaza's API or a Plaza token of
  an embedded page (overlay_app/embedded, "plaza.embedded_bearer"), or the session.
- Every request re-reads the person from the index, and asks Entra (app token, cached per
  person for live_check_seconds, at most 60 s) whether their account is still enabled: someone
  disabled in Entra loses access within that window, their sessions end, their bearer tokens
  are refused; someone gone from the index loses it at once.
- Roles: admin (member of PLAZA_ADMIN_GROUP_ID, or holding the app role PLAZA_ADMIN_ROLE in
  the token), moderator (likewise PLAZA_MODERATOR_GROUP_ID / PLAZA_MODERATOR_ROLE), then guest
  (an external user) or member.
- Signed out: pages redirect to /signin?next=..., the API answers 401 JSON. That holds for
  writes too (a form posted after the session ended): this check runs before the CSRF check,
  and a page write comes back, after sign-in, to the page its form was on (not re-sent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)

from overlay_app import access, db
from overlay_app.auth import sessions
from overlay_app.auth.entra import Entra, InvalidToken, SignInFailed
from overlay_app.errors import N_, BadInput, Forbidden, Phrase, Unauthenticated, render_error
from overlay_app.identity import ADMIN, GUEST, MEMBER, MODERATOR, Person, require_person
from sync import directory
from sync.directory import Profile

bp = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])
PENDING_FLOWS = 3  # sign-ins started in other tabs stay valid, a few at most
PUBLIC_ENDPOINTS = frozenset(
    {"static", "auth.signin", "auth.callback", "auth.signed_out", "auth.signout",
     "openapi.openapi_json"}
)  # fmt: skip
_entra_lock = threading.Lock()


def public(view: View) -> View:
    """Marks a view that signed-out visitors may reach (everything else needs a person)."""
    view.plaza_public = True  # type: ignore[attr-defined]
    return view


def entra() -> Entra:
    """This process's Entra client (made after gunicorn forks, on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _entra_lock:
        client = app.extensions.get("plaza.entra")
        if client is None:
            client = app.extensions["plaza.entra"] = Entra(app.extensions["plaza.settings"])
    return client


# -- the person ----------------------------------------------------------------------------


def _roles(profile: Profile, token_roles: list[str], in_groups: frozenset[str]) -> frozenset[str]:
    settings = current_app.extensions["plaza.settings"]
    roles = {GUEST if profile.guest else MEMBER}
    if settings.admin_role and settings.admin_role in token_roles:
        roles.add(ADMIN)
    if settings.admin_group_id and settings.admin_group_id in in_groups:
        roles.add(ADMIN)
    if settings.moderator_role and settings.moderator_role in token_roles:
        roles.add(MODERATOR)
    if settings.moderator_group_id and settings.moderator_group_id in in_groups:
        roles.add(MODERATOR)
    return frozenset(roles)


def load_person(person_id: str, token_roles: list[str] | None = None) -> Person | None:
    """The person as the index knows them, if they may use Plaza (enabled, not deleted)."""
    settings = current_app.extensions["plaza.settings"]
    role_groups = [gid for gid in (settings.admin_group_id, settings.moderator_group_id) if gid]
    profile, in_groups = directory.active_profile_in(db.index(), person_id, role_groups)
    if profile is None:
        return None
    return Person(
        id=profile.id,
        display_name=profile.display_name or profile.upn or profile.id,
        upn=profile.upn or "",
        guest=profile.guest,
        roles=_roles(profile, list(token_roles or ()), in_groups),
    )


def delegated_graph_token(person: Person) -> str | None:
    """The person's own Graph token (from their sign-in), for the live access check; None if
    they signed in with a bearer token, or the token cannot be had (e.g. refresh refused)."""
    kept = sessions.load_token_cache(person.id)
    if kept is None:
        return None
    token, changed = entra().graph_token(person.id, kept.state)
    if changed is not None:  # not over a newer write, nor after sign-out (sessions.py)
        sessions.save_refreshed_token_cache(person.id, changed, kept)
    return token


def _identify() -> None:
    """Sets g.person (or None) and g.auth_method, then turns away the signed-out."""
    g.person, g.auth_method = None, None
    if request.endpoint == "static":
        return
    authorization = request.headers.get("Authorization", "")
    if request.path.startswith("/api/") and authorization[:7].lower() == "bearer ":
        raw = authorization[7:].strip()
        # A Plaza token of an embedded page (overlay_app/embedded), or an Entra access token.
        embedded = current_app.extensions.get("plaza.embedded_bearer")
        if embedded is not None and embedded.owns(raw):
            g.person, g.auth_method = embedded.person(raw), "embedded"
        else:
            g.person, g.auth_method = _bearer_person(raw), "bearer"
            g.bearer_token = raw  # the live check may exchange it on behalf of the person
        return
    person_id = session.get("person_id")
    if person_id:
        g.person = load_person(person_id, session.get("token_roles"))
        g.auth_method = "session"
        if g.person is not None and not _account_enabled(person_id):
            g.person = None
        if g.person is None:  # disabled in Entra, or gone from the directory
            sessions.end_sessions_of(person_id)
            session.clear()
    if g.person is None and not _is_public():
        raise Unauthenticated()


def _is_public() -> bool:
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    return endpoint in PUBLIC_ENDPOINTS or bool(getattr(view, "plaza_public", False))


def _bearer_person(raw: str) -> Person:
    try:
        claims = entra().check_access_token(raw)
    except requests.RequestException as exc:
        raise InvalidTokenError("The tenant's signing keys cannot be fetched now.") from exc
    except InvalidToken as exc:
        raise InvalidTokenError(str(exc)) from exc  # entra's words are msgids too
    person = load_person(claims["oid"], claims.get("roles"))
    if person is None or not _account_enabled(person.id):
        raise InvalidTokenError("The token's user cannot use Plaza (unknown or disabled).")
    return person


def _account_enabled(person_id: str) -> bool:
    """Entra's word now (cached up to live_check_seconds), not the last people sync's."""
    return access.account_checks().enabled(person_id)


class InvalidTokenError(Unauthenticated):
    """A bearer token was sent and refused (RFC 6750 error "invalid_token")."""

    default_message = N_("The access token is not valid.")


def _unauthenticated(error: Unauthenticated) -> Response:
    """API: 401 JSON with WWW-Authenticate (RFC 6750); pages: off to sign-in, then back."""
    if request.path.startswith("/api/"):
        response = render_error(error.status, error.code, error.words())
        challenge = "Bearer"
        if isinstance(error, InvalidTokenError):
            description = error.message.replace('"', "'")
            challenge += f' error="invalid_token", error_description="{description}"'
        response.headers["WWW-Authenticate"] = challenge
        return response
    if request.method in ("GET", "HEAD"):
        return redirect(f"/signin?{urlencode({'next': request.full_path.rstrip('?')})}")
    # A write: 303 so the browser GETs the sign-in page, then returns to the form's page.
    return redirect(f"/signin?{urlencode({'next': _form_page()})}", code=303)


def _form_page() -> str:
    """The local page a write was posted from (its Referer, when same-origin), else "/".

    The write itself is not replayed after sign-in: the person sees the page and posts again."""
    referrer = urlsplit(request.referrer or "")
    here = urlsplit(request.host_url)
    if (referrer.scheme, referrer.netloc) != (here.scheme, here.netloc):
        return "/"
    page = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(page)


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in; anything else (other sites, //host) is "/"."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t\\"):
        return "/"
    return target


# -- pages ---------------------------------------------------------------------------------


@bp.get("/signin")
def signin():
    target = safe_next(request.args.get("next"))
    if g.person is not None:
        return redirect(target)
    try:
        flow = entra().begin_sign_in()
    except (requests.RequestException, ValueError) as exc:
        current_app.logger.warning("sign-in cannot start: %s", exc)
        return render_error(503, "unavailable", "Sign-in is unavailable right now. Try again.")
    flows = dict(session.get("auth_flows", {}))
    flows[flow["state"]] = {"flow": flow, "next": target}
    session["auth_flows"] = dict(list(flows.items())[-PENDING_FLOWS:])
    return redirect(flow["auth_uri"])


@bp.get("/auth/callback")
def callback():
    flows = dict(session.get("auth_flows", {}))
    pending = flows.pop(request.args.get("state", ""), None)
    session["auth_flows"] = flows
    if pending is None:
        raise BadInput("This sign-in has expired or was already used. Sign in again.")
    try:
        claims, cache_state = entra().finish_sign_in(pending["flow"], request.args.to_dict())
    except SignInFailed as exc:
        raise BadInput("Sign-in did not complete: %(problem)s", problem=Phrase(str(exc))) from exc
    person = load_person(claims["oid"], claims.get("roles"))
    if person is None:
        raise Forbidden(
            "Your account cannot use Plaza: it is disabled, or not in Plaza's copy of the"
            " directory yet. Ask your administrator."
        )
    _start_session(person, claims, cache_state)
    return redirect(pending["next"])


def _start_session(person: Person, claims: dict[str, Any], cache_state: str) -> None:
    sessions.save_token_cache(person.id, cache_state)
    session.clear()
    sessions.renew(session)  # a new id: a session id planted before sign-in is worthless
    session["person_id"] = person.id
    session["signed_in_at"] = sessions.now()
    session["token_roles"] = list(claims.get("roles", []))


@bp.post("/signout")
def signout():
    person_id = session.get("person_id")
    session.clear()
    if person_id and not sessions.has_other_sessions(person_id, session):
        sessions.forget_token_cache(person_id)
    settings = current_app.extensions["plaza.settings"]
    back = f"{settings.public_url}/signout"
    try:
        endpoint = entra().end_session_endpoint()
    except requests.RequestException:
        endpoint = None
    if not endpoint:
        return redirect("/signout")
    joiner = "&" if "?" in endpoint else "?"
    return redirect(f"{endpoint}{joiner}{urlencode({'post_logout_redirect_uri': back})}")


@bp.get("/signout")
def signed_out():
    return render_template("signed_out.html")


# -- API -----------------------------------------------------------------------------------


@bp.get("/api/v1/me")
def me():
    person = require_person()
    profile = directory.active_profile(db.index(), person.id)
    return jsonify(
        {
            "id": person.id,
            "displayName": person.display_name,
            "upn": person.upn,
            "mail": profile.mail if profile else None,
            "jobTitle": profile.job_title if profile else None,
            "department": profile.department if profile else None,
            "roles": sorted(person.roles),
        }
    )


API_SCHEMAS = {
    "Me": {
        "type": "object",
        "required": ["id", "displayName", "upn", "mail", "jobTitle", "department", "roles"],
        "properties": {
            "id": {"type": "string", "description": "Entra object id"},
            "displayName": {"type": "string"},
            "upn": {"type": "string"},
            "mail": {"type": ["string", "null"]},
            "jobTitle": {"type": ["string", "null"]},
            "department": {"type": ["string", "null"]},
            "roles": {
                "type": "array",
                "items": {"type": "string", "enum": [ADMIN, MODERATOR, MEMBER, GUEST]},
            },
        },
    }
}
API_PATHS = {
    "/api/v1/me": {
        "get": {
            "operationId": "getMe",
            "summary": "The signed-in person, with their Plaza roles.",
            "responses": {
                "200": {
                    "description": "The caller.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Me"}}
                    },
                },
                "401": {
                    "description": "Signed out, or the bearer token is not valid.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
    }
}


def init_app(app: Flask) -> None:
    settings = app.extensions["plaza.settings"]
    secure = settings.secure_cookies
    app.config.update(
        # The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
        SESSION_COOKIE_NAME="__Host-plaza" if secure else "plaza",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
    )
    sessions.init_app(app)
    access.provide_delegated_tokens(app, delegated_graph_token)
    app.before_request(_identify)
    app.register_error_handler(Unauthenticated, _unauthenticated)
