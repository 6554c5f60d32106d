"""The people feature's read model: directory pages and profiles from the index's directory
(sync/directory.py), the documents a person discusses, and their JSON shapes.

A profile is a feed: the documents a person discusses are ONLY those the viewer may see and
discover, trimmed through access.filter_discoverable before anything is counted (a document the
viewer reaches only through an organisation-wide link is left out until they interact with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overlay_app import access, db
from overlay_app.browse.listing import Key
from overlay_app.discussion import store as discussion_store
from overlay_app.documents_json import document_json
from overlay_app.errors import NotFound
from overlay_app.identity import Person
from overlay_app.tags import reads as tags
from sync import directory
from sync.directory import Profile
from sync.visibility import Document


def directory_page(text: str, page: int, per_page: int) -> tuple[list[Profile], int]:
    """One page of the directory (enabled members and guests) matching `text`, and the total."""
    return directory.search(db.index(), text, page, per_page)


def find_profile(person_id: str) -> Profile:
    """The person's profile, active or not; NotFound if the index never saw them."""
    found = directory.profile(db.index(), person_id)
    if found is None:
        raise NotFound()
    return found


def manager_of(profile: Profile) -> Profile | None:
    if not profile.manager_id:
        return None
    return directory.profile(db.index(), profile.manager_id)


def person_json(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "displayName": profile.display_name,
        "userPrincipalName": profile.upn,
        "mail": profile.mail,
        "jobTitle": profile.job_title,
        "department": profile.department,
        "office": profile.office,
        "businessPhone": profile.business_phone,
        "guest": profile.guest,
        "active": profile.active,
    }


def profile_json(profile: Profile, manager: Profile | None) -> dict[str, Any]:
    named = {"id": manager.id, "displayName": manager.display_name} if manager else None
    return person_json(profile) | {"manager": named}


# ---- the documents a person discusses ------------------------------------------------------


@dataclass(frozen=True)
class Discussed:
    row: Document
    comments: int  # the profile person's live comments on it
    last_at: str
    tags: list[str]


def discussed_documents(
    viewer: Person, person_id: str, page: int, per_page: int
) -> tuple[list[Discussed], int]:
    """Documents `person_id` commented on that the VIEWER may see and discover (see
    access.filter_discoverable), latest comment first."""
    rows = discussion_store.discussed_by(db.social(), person_id)
    visible = access.filter_discoverable(viewer, [(d, i) for d, i, _, _ in rows])
    shown = [row for row in rows if (row[0], row[1]) in visible]
    start = (page - 1) * per_page
    window = shown[start : start + per_page]
    keys: list[Key] = [(d, i) for d, i, _, _ in window]
    metadata, tags_by_key = access.documents(viewer, keys), tags.tags_on(keys)
    found = [
        Discussed(metadata[(d, i)], count, last, tags_by_key.get((d, i), []))
        for d, i, count, last in window
        if (d, i) in metadata
    ]
    return found, len(shown)


def tag_summary(discussed: list[Discussed]) -> list[tuple[str, int]]:
    """The tags on the shown documents, most frequent first."""
    counts: dict[str, int] = {}
    for item in discussed:
        for tag in item.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


DISCUSSED_FIELDS = ("driveId", "itemId", "name", "path", "webUrl", "site", "fileType", "archived")


def discussed_json(item: Discussed) -> dict[str, Any]:
    extra = {
        "commentCount": item.comments,
        "lastCommentAt": item.last_at,
        "tags": item.tags,
    }
    return document_json(item.row, DISCUSSED_FIELDS, extra)
