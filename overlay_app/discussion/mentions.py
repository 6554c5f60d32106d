"""@mentions: who a mention names, whether they may be mentioned, and autocomplete.

Only people who can open the document may be mentioned (the check is about the RECIPIENT:
access.can_see). A refusal names the person, which the writer typed, but nothing about the
document beyond "this document", so the message is safe to show anywhere. The autocomplete
offers only enabled people who can see the document.
"""

from __future__ import annotations

from dataclasses import dataclass

from overlay_app import access, db
from overlay_app.discussion.rendering import Mentioned, MentionRef, ParsedBody
from overlay_app.errors import BadInput
from sync import directory
from sync.directory import Named

MAX_MENTIONS = 25
MAX_SUGGESTIONS = 10
CANDIDATES_SCANNED = 300  # prefix matches checked for access before giving up


class MentionRefused(BadInput):
    """A mention of someone who cannot open the document: answered like any BadInput (the
    API's JSON is unchanged); the page form also offers to share the document with them."""

    def __init__(self, person_name: str) -> None:
        super().__init__(
            "%(who)s cannot open this document, so they cannot be mentioned", who=person_name
        )
        self.person_name = person_name


@dataclass(frozen=True)
class Suggestion:
    id: str
    display_name: str
    upn: str
    job_title: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "upn": self.upn,
            "jobTitle": self.job_title,
            "mention": f"@[{self.display_name}]({self.id})",
        }


def _directory_entry(ref: MentionRef) -> Named | None:
    """The listed person a mention names (by UPN or object id, any case), if any."""
    lookup = directory.listed_by_upn if ref.by_upn else directory.listed_by_id
    return lookup(db.index(), ref.ref)


def check_mentions(body: ParsedBody, drive_id: str, item_id: str) -> dict[str, Mentioned]:
    """The people a body mentions, resolved; 400 if any of them cannot open the document."""
    refs = body.mention_refs()
    if len(refs) > MAX_MENTIONS:
        raise BadInput("A comment can mention at most %(most)s people.", most=MAX_MENTIONS)
    resolved: dict[str, Mentioned] = {}
    for ref in refs:
        entry = _directory_entry(ref)
        if entry is None:
            if ref.by_upn:  # an address-like word that is nobody: left as text
                continue
            raise BadInput(
                "%(who)s is not in the directory, so they cannot be mentioned", who=ref.label
            )
        if not access.can_see(entry.id, drive_id, item_id):
            raise MentionRefused(entry.name)
        resolved[ref.key] = Mentioned(entry.id, entry.name)
    return resolved


def suggest(viewer_id: str, drive_id: str, item_id: str, query: str) -> list[Suggestion]:
    """Up to ten enabled people whose name or UPN starts with `query` and who can see the
    document (the caller has already checked that the viewer can)."""
    typed = query.strip().lstrip("@")
    candidates = directory.mention_candidates(db.index(), viewer_id, typed, CANDIDATES_SCANNED)
    found: list[Suggestion] = []
    for candidate in candidates:
        if access.can_see(candidate.id, drive_id, item_id):
            name, upn = candidate.name or "", candidate.upn or ""
            found.append(Suggestion(candidate.id, name, upn, candidate.job_title))
            if len(found) == MAX_SUGGESTIONS:
                break
    return found
