"""A Teams host and a SharePoint page that frame an app's pages, as Teams and SharePoint do.

- `GET /_emulator/teams/?package=PATH[&tab=ENTITY|configurable][&theme=default|dark|contrast]`
  reads a Teams app package (a .zip on disk), lists its personal tabs and its configurable
  tab, and frames the chosen one: a static tab's `contentUrl` with `{entityId}`, `{locale}`,
  `{theme}`, `{loginHint}`, `{userPrincipalName}`, `{userObjectId}`, `{tid}` filled; the
  configurable tab's `configurationUrl` first, then, after Save, the `contentUrl` the page
  chose. teams_host.js answers the Teams JavaScript library's postMessage protocol.
- `GET /_emulator/sharepoint/library?plaza=ORIGIN&drive=D&item=I` frames Plaza's compact
  document panel at 400 px beside a stand-in library, and hands it a token for Plaza's API
  (postMessage `{type: "plaza.token", token}` once the panel says `plaza.ready`), as a
  SharePoint Framework extension with AadHttpClient would.
- Both need a person signed in to the host (a form posting the tenant's password, as the
  emulator's sign-in page takes it); a cookie on the emulator's origin, first-party here.
  `POST /_emulator/teams/token` and `/_emulator/sharepoint/token` mint that person's tokens.
"""

from __future__ import annotations

import json
import secrets
import threading
import zipfile
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from connector.emulator import entra_obo, entra_token
from connector.emulator.entra_oauth import OAuthError, main_app
from connector.emulator.model import User
from connector.emulator.tenant import Tenant

bp = Blueprint("teams_host", __name__, url_prefix="/_emulator")
COOKIE = "emulator_host"
HOST_JS = Path(__file__).with_name("teams_host.js")
THEMES = ("default", "dark", "contrast")
# The tenant's "SharePoint Online Client Extensibility Web Application Principal" (its id is
# per tenant at Microsoft; Plaza lists it in PLAZA_API_CLIENTS).
SPFX_CLIENT_ID = "a1b2c3d4-0000-4000-8000-5b0a11ce5e1f"
PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;display:flex;min-height:100vh;background:#f5f5f5}
nav{width:14rem;background:#33344a;color:#fff;padding:1rem}nav a{color:#fff;display:block;
margin:.4rem 0}main{flex:1;display:flex;flex-direction:column}header{padding:.5rem 1rem;
background:#fff;border-bottom:1px solid #ddd}iframe{flex:1;border:0;background:#fff;width:100%;
min-height:36rem}.panel{width:400px;flex:none;border-left:1px solid #ccc}form{margin:2rem}
"""


class HostSessions:
    """Who is signed in to the host pages: cookie value -> user id (in memory)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users: dict[str, str] = {}

    def start(self, user_id: str) -> str:
        value = secrets.token_urlsafe(24)
        with self.lock:
            self.users[value] = user_id
        return value

    def user(self, tenant: Tenant) -> User | None:
        with self.lock:
            user_id = self.users.get(request.cookies.get(COOKIE, ""))
        user = tenant.user(user_id) if user_id else None
        return user if user is not None and user.account_enabled else None


def _sessions() -> HostSessions:
    return current_app.extensions.setdefault("teams_host_sessions", HostSessions())


def _tenant() -> Tenant:
    return current_app.extensions["tenant"]


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}</style></head><body>{body}</body></html>"
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _sign_in_form(error: str = "") -> Response:
    back = escape(request.full_path)
    alert = f'<p role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "Sign in to the host",
        f'<main><form method="post" action="/_emulator/host/signin" class="host-signin">'
        f'<h1>Sign in</h1>{alert}<input type=hidden name=next value="{back}">'
        '<label>Email or username <input name="login" required></label> '
        '<label>Password <input type="password" name="password"></label> '
        '<button type="submit">Sign in</button></form></main>',
    )


@bp.post("/host/signin")
def host_sign_in():
    target = request.form.get("next", "/_emulator/teams/")
    if not target.startswith("/_emulator/"):
        target = "/_emulator/teams/"
    try:
        user = entra_token.check_credentials(
            _tenant(), request.form.get("login", ""), request.form.get("password", "")
        )
    except OAuthError as err:
        return _sign_in_form(f"AADSTS{err.aadsts}: {err.message}")
    response = redirect(target, code=303)
    response.set_cookie(
        COOKIE, _sessions().start(user.id), httponly=True, secure=True, samesite="Lax",
        path="/_emulator/",
    )  # fmt: skip
    return response


# -- Teams -----------------------------------------------------------------------------------


def read_package(path: str) -> dict:
    """manifest.json of the Teams app package at `path` (a .zip)."""
    if not path.endswith(".zip") or not Path(path).is_file():
        raise ValueError(f"no app package at {path!r} (a .zip file)")
    with zipfile.ZipFile(path) as package:
        return json.loads(package.read("manifest.json").decode("utf-8-sig"))


def fill(url: str, values: dict[str, str]) -> str:
    """A manifest URL with Teams' placeholders ({entityId}, {theme}, ...) filled in."""
    for name, value in values.items():
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


