"""A refused comment form keeps its text (and says how to get past a refused mention).

Without JavaScript a comment form posts, and a refusal comes back as a flashed message on the
document page (errors.form_reply, PRG). So that nothing the writer typed is lost, the refused
text is kept in the (server-side) session and the page puts it back into the same form: the
new comment, the reply to the same comment or the edit of the same comment. When the refusal
was a mention of someone who cannot open the document, the page also offers to share the
document with them in SharePoint (the document's webUrl; Plaza cannot grant access itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, session

from overlay_app.access import Document
from overlay_app.discussion.mentions import MentionRefused
from overlay_app.errors import FORM_REFUSALS

DRAFT_KEY = "comment_draft"
MAX_KEPT_CHARS = 100_000  # a body far past the comment limit is cut, not kept whole


@dataclass(frozen=True)
class Draft:
    """Refused text to put back into the form it came from."""

    body: str
    parent_id: str | None = None  # a reply to this comment
    edit_id: str | None = None  # an edit of this comment
    cannot_open: str | None = None  # who could not be mentioned: offer to share with them

    @property
    def is_new_comment(self) -> bool:
        return self.parent_id is None and self.edit_id is None


def _key(document: Document) -> str:
    return f"{document.drive_id}/{document.item_id}"


def kept_on_refusal(document: Document, draft: Draft, action: Callable[[], Any]) -> Any:
    """Runs a form's write; if it is refused, keeps `draft` for the page, then lets the
    refusal go on to be flashed (errors.form_reply)."""
    try:
        return action()
    except FORM_REFUSALS as refusal:
        who = refusal.person_name if isinstance(refusal, MentionRefused) else None
        session[DRAFT_KEY] = {
            "document": _key(document),
            "body": draft.body[:MAX_KEPT_CHARS],
            "parent_id": draft.parent_id,
            "edit_id": draft.edit_id,
            "cannot_open": who,
        }
        raise


def comment_draft(document: Document) -> Draft | None:
    """The refused text kept for this document's page, taken (shown once) (template global)."""
    kept = session.get(DRAFT_KEY)
    if not isinstance(kept, dict) or kept.get("document") != _key(document):
        return None
    session.pop(DRAFT_KEY, None)
    return Draft(
        body=str(kept.get("body") or ""),
        parent_id=kept.get("parent_id"),
        edit_id=kept.get("edit_id"),
        cannot_open=kept.get("cannot_open"),
    )


def init_app(app: Flask) -> None:
    app.add_template_global(comment_draft)
