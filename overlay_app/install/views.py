"""The web app manifest, the service worker (served from the root so its scope is the whole
app), the offline page and the privacy statement an installed app links to (the Teams
manifest names it); all public, none carrying anything personal."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory

from overlay_app.auth.views import public

bp = Blueprint("install", __name__)

THEME = "#0b6e5f"
MANIFEST = {
    "name": "Plaza",
    "short_name": "Plaza",
    "description": "Discuss your firm's SharePoint documents.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#f7f8fa",
    "theme_color": THEME,
    "icons": [
        {"src": "/static/icons/plaza-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/plaza-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/static/icons/plaza.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@bp.get("/manifest.webmanifest")
@public
def manifest():
    response = jsonify(MANIFEST)
    response.mimetype = "application/manifest+json"
    return response


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
