"""Words for the app's codes as pages show them: kinds of things one follows or chats in,
notification levels. The codes stay English in URLs, forms and the API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KINDS = {
    "document": _l("document"),
    "folder": _l("folder"),
    "site": _l("site"),
    "person": _l("person"),
    "tag": _l("tag"),
    "channel": _l("channel"),
}
LEVELS = {
    "watching": _l("watching"),
    "participating": _l("participating"),
    "muted": _l("muted"),
}

# What someone did on a document, as a profile's evidence of expertise lists it.
EVIDENCE = {
    "comment": _l("comment"),
    "reply": _l("reply"),
    "like": _l("like"),
    "authored": _l("authored"),
}


def evidence_label(kind: str) -> str:
    return str(EVIDENCE.get(kind, kind))


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def level_label(level: str) -> str:
    return str(LEVELS.get(level, level))
