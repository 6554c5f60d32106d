"""Follow, levels and notification settings: the routes (API and pages). Thin: the checks and
writes are follow.actions'."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, render_template, request

from overlay_app import db
from overlay_app.follow import actions, levels, store, targets
from overlay_app.follow.openapi import API_PATHS as API_PATHS
from overlay_app.follow.openapi import API_SCHEMAS as API_SCHEMAS
from overlay_app.identity import current_person, require_person

bp = Blueprint("follow", __name__)


def _body() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


def _back(default: str = "/following") -> str:
    """Where a form goes back to: a path on this site only (never another host)."""
    target = request.form.get("next", "")
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else default


# -- API -------------------------------------------------------------------------------------


@bp.get("/api/v1/follows")
def api_list():
    person = require_person()
    return jsonify({"follows": [f.to_json() for f in actions.following(person)]})


@bp.put("/api/v1/follows")
def api_follow():
    person = require_person()
    body = _body()
    target = actions.follow(person, body.get("kind"), body.get("target"))
    return jsonify({"kind": target.kind, "target": target.key, "url": target.url})


@bp.delete("/api/v1/follows")
def api_unfollow():
    person = require_person()
    actions.unfollow(person, request.args.get("kind"), request.args.get("target"))
    return "", 204


@bp.put("/api/v1/levels")
def api_level():
    person = require_person()
    body = _body()
    target = actions.set_level(person, body.get("kind"), body.get("target"), body.get("level"))
    return jsonify({"kind": target.kind, "target": target.key, "level": body.get("level") or None})


@bp.get("/api/v1/settings/notifications")
def api_settings():
    return jsonify(actions.choices(require_person()))


@bp.put("/api/v1/settings/notifications")
def api_set_settings():
    return jsonify(actions.set_choices(require_person(), request.get_json(silent=True)))


# -- pages -----------------------------------------------------------------------------------


@bp.get("/following")
def page():
    person = require_person()
    return render_template(
        "following.html", follows=actions.following(person), levels=levels.LEVELS,
        level_kinds=targets.LEVEL_KINDS,
    )  # fmt: skip


@bp.post("/follow")
def page_follow():
    person = require_person()
    kind, key = request.form.get("kind"), request.form.get("target")
    if request.form.get("action") == "unfollow":
        actions.unfollow(person, kind, key)
    else:
        actions.follow(person, kind, key)
    return redirect(_back(), code=303)


@bp.post("/follow/level")
def page_level():
    person = require_person()
    form = request.form
    actions.set_level(person, form.get("kind"), form.get("target"), form.get("level"))
    return redirect(_back(), code=303)


@bp.get("/settings/notifications")
def settings_page():
    person = require_person()
    return render_template(
        "notification_settings.html", choices=actions.choices(person), events=levels.EVENTS,
        channels=levels.CHANNELS, digests=actions.DIGESTS,
    )  # fmt: skip


@bp.post("/settings/notifications")
def settings_save():
    person = require_person()
    events = {
        event: {c.name: request.form.get(f"{event}:{c.name}") == "on" for c in levels.CHANNELS}
        for event in levels.EVENTS
    }
    actions.set_choices(person, {"events": events, "digest": request.form.get("digest")})
    return redirect("/settings/notifications?saved=1", code=303)


def follow_state(kind: str, key: str) -> dict[str, Any]:
    """For the follow button a page shows: whether the person follows the target, its level."""
    person = current_person()
    if person is None:
        return {"following": False, "level": None}
    following, level = store.following_and_level(db.social(), person.id, kind, key)
    return {"following": following, "level": level, "has_levels": kind in targets.LEVEL_KINDS}


def init_app(app: Flask) -> None:
    app.add_template_global(follow_state)
