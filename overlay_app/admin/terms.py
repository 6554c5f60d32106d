"""Terms of use: an admin publishes a versioned text; each person accepts the current version
before their first write. Until then every write answers 403 `termsNotAccepted` (the API) or
leads to /terms (pages); reads stay open, and so do signing out, accepting, and the admin
console (an admin publishes terms before anyone can accept them).

Every write asks whether its writer accepted the terms in force; on PostgreSQL a yes is held
per process (admin/held.py) until terms are published or acceptances erased, anywhere. A no is
never held: an acceptance on one node lets the person write on any other at once.
"""

from __future__ import annotations

from flask import Flask, Response, flash, g, redirect, request
from flask_babel import gettext

from overlay_app import db, security
from overlay_app.admin import held, store
from overlay_app.discussion import reads as discussion
from overlay_app.errors import N_, BadInput, Conflict, Forbidden, render_error
from overlay_app.identity import Person

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OPEN_ENDPOINTS = {"auth.signout", "terms.accept_form", "terms.api_accept"}
MAX_TERMS = 50_000


class TermsNotAccepted(Forbidden):
    code = "termsNotAccepted"
    default_message = N_(
        "Accept the current terms of use before you write: read them at /terms"
        " (API: GET /api/v1/terms, then POST /api/v1/terms/accept)."
    )


def current() -> tuple[int, str, str] | None:
    """(version, text, published_at) of the terms in force, or None."""
    return store.current_terms(db.social())


def accepted(person: Person) -> bool:
    def read() -> bool:
        return store.has_accepted(db.social(), person.id)

    return held.held().get(("accepted", person.id), read, keep=bool)  # a no is never held


def do_publish(person: Person, text: object) -> int:
    body = text.strip() if isinstance(text, str) else ""
    if not body or len(body) > MAX_TERMS:
        raise BadInput("Write the terms (up to %(most)s characters).", most=MAX_TERMS)
    with db.transaction() as conn:
        version = store.publish_terms(conn, body, person.id, discussion.now())
        security.audit(person.id, "admin.terms.publish", f"terms:{version}")
    held.forget()
    return version


def do_accept(person: Person, version: object) -> int:
    """Records the person's acceptance of `version`, which must be the current one."""
    terms = current()
    if terms is None:
        raise Conflict("There are no terms of use to accept.")
    if version != terms[0]:
        raise Conflict(
            "Version %(version)s is in force now: read it and accept that one.",
            version=terms[0],
        )
    with db.transaction() as conn:
        store.accept_terms(conn, person.id, terms[0], discussion.now())
    return terms[0]


def _check() -> None:
    person = g.get("person")
    endpoint = request.endpoint or ""
    if person is None or request.method not in STATE_CHANGING:
        return
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith("admin."):
        return
    if not accepted(person):
        raise TermsNotAccepted()


def _refused(error: TermsNotAccepted) -> Response:
    if request.path.startswith("/api/"):
        return render_error(error.status, error.code, error.words())
    flash(gettext("Accept the terms of use first; then do it again."), "error")
    return redirect("/terms", code=303)


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.register_error_handler(TermsNotAccepted, _refused)
