"""The cases of the authorisation matrix (test_authz_matrix.py): every route, called one way,
with the status each of the five roles gets.

Path parameters are filled from the matrix's world by name (PARAMS): the document, its folder,
the author's first comment, the reader's reply, the document's chat room and the author's
message in it. Destructive cases get something `fresh` for each role's call instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SIGNED_OUT, GUEST, OUTSIDER, READER, AUTHOR = "signed_out", "guest", "outsider", "reader", "author"
ROLES = (SIGNED_OUT, GUEST, OUTSIDER, READER, AUTHOR)  # no-access roles first: their writes
NO_ACCESS = (SIGNED_OUT, GUEST, OUTSIDER)  # must find the world as the others left it
TAG = "matrix-tag"

# A form posted with no session is sent to sign-in like a GET (303, so the browser GETs it);
# only requests carrying a session meet the CSRF check.
FORM_SIGNED_OUT = 303
DOC_READ = {SIGNED_OUT: 401, GUEST: 404, OUTSIDER: 404, READER: 200, AUTHOR: 200}
DOC_FORM = {SIGNED_OUT: FORM_SIGNED_OUT, GUEST: 404, OUTSIDER: 404, READER: 303, AUTHOR: 303}
DOC_PAGE = {SIGNED_OUT: 302, GUEST: 404, OUTSIDER: 404, READER: 200, AUTHOR: 200}
OPEN_API = {SIGNED_OUT: 401, GUEST: 200, OUTSIDER: 200, READER: 200, AUTHOR: 200}
OPEN_PAGE = {SIGNED_OUT: 302, GUEST: 200, OUTSIDER: 200, READER: 200, AUTHOR: 200}
OPEN_FORM = {SIGNED_OUT: FORM_SIGNED_OUT, GUEST: 303, OUTSIDER: 303, READER: 303, AUTHOR: 303}
PUBLIC = dict.fromkeys(ROLES, 200)
MEMBERS_API = {**OPEN_API, GUEST: 403}
MEMBERS_PAGE = {**OPEN_PAGE, GUEST: 403}
FIXED = {**DOC_READ, READER: 409, AUTHOR: 409}
# The admin console: nobody of the five is an admin or moderator, so all meet a missing page
# (tests/overlay_app/test_admin_authz.py holds the matrix of admins and moderators).
STAFF_API = {**dict.fromkeys(ROLES, 404), SIGNED_OUT: 401}
STAFF_PAGE = {**dict.fromkeys(ROLES, 404), SIGNED_OUT: 302}
STAFF_FORM = {**dict.fromkeys(ROLES, 404), SIGNED_OUT: FORM_SIGNED_OUT}


def _with(base: dict[str, int], **changes: int) -> dict[str, int]:
    return {**base, **changes}


# Each path parameter of a rule stands for one of the world's ids (a case may say otherwise).
PARAMS = {
    "drive_id": "d", "item_id": "i", "comment_id": "c", "tag": "tag", "site_id": "site",
    "person_id": "author", "room_id": "room", "message_id": "m", "filename": "css",
    "kind": "kind", "target_id": "c", "name": "d",
    "token": "site",
}  # fmt: skip
FRESH_PARAM = {"comment": "comment_id", "tag": "tag", "message": "message_id"}
RULE_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@dataclass(frozen=True)
class Case:
    """One route called one way; `expect` is the status each role gets."""

    method: str
    rule: str
    expect: dict[str, int]
    query: str = ""  # formatted with the world's ids
    # JSON under /api, else form fields; its strings formatted with the ids (or made from them)
    body: dict[str, Any] | Callable[[dict[str, str]], dict[str, Any]] | None = None
    fresh: str | None = None  # comment, tag, message or name: made anew for each role's call
    derived: bool = True  # about the document: no-access answers equal a missing one's
    own_session: bool = False  # the call ends the session: use a throwaway sign-in
    oracle: str | None = None  # site / drive / folder: who sees it, by the emulator's model
    at: dict[str, str] = field(default_factory=dict)  # path parameter -> world id

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"

    def url(self, ids: dict[str, str]) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            if self.fresh and FRESH_PARAM.get(self.fresh) == name:
                return ids["fresh"]
            return ids[self.at.get(name, PARAMS[name])]

        return RULE_PARAM.sub(value, self.rule) + self.query.format(**ids)


G, P, PUT, PATCH, DEL = "GET", "POST", "PUT", "PATCH", "DELETE"
ADMIN_PAGES = [
    (G, "/admin"), (G, "/admin/jobs"), (P, "/admin/jobs"), (G, "/admin/jobs/<name>"),
    (P, "/admin/jobs/<name>/edit"), (P, "/admin/jobs/<name>/pause"),
    (P, "/admin/jobs/<name>/resume"), (P, "/admin/jobs/<name>/remove"),
    (P, "/admin/jobs/<name>/run"), (G, "/admin/health"), (G, "/admin/connector"),
    (G, "/admin/moderation"), (P, "/admin/moderation/<kind>/<target_id>"),
    (G, "/admin/switches"), (P, "/admin/switches"), (G, "/admin/terms"), (P, "/admin/terms"),
    (G, "/admin/people"), (G, "/admin/people/export"), (P, "/admin/people/erase"),
    (G, "/admin/audit"), (G, "/admin/audit.csv"),
]  # fmt: skip
ADMIN_API = [
    (G, "/api/v1/admin/jobs"), (P, "/api/v1/admin/jobs"), (G, "/api/v1/admin/jobs/<name>/progress"),
    (P, "/api/v1/admin/jobs/<name>/run"), (G, "/api/v1/admin/health"),
    (G, "/api/v1/admin/reports"), (P, "/api/v1/admin/moderation"),
    (G, "/api/v1/admin/switches"), (PATCH, "/api/v1/admin/switches"),
    (G, "/api/v1/admin/people/<person_id>/export"), (P, "/api/v1/admin/people/<person_id>/erase"),
    (G, "/api/v1/admin/audit"),
]  # fmt: skip
API_DOC, DOC = "/api/v1/documents/<drive_id>/<item_id>", "/documents/<drive_id>/<item_id>"
COMMENT, ROOM = "/api/v1/comments/<comment_id>", "/api/v1/rooms/<room_id>"
MESSAGE = "/api/v1/messages/<message_id>"
FOLDER, OPEN = {"item_id": "folder"}, {"derived": False}
CASES = [
    # documents and their discussion, API
    Case(G, API_DOC, DOC_READ),
    Case(G, API_DOC + "/comments", DOC_READ),
    Case(P, API_DOC + "/comments", _with(DOC_READ, reader=201, author=201),
         body={"body": "Matrix new remark", "parent_id": "{c}"}),
    Case(G, API_DOC + "/likes", DOC_READ),
    Case(PUT, API_DOC + "/like", DOC_READ),
    Case(DEL, API_DOC + "/like", DOC_READ),
    Case(G, API_DOC + "/tags", DOC_READ),
    Case(P, API_DOC + "/tags", _with(DOC_READ, reader=201), body={"tag": "matrix-second"}),
    Case(DEL, API_DOC + "/tags/<tag>", _with(DOC_READ, reader=204, author=204), fresh="tag"),
    Case(G, COMMENT, DOC_READ),
    Case(PATCH, COMMENT, _with(DOC_READ, reader=403), body={"body": "Edit"}, fresh="comment"),
    Case(DEL, COMMENT, _with(DOC_READ, reader=403, author=204), fresh="comment"),
    Case(PUT, COMMENT + "/like", DOC_READ),
    Case(DEL, COMMENT + "/like", DOC_READ, at={"comment_id": "r"}),
    Case(G, COMMENT + "/likes", DOC_READ),
    Case(G, "/api/v1/mentions/suggest", DOC_READ, query="?drive_id={d}&item_id={i}&q=a"),
    # reporting what one can see to the moderators (admin/report_views.py)
    Case(P, COMMENT + "/report", _with(DOC_READ, reader=201, author=201),
         body={"reason": "Matrix report"}),
    Case(P, MESSAGE + "/report", _with(DOC_READ, reader=201, author=201),
         body={"reason": "Matrix report"}),
    Case(P, "/comments/<comment_id>/report", DOC_FORM, body={"reason": "Matrix form report"},
         at={"comment_id": "r"}),
    Case(P, "/chat/messages/<message_id>/report", DOC_FORM, body={"reason": "Matrix report"}),
    # documents and their discussion, pages and forms (all answer 303 See Other: PRG)
    Case(G, DOC, DOC_PAGE),
    Case(P, DOC + "/comments", DOC_FORM, body={"body": "Matrix form remark"}),
    Case(P, DOC + "/like", DOC_FORM, body={"liked": "1"}),
    Case(P, DOC + "/tags", DOC_FORM, body={"tag": TAG}),
    Case(P, DOC + "/tags/<tag>/delete", DOC_FORM, fresh="tag"),
    Case(P, "/comments/<comment_id>/edit", DOC_FORM, body={"body": "Matrix edit"}, fresh="comment"),
    Case(P, "/comments/<comment_id>/delete", DOC_FORM, fresh="comment"),
    Case(P, "/comments/<comment_id>/like", DOC_FORM, body={"liked": "1"}),
    # the document's chat room
    Case(P, API_DOC + "/room", DOC_READ),
    Case(G, ROOM, DOC_READ),
    # a document room's members are whoever can open the document: fixed (409)
    Case(P, ROOM + "/members", FIXED, body={"person_id": "{author}"}),
    Case(DEL, ROOM + "/members", FIXED, query="?person_id={author}"),
    Case(PUT, ROOM + "/read", DOC_READ, body=lambda ids: {"last_read_id": ids["m"]}),
    Case(G, ROOM + "/messages", DOC_READ),
    Case(P, ROOM + "/messages", _with(DOC_READ, reader=201, author=201), body={"body": "Hi"}),
    Case(PATCH, MESSAGE, _with(DOC_READ, reader=403), body={"body": "Edit"}, fresh="message"),
    Case(DEL, MESSAGE, _with(DOC_READ, reader=403, author=204), fresh="message"),
    Case(G, "/chat/<room_id>", DOC_PAGE),
    Case(P, "/chat/<room_id>/join", DOC_FORM),
    Case(P, "/chat/<room_id>/leave", DOC_FORM),
    Case(P, "/chat/<room_id>/messages", DOC_FORM, body={"body": "Matrix form hi"}),
    Case(P, DOC + "/chat", DOC_FORM, body={"body": "Matrix form hi"}),
    Case(P, "/chat/messages/<message_id>/edit", DOC_FORM, body={"body": "x"}, fresh="message"),
    Case(P, "/chat/messages/<message_id>/delete", DOC_FORM, fresh="message"),
    # browsing: who sees the site, library and folder comes from the emulator's own model
    Case(G, "/sites/<site_id>", DOC_PAGE, oracle="site"),
    Case(G, "/drives/<drive_id>", DOC_PAGE, oracle="drive"),
    Case(G, "/drives/<drive_id>/items/<item_id>", DOC_PAGE, oracle="folder", at=FOLDER),
    Case(G, "/api/v1/drives/<drive_id>/items/<item_id>/children", DOC_READ, oracle="folder",
         at=FOLDER),
    # everyone signed in: trimmed lists, and what is not about documents
    Case(G, "/", OPEN_PAGE, **OPEN),
    Case(G, "/search", OPEN_PAGE, query="?q={q}", **OPEN),
    Case(G, "/api/v1/search", OPEN_API, query="?q={q}", **OPEN),
    Case(G, "/tags/<tag>", OPEN_PAGE, **OPEN),
    Case(G, "/api/v1/tags/<tag>", OPEN_API, **OPEN),
    Case(G, "/api/v1/sites", OPEN_API, **OPEN),
    Case(G, "/sites", OPEN_PAGE, **OPEN),
    Case(G, "/people", OPEN_PAGE, query="?q=a", **OPEN),
    Case(G, "/people/<person_id>", OPEN_PAGE, **OPEN),
    Case(G, "/api/v1/people", OPEN_API, query="?q=a", **OPEN),
    Case(G, "/api/v1/people/<person_id>", OPEN_API, **OPEN),
    Case(G, "/api/v1/people/<person_id>/documents", OPEN_API, **OPEN),
    Case(G, "/people/<person_id>/photo", OPEN_PAGE, **OPEN),
    Case(G, "/notifications", OPEN_PAGE, **OPEN),
    Case(P, "/notifications/read", OPEN_FORM, body={"all": "1"}, **OPEN),
    Case(G, "/api/v1/notifications", OPEN_API, **OPEN),
    Case(P, "/api/v1/notifications/read", OPEN_API, body={"all": True}, **OPEN),
    Case(G, "/api/v1/me", OPEN_API, **OPEN),
    Case(G, "/moderation/notices", OPEN_PAGE, **OPEN),
    Case(G, "/terms", OPEN_PAGE, **OPEN),
    Case(G, "/api/v1/terms", OPEN_API, **OPEN),
    # no terms published in the matrix's world: there is nothing to accept (409)
    Case(P, "/terms/accept", OPEN_FORM, body={"version": "1"}, **OPEN),
    Case(P, "/api/v1/terms/accept", _with(OPEN_API, guest=409, outsider=409, reader=409,
         author=409), body={"version": 1}, **OPEN),
    Case(G, "/api/v1/moderation/notices", OPEN_API, **OPEN),
    Case(G, "/api/v1/rooms", OPEN_API, **OPEN),
    Case(P, "/api/v1/rooms", _with(OPEN_API, guest=403, outsider=201, reader=201, author=201),
         body={"kind": "channel", "name": "{fresh}"}, fresh="name", **OPEN),
    Case(G, "/api/v1/chat/search", OPEN_API, query="?q=closing", **OPEN),
    Case(G, "/api/v1/events", OPEN_API, query="?after=0", **OPEN),  # the replay, not live
    Case(G, "/chat", OPEN_PAGE, **OPEN),
    Case(P, "/chat/channels", OPEN_FORM, body={"name": "{fresh}"}, fresh="name", **OPEN),
    Case(P, "/chat/direct", OPEN_FORM, body={"with": "{reader_upn}"}, **OPEN),
    # the admin console: closed to all five (see STAFF_*)
    *[Case(method, rule, STAFF_PAGE if method == G else STAFF_FORM, **OPEN)
      for method, rule in ADMIN_PAGES],
    *[Case(method, rule, STAFF_API, **OPEN) for method, rule in ADMIN_API],
    # insights: members only (guests 403), computed over what the caller may open
    Case(G, "/insights", MEMBERS_PAGE, **OPEN),
    Case(G, "/insights/kpis.csv", MEMBERS_PAGE, query="?scope=all&days=7", **OPEN),
    Case(G, "/insights/network", MEMBERS_PAGE, **OPEN),
    Case(G, "/insights/experts", MEMBERS_PAGE, query="?tag=matrix-tag", **OPEN),
    Case(G, "/api/v1/insights/scopes", MEMBERS_API, **OPEN),
    Case(G, "/api/v1/insights/kpis", MEMBERS_API, **OPEN),
    Case(G, "/api/v1/insights/network", MEMBERS_API, **OPEN),
    Case(G, "/api/v1/insights/experts", MEMBERS_API, query="?tag=matrix-tag", **OPEN),
    Case(G, "/api/v1/insights/evidence/<person_id>", MEMBERS_API, **OPEN),
    # follow, levels, notification settings and the feed (issue 15)
    Case(G, "/api/v1/follows", OPEN_API, **OPEN),
    Case(PUT, "/api/v1/follows", DOC_READ, body={"kind": "document", "target": "{d}/{i}"},
         **OPEN),
    Case(DEL, "/api/v1/follows", _with(OPEN_API, guest=204, outsider=204, reader=204,
         author=204), query="?kind=document&target={d}/{i}", **OPEN),
    Case(PUT, "/api/v1/levels", DOC_READ,
         body={"kind": "document", "target": "{d}/{i}", "level": "watching"}, **OPEN),
    Case(G, "/api/v1/settings/notifications", OPEN_API, **OPEN),
    Case(PUT, "/api/v1/settings/notifications", OPEN_API, body={"digest": "daily"}, **OPEN),
    Case(G, "/following", OPEN_PAGE, **OPEN),
    Case(P, "/follow", DOC_FORM, body={"kind": "document", "target": "{d}/{i}"}, **OPEN),
    Case(P, "/follow/level", DOC_FORM,
         body={"kind": "document", "target": "{d}/{i}", "level": "muted"}, **OPEN),
    Case(G, "/settings/notifications", OPEN_PAGE, **OPEN),
    Case(P, "/settings/notifications", OPEN_FORM, body={"digest": "daily"}, **OPEN),
    Case(G, "/feed", OPEN_PAGE, **OPEN),
    # the language switch (issue 19)
    Case(G, "/api/v1/settings/language", OPEN_API, **OPEN),
    Case(PUT, "/api/v1/settings/language", OPEN_API, body={"locale": "nl"}, **OPEN),
    Case(P, "/settings/language", OPEN_FORM, body={"locale": "en"}, **OPEN),
    Case(G, "/api/v1/feed", OPEN_API, **OPEN),
    # mail: a forged unsubscribe token is a 404 for everyone; the demo's mailbox is demo-only
    Case(G, "/mail/unsubscribe/<token>", dict.fromkeys(ROLES, 404), at={"token": "site"}, **OPEN),
    Case(P, "/mail/unsubscribe/<token>", dict.fromkeys(ROLES, 404), at={"token": "site"}, **OPEN),
    Case(G, "/_demo/mail", _with(dict.fromkeys(ROLES, 404), signed_out=302), **OPEN),
    # public: sign-in, sign-out, the API's description, static files
    Case(G, "/api/v1/openapi.json", PUBLIC, **OPEN),
    Case(G, "/static/<path:filename>", PUBLIC, **OPEN),
    Case(G, "/sw.js", PUBLIC, **OPEN),
    Case(G, "/offline", PUBLIC, **OPEN),
    Case(G, "/privacy", PUBLIC, **OPEN),
    Case(G, "/signin", dict.fromkeys(ROLES, 302), query="?next=/search", **OPEN),
    Case(G, "/auth/callback", dict.fromkeys(ROLES, 400), query="?state=forged&code=x", **OPEN),
    Case(G, "/signout", PUBLIC, **OPEN),
    # Sign-out is public, so with no session it meets the CSRF check: 400 "the form expired"
    # (a forged sign-out would also end the person's sign-in at the authority).
    Case(P, "/signout", _with(dict.fromkeys(ROLES, 302), signed_out=400),
         own_session=True, **OPEN),
    # embedded mode: shells with no data (the document panel's is the same for any ids), and
    # the session API, which takes a host's token in the body and a Plaza token to end
    Case(G, "/teams/tab/<name>", dict.fromkeys(ROLES, 404), **OPEN),  # no tab named so
    Case(G, "/teams/config", PUBLIC, **OPEN),
    Case(G, "/teams/consent/done", PUBLIC, query="?error=access_denied", **OPEN),
    Case(G, "/embed/documents/<drive_id>/<item_id>", PUBLIC, **OPEN),
    Case(P, "/api/v1/embedded/session", dict.fromkeys(ROLES, 401), body={"token": "forged"},
         **OPEN),
    Case(DEL, "/api/v1/embedded/session", _with(dict.fromkeys(ROLES, 400), signed_out=401),
         **OPEN),  # an Entra token is not a Plaza token: nothing to revoke
    # Graph's webhook is public (Graph carries no user) and queues nothing without a
    # subscription's clientState; a form post is no notification at all (test_freshness.py
    # covers the handshake, a wrong clientState and a right one).
    Case(P, "/webhooks/graph", dict.fromkeys(ROLES, 400), body={"value": "x"}, **OPEN),
]  # fmt: skip
