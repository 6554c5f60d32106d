"""The service worker (served from the root so its scope is the whole
app), the offline page and the privacy statement an installed app links to (the Teams
manifest names it); all public, none carrying anything personal."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, current_app, render_template, send_from_directory

from overlay_app.auth.views import public

bp = Blueprint("install", __name__)
# static/manifest.webmanifest (the web app manifest), served as browsers expect it.
mimetypes.add_type("application/manifest+json", ".webmanifest")


@bp.get("/sw.js")
@public
def service_worker():
    response = send_from_directory(current_app.static_folder or "static", "sw.js")
    response.headers["Cache-Control"] = "no-cache"  # a new version takes over at once
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
@public
def offline():
    return render_template("offline.html")


@bp.get("/privacy")
@public
def privacy():
    return render_template("privacy.html")


API_PATHS: dict = {}  # pages only
API_SCHEMAS: dict = {}
