"""What can be followed, and the check that a person may follow it.

A target is (kind, key): "drive_id/item_id" for a document or a folder (a library is its
root folder), a site id, a person's oid, a tag, a chat channel's room id. Following is
trimmed like every read: one may only follow what one may open now (NotFound otherwise,
exactly like a missing target), and what a followed folder, site or tag brings into the feed
is trimmed again at read time (feed.reads), so a follow never grants anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overlay_app import access, db
from overlay_app.chat import access as chat_access
from overlay_app.errors import BadInput, NotFound
from overlay_app.identity import Person
from overlay_app.tags import reads as tag_reads
from sync import directory, visibility

DOCUMENT, FOLDER, SITE, PERSON, TAG, CHANNEL = (
    "document", "folder", "site", "person", "tag", "channel",
)  # fmt: skip
KINDS = (DOCUMENT, FOLDER, SITE, PERSON, TAG, CHANNEL)
LEVEL_KINDS = (DOCUMENT, FOLDER, TAG, CHANNEL)  # where a level can be set
MAX_KEY = 300


@dataclass(frozen=True)
class Target:
    kind: str
    key: str
    label: str  # what the person sees it as (they may open it: checked)
    url: str


def document_key(drive_id: str, item_id: str) -> str:
    return f"{drive_id}/{item_id}"


def split_document_key(key: str) -> tuple[str, str]:
    drive_id, _, item_id = key.partition("/")
    return drive_id, item_id


def check_kind(kind: Any, allowed: tuple[str, ...] = KINDS) -> str:
    if kind not in allowed:
        raise BadInput('"kind" must be one of: %(choices)s.', choices=", ".join(allowed))
    return kind


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise BadInput('"target" must name what to follow (an id, a tag, or "driveId/itemId").')
    return key


def check_target(person: Person, kind: Any, key: Any, allowed: tuple[str, ...] = KINDS) -> Target:
    """The target if `person` may follow it now; NotFound (audited, like missing) if not."""
    kind, key = check_kind(kind, allowed), check_key(key)
    if kind == TAG:
        tag = tag_reads.normalise(key)
        return Target(TAG, tag, f"#{tag}", f"/tags/{tag}")
    if kind in (DOCUMENT, FOLDER):
        return _document_target(person, kind, key)
    if kind == SITE:
        return _site_target(person, key)
    if kind == PERSON:
        return _person_target(person, key)
    room = chat_access.access_room(person, key)
    if room.kind != chat_access.CHANNEL:
        raise BadInput("Only channels can be followed; a document's chat follows its document.")
    return Target(CHANNEL, room.id, f"#{room.name}", f"/chat/{room.id}")


def _document_target(person: Person, kind: str, key: str) -> Target:
    drive_id, item_id = split_document_key(key)
    if not drive_id or not item_id:
        raise BadInput('A document or folder is named "driveId/itemId".')
    document = access.require_document(person, drive_id, item_id)
    if document.is_folder != (kind == FOLDER) or document.archived:
        access.refuse(person, f"follow:{kind}", drive_id, item_id, "not a live " + kind)
    url = f"/drives/{drive_id}/items/{item_id}" if kind == FOLDER else f"/documents/{key}"
    return Target(kind, key, document.name or kind, url)


def _site_target(person: Person, site_id: str) -> Target:
    sites = visibility.visible_sites(db.index(), access.principals_of(person.id), site_id)
    if not sites:
        access.refuse(person, f"site:{site_id}", detail="site not visible")
    return Target(SITE, site_id, sites[0].title or "a site", f"/sites/{site_id}")


def _person_target(person: Person, person_id: str) -> Target:
    profile = directory.active_profile(db.index(), person_id)
    if profile is None or person_id == person.id:
        raise NotFound()
    return Target(PERSON, person_id, profile.display_name or profile.upn or "someone",
                  f"/people/{person_id}")  # fmt: skip
