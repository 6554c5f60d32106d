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

MAX_MENTIONS = 25
MAX_SUGGESTIONS = 10
CANDIDATES_SCANNED = 300  # prefix matches checked for access before giving up


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


def _directory_entry(ref: MentionRef) -> tuple[str, str] | None:
    """(object id, display name) of the person a mention names, if the directory knows them."""
    column = "upn" if ref.by_upn else "id"
    row = (
        db.index()
        .execute(
            f"SELECT id, coalesce(display_name, upn, id) FROM people"
            f" WHERE {column} = ? COLLATE NOCASE AND deleted = 0 ORDER BY id LIMIT 1",
            [ref.ref],
        )
        .fetchone()
    )
    return None if row is None else (row[0], row[1])


def check_mentions(body: ParsedBody, drive_id: str, item_id: str) -> dict[str, Mentioned]:
    """The people a body mentions, resolved; 400 if any of them cannot open the document."""
    refs = body.mention_refs()
    if len(refs) > MAX_MENTIONS:
        raise BadInput(f"A comment can mention at most {MAX_MENTIONS} people.")
    resolved: dict[str, Mentioned] = {}
    for ref in refs:
        entry = _directory_entry(ref)
        if entry is None:
            if ref.by_upn:  # an address-like word that is nobody: left as text
                continue
            raise BadInput(f"{ref.label} is not in the directory, so they cannot be mentioned")
        person_id, name = entry
        if not access.can_see(person_id, drive_id, item_id):
            raise BadInput(f"{name} cannot open this document, so they cannot be mentioned")
        resolved[ref.key] = Mentioned(person_id, name)
    return resolved


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


SUGGEST_SQL = """
    SELECT id, coalesce(display_name, upn), upn, job_title FROM people
    WHERE enabled = 1 AND deleted = 0 AND id != :me
      AND (display_name LIKE :prefix ESCAPE '\\' OR upn LIKE :prefix ESCAPE '\\'
           OR given_name LIKE :prefix ESCAPE '\\' OR surname LIKE :prefix ESCAPE '\\'
           OR display_name LIKE :word ESCAPE '\\')
    ORDER BY display_name COLLATE NOCASE, id
    LIMIT :scan"""


def suggest(viewer_id: str, drive_id: str, item_id: str, query: str) -> list[Suggestion]:
    """Up to ten enabled people whose name or UPN starts with `query` and who can see the
    document (the caller has already checked that the viewer can)."""
    prefix = _like_prefix(query.strip().lstrip("@"))
    rows = db.index().execute(
        SUGGEST_SQL,
        {"me": viewer_id, "prefix": prefix, "word": "% " + prefix, "scan": CANDIDATES_SCANNED},
    )
    found: list[Suggestion] = []
    for person_id, name, upn, job_title in rows:
        if access.can_see(person_id, drive_id, item_id):
            found.append(Suggestion(person_id, name or "", upn or "", job_title))
            if len(found) == MAX_SUGGESTIONS:
                break
    return found
