"""Faces: a person's synced profile photo, else their initials on a colour of their own.

Pages show `avatar(person_id)` as a decorative <img> beside the name (alt=""): the name is
always there in text. One URL per person either way, so pages need not know who has a photo.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Flask, Response, request
from markupsafe import Markup, escape

from overlay_app import db
from sync import directory

SHOWN_TYPES = {"image/jpeg", "image/png", "image/gif"}  # what a browser shows as a photo
CACHE = "private, max-age=3600"  # a changed photo shows within the hour
# Background colours with white text at 4.5:1 or more.
SHADES = ("#1f5f8b", "#7a3e9d", "#2e6b30", "#a4262c", "#8a5300", "#005b70", "#5c2e91", "#3b3a39")


def photo_response(person_id: str) -> Response | None:
    """The person's photo or initials as an image answer; None for nobody the index lists."""
    stored = directory.photo(db.index(), person_id)
    if stored is not None and stored.content_type in SHOWN_TYPES:
        return _image(stored.data, stored.content_type, stored.etag)
    named = directory.listed_by_id(db.index(), person_id)
    if named is None:
        return None
    svg = initials_svg(named.id, named.name)
    return _image(svg.encode(), "image/svg+xml", '"' + hashlib.sha1(svg.encode()).hexdigest() + '"')


def _image(data: bytes, content_type: str, etag: str) -> Response:
    if etag in request.if_none_match or etag.strip('"') in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(data, content_type=content_type)
    response.headers["ETag"] = etag if etag.startswith(('"', "W/")) else f'"{etag}"'
    response.headers["Cache-Control"] = CACHE
    return response


def initials(name: str) -> str:
    """'Ada Lovelace' -> 'AL'; 'ada@firm.example' -> 'A'."""
    words = [w for w in name.replace("@", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 and "@" not in name else "")
    return letters.upper()


@lru_cache(maxsize=4096)
def initials_svg(person_id: str, name: str) -> str:
    shade = SHADES[int(hashlib.sha1(person_id.encode()).hexdigest(), 16) % len(SHADES)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<rect width="64" height="64" fill="{shade}"/>'
        '<text x="32" y="32" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui, sans-serif" font-size="26" font-weight="600">'
        f"{escape(initials(name))}</text></svg>"
    )


def avatar(person_id: str | None, size: int = 32) -> Markup:
    """The decorative face beside a name (template global)."""
    if not person_id:
        return Markup("")
    return Markup(
        '<img class="avatar" src="/people/{}/photo" alt="" width="{}" height="{}" loading="lazy">'
    ).format(person_id, size, size)


def init_app(app: Flask) -> None:
    app.add_template_global(avatar)
