"""Mail routes: one-click unsubscribe (RFC 8058: the link in List-Unsubscribe, POSTed by the
mail client with `List-Unsubscribe=One-Click`, or opened by a person, who confirms with a
button), and in demo mode only, `/_demo/mail`, the mails the demo's SMTP server kept."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from flask_babel import force_locale

from overlay_app import db, i18n
from overlay_app.auth.views import public
from overlay_app.follow import levels
from overlay_app.follow import store as follow_store
from overlay_app.identity import require_person
from overlay_app.mail import store, tokens

bp = Blueprint("mail", __name__)
API_PATHS: dict = {}
API_SCHEMAS: dict = {}
DEMO_MAILS_SHOWN = 50


@bp.get("/mail/unsubscribe/<token>")
@public
def unsubscribe_page(token: str):
    found = tokens.read(token)
    if found is None:
        abort(404)
    return _in_mail_language(found[0], token=token, mail_kind=found[1], done=False)


@bp.post("/mail/unsubscribe/<token>")
@public
def unsubscribe(token: str):
    """Stops that kind of mail for that person; answering again changes nothing."""
    found = tokens.read(token)
    if found is None:
        abort(404)
    person_id, mail_kind = found
    with db.transaction() as conn:
        if mail_kind == tokens.MENTION_MAIL:
            follow_store.set_choice(conn, person_id, levels.MENTION, levels.EMAIL.name, False)
        else:
            store.set_digest(conn, person_id, store.OFF)
    return _in_mail_language(person_id, token=token, mail_kind=mail_kind, done=True)


def _in_mail_language(person_id: str, **context) -> str:
    """The page in the language of the mail its link came from (the person's saved choice),
    else in the browser's."""
    with force_locale(i18n.saved_locale(person_id) or i18n.browser_locale()):
        return render_template("unsubscribe.html", **context)


unsubscribe.csrf_exempt = True  # type: ignore[attr-defined]  # the token is the proof


@bp.get("/_demo/mail")
def demo_mail():
    """The demo's mailbox (PLAZA_DEMO_MAIL_DIR); 404 outside the demo."""
    require_person()
    folder = current_app.extensions["plaza.settings"].demo_mail_dir
    if not folder:
        abort(404)
    files = sorted(Path(folder).glob("*.eml"), reverse=True)[:DEMO_MAILS_SHOWN]
    mails = [_read(path) for path in files]
    return render_template("demo_mail.html", mails=mails)


def _read(path: Path) -> dict[str, str]:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    return {
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "date": str(message["Date"]),
        "text": body.get_content() if body else "",
    }
