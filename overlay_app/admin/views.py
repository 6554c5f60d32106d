"""The admin console as the app sees it: one blueprint (`gate.bp`, whose routes the view
modules register), its OpenAPI parts, and its template helpers."""

from __future__ import annotations

from flask import Flask, g, render_template

from overlay_app.admin import (  # noqa: F401  (they register their routes on bp)
    audit_views,
    held,
    job_views,
    moderation_views,
    people_views,
    switch_views,
    switches,
    terms,
    terms_views,
)
from overlay_app.admin.gate import bp, for_moderators
from overlay_app.admin.openapi import API_PATHS, API_SCHEMAS

__all__ = ["API_PATHS", "API_SCHEMAS", "bp", "init_app"]


@bp.get("/admin")
@for_moderators
def shell():
    return render_template("admin/index.html", person=g.person)


def _is_staff() -> bool:
    person = g.get("person")
    return person is not None and person.is_moderator


# The console's sections beyond sync and health: (href, label, who may see it).
SECTIONS: list[tuple[str, str, str]] = [
    ("/admin/moderation", "Moderation", "moderator"),
    ("/admin/switches", "Feature switches", "admin"),
    ("/admin/terms", "Terms of use", "admin"),
    ("/admin/people", "Data requests", "admin"),
    ("/admin/audit", "Audit log", "admin"),
]


def _sections() -> list[tuple[str, str]]:
    person = g.get("person")
    if person is None:
        return []
    allowed = {"moderator"} | ({"admin"} if person.is_admin else set())
    return [(href, label) for href, label, who in SECTIONS if who in allowed]


def init_app(app: Flask) -> None:
    app.add_template_global(_is_staff, "is_staff")
    app.add_template_global(_sections, "admin_sections")
    held.init_app(app)
    switches.init_app(app)
    terms.init_app(app)