@bp.get("/teams/")
def teams_page():
    tenant = _tenant()
    user = _sessions().user(tenant)
    if user is None:
        return _sign_in_form()
    path = request.args.get("package", "")
    try:
        manifest = read_package(path)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        return _page("No package", f"<main><p role=alert>{escape(str(exc))}</p></main>", 400)
    theme = request.args.get("theme", "default")
    theme = theme if theme in THEMES else "default"
    wanted = request.args.get("tab", "")
    statics = [t for t in manifest.get("staticTabs", []) if t.get("contentUrl")]
    configurable = (manifest.get("configurableTabs") or [None])[0]
    tab = next((t for t in statics if t["entityId"] == wanted), None)
    if tab is None and not (wanted == "configurable" and configurable):
        tab = statics[0] if statics else None
    values = {
        "entityId": tab["entityId"] if tab else "",
        "locale": "en-us",
        "theme": theme,
        "loginHint": user.user_principal_name,
        "userPrincipalName": user.user_principal_name,
        "userObjectId": user.id,
        "tid": tenant.tenant_id,
    }
    config = {
        "frameContext": "content" if tab else "settings",
        "url": fill(tab["contentUrl"] if tab else configurable["configurationUrl"], values),
        "entityId": values["entityId"],
        "theme": theme,
        "resource": (manifest.get("webApplicationInfo") or {}).get("resource", ""),
        "appId": manifest.get("id", ""),
        "user": {"id": user.id, "upn": user.user_principal_name, "name": user.display_name},
        "tid": tenant.tenant_id,
    }
    links = "".join(
        f'<a href="?{escape(urlencode({"package": path, "tab": t["entityId"], "theme": theme}))}">'
        f"{escape(t.get('name', t['entityId']))}</a>"
        for t in statics
    )
    if configurable:
        query = urlencode({"package": path, "tab": "configurable", "theme": theme})
        links += f'<a href="?{escape(query)}">Add a tab to a channel</a>'
    save = (
        '<button id="save" disabled>Save</button>' if config["frameContext"] == "settings" else ""
    )
    body = (
        f"<nav><b>{escape(manifest.get('name', {}).get('short', 'App'))}</b>{links}</nav><main>"
        f"<header>Signed in as {escape(user.display_name)} "
        '<label>Theme <select id="theme">'
        + "".join(f"<option{' selected' if t == theme else ''}>{t}</option>" for t in THEMES)
        + f"</select></label> {save}</header>"
        f'<iframe id="tab" title="Tab" src="{escape(config["url"])}"></iframe></main>'
        f'<script type="application/json" id="host-config">{_json_for_script(config)}</script>'
        '<script src="/_emulator/teams/host.js"></script>'
    )
    return _page("Teams", body)


def _json_for_script(value: object) -> str:
    return json.dumps(value).replace("<", "\\u003c")


@bp.get("/teams/host.js")
def host_js():
    return Response(HOST_JS.read_text(), mimetype="text/javascript")


@bp.post("/teams/token")
def teams_token():
    """getAuthToken: a token for the package's webApplicationInfo resource, issued to Teams."""
    tenant = _tenant()
    user = _sessions().user(tenant)
    resource = str((request.get_json(silent=True) or {}).get("resource", ""))
    if user is None:
        return jsonify({"error": "CancelledByUser"}), 401
    if entra_obo.resource_app(tenant, resource) is None:
        return jsonify({"error": "resourceDisabled"}), 400
    return jsonify({"token": entra_obo.teams_token(tenant, user, resource)})


# -- SharePoint ------------------------------------------------------------------------------


@bp.get("/sharepoint/library")
def sharepoint_library():
    tenant = _tenant()
    user = _sessions().user(tenant)
    if user is None:
        return _sign_in_form()
    plaza = request.args.get("plaza", "").rstrip("/")
    parts = urlsplit(plaza)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _page("No Plaza", "<main><p role=alert>plaza= must be an origin</p></main>", 400)
    drive, item = request.args.get("drive", ""), request.args.get("item", "")
    found = tenant.item(drive, item) if drive and item else None
    name = found.name if found is not None and tenant.can_open(user.id, drive, item) else item
    panel = f"{plaza}/embed/documents/{quote(drive, safe='!')}/{quote(item, safe='')}"
    config = {"panel": panel, "origin": f"{parts.scheme}://{parts.netloc}"}
    body = (
        f"<main><header>Documents · signed in as {escape(user.display_name)}</header>"
        f"<p>{escape(name)}</p></main>"
        f'<iframe class="panel" id="panel" title="Discuss" src="{escape(panel)}"></iframe>'
        f'<script type="application/json" id="host-config">{_json_for_script(config)}</script>'
        '<script src="/_emulator/teams/host.js"></script>'
    )
    return _page("Documents", body)


@bp.post("/sharepoint/token")
def sharepoint_token():
    """A token for Plaza's API (api://{plaza host}/{client id}), issued to SharePoint's
    client extensibility principal, for the person signed in to the host."""
    tenant = _tenant()
    user = _sessions().user(tenant)
    origin = str((request.get_json(silent=True) or {}).get("origin", ""))
    host = urlsplit(origin).netloc
    if user is None or not host:
        return jsonify({"error": "signed out"}), 401
    resource = f"api://{host}/{main_app(tenant).client_id}"
    return jsonify(
        {"token": entra_obo.teams_token(tenant, user, resource, client_id=SPFX_CLIENT_ID)}
    )


# -- control -----------------------------------------------------------------------------------


@bp.post("/consent")
def set_consent():
    """{"user": upn or id, "state": granted | revoked | mfa, "client_id": default the main app}"""
    tenant = _tenant()
    body = request.get_json(silent=True) or {}
    user = tenant.user(str(body.get("user", "")))
    state = body.get("state")
    if user is None or state not in entra_obo.CONSENT_STATES:
        message = "user must name a user; state one of " + ", ".join(entra_obo.CONSENT_STATES)
        return jsonify({"error": {"code": "badRequest", "message": message}}), 400
    client_id = str(body.get("client_id") or main_app(tenant).client_id)
    entra_obo.consents().set(client_id, user.id, state)
    return jsonify({"client_id": client_id, "user": user.id, "state": state})
