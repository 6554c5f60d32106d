"""One-click unsubscribe tokens (RFC 8058): signed with the app's secret key, one per person
and kind of mail ("mention" or "digest"), so a link stops exactly that kind of mail and
nobody can forge one for someone else."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

MENTION_MAIL, DIGEST_MAIL = "mention", "digest"
MAIL_KINDS = (MENTION_MAIL, DIGEST_MAIL)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="plaza.mail.unsubscribe")


def make(person_id: str, mail_kind: str) -> str:
    return str(_serializer().dumps({"p": person_id, "k": mail_kind}))


def read(token: str) -> tuple[str, str] | None:
    """(person_id, mail kind) of a genuine token, else None."""
    try:
        found = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(found, dict) or found.get("k") not in MAIL_KINDS:
        return None
    person_id = found.get("p")
    return (person_id, found["k"]) if isinstance(person_id, str) else None
