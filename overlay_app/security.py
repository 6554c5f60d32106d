"""The browser-facing defences and the audit log: CSRF tokens, a nonce-based Content-Security-
Policy with the other security headers, per-person rate limits on writes and on the reads that
answer from what a person may see, and `audit()`.

- CSRF: a random token lives in the signed session; forms carry it as `csrf_token` (template
  global `csrf_token()`), script calls as the `X-CSRF-Token` header. It is required on every
  POST/PUT/PATCH/DELETE except API calls authenticated by `Authorization: Bearer` (a browser
  never attaches that header cross-site on its own), API calls without the session cookie (they
  are unauthenticated and get 401 from the auth layer), and views marked `@csrf_exempt`. The
  check runs after the auth layer has identified the caller (`init_csrf`, wired last): a
  signed-out write to a view that needs a person never reaches it, it is sent to sign-in (or
  401) as a read would be, instead of being told its form expired.
- CSP: `script-src` admits only our own files and elements carrying this request's nonce
  (template global `csp_nonce()`), so injected markup can never run script. Pages marked
  `@embeddable` (Teams tabs, the document panel) may be framed by Microsoft's Teams and
  Microsoft 365 hosts and the tenant's SharePoint host; every other page keeps
  `frame_ancestors_of` (`'self'` unless configured).
- Rate limits: `check_rate(person, action)` keeps a sliding one-minute window per person and
  action in overlay.db, so that every gunicorn worker sees the same count. Writes allow
  writes_per_minute of each kind. `check_read_rate(person, kind)` counts searches, people
  lookups and tag suggestions against their own settings (READ_LIMITS), so that none of them
  can be asked in bulk (a search, a directory or a suggestion list run thousands of times is an
  oracle over what the person may see). Reads are counted in memory, per worker process
  (`ReadWindows`): a durable write on every page view made readers queue behind SQLite's one
  writer; the price is that with N workers a person may read up to N times the limit.
- Audit: `audit()` appends to the append-only `audit` table (admin actions, access denials).
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, request, session

from overlay_app import db
from overlay_app.errors import N_, BadInput, Phrase, RateLimited
from overlay_app.identity import Person
from overlay_app.settings import SettingsError

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_SESSION_KEY = "csrf_token"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_EXPIRED = N_("the form expired: reload the page and try again")
RATE_WINDOW_SECONDS = 60
# Reads counted per person: kind -> (the setting holding its limit, what people are told).
READ_LIMITS = {
    "search": ("searches_per_minute", N_("searches")),
    "people": ("people_lookups_per_minute", N_("people lookups")),
    "tag_suggestions": ("tag_suggestions_per_minute", N_("tag suggestions")),
}
MAX_AUDIT_FIELD = 500  # target and detail come partly from URLs: keep the log bounded
HSTS = "max-age=31536000; includeSubDomains"  # a year: browsers then refuse http:// outright

View = TypeVar("View", bound=Callable[..., Any])


# -- CSRF ------------------------------------------------------------------------------------


def csrf_exempt(view: View) -> View:
    """Marks a view that checks its request some other way (e.g. an OAuth form_post)."""
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def csrf_token() -> str:
    """This session's CSRF token, created on first use (template global).

    A signed-out visitor without a session gets "" rather than a new session: they have
    nothing to post, and pages seen by crawlers should not each store a session."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        if not session and g.get("person") is None:
            return ""
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method not in STATE_CHANGING or not _needs_csrf():
        return
    expected = session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER) or _form_token()
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise BadInput(CSRF_EXPIRED)


def _needs_csrf() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "csrf_exempt", False):
        return False
    if request.path.startswith("/api/"):
        # The auth layer takes a bearer token instead of the cookie only under /api.
        return not _bearer_call() and _session_cookie_name() in request.cookies
    return True


def _bearer_call() -> bool:
    authorization = request.headers.get("Authorization", "")
    return authorization[:7].lower() == "bearer "


def _session_cookie_name() -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app.session_interface.get_cookie_name(app)


def _form_token() -> str | None:
    # Only urlencoded and multipart bodies are forms; reading request.form on a JSON body
    # would return nothing anyway, but skip the parse.
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get(CSRF_FORM_FIELD)
    return None


# -- Content-Security-Policy and other headers -------------------------------------------------


def csp_nonce() -> str:
    """This request's script nonce (template global): put it on every <script> element."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy_template(frame_ancestors: Sequence[str], authority: str, realtime_url: str = "") -> str:
    """The CSP with `{nonce}` left to fill per request.

    form-action admits the authority because sign-in and sign-out forms end in a redirect
    to it, and browsers apply form-action to redirects too. connect-src admits the event
    stream's origin (`plaza realtime`) when it is not the pages' own.
    """
    form_action = ["'self'"]
    origin = _origin(authority)
    if origin:
        form_action.append(origin)
    realtime = _origin(realtime_url)
    # Without a separate stream origin default-src 'self' already covers connect-src.
    connect = [f"connect-src 'self' {realtime}"] if realtime else []
    return "; ".join(
        [
            "default-src 'self'",
            *connect,
            "script-src 'self' 'nonce-{nonce}'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors " + " ".join(frame_ancestors),
            "form-action " + " ".join(form_action),
        ]
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Who may frame the embedded pages (Teams tabs, the document panel): the hosts Microsoft lists
# for Teams and Microsoft 365 tabs (learn.microsoft.com, Teams platform, "Tab requirements"),
# then the tenant's SharePoint host and PLAZA_EMBED_ANCESTORS (embedded_ancestors_of).
MICROSOFT_TAB_HOSTS = (
    "https://teams.microsoft.com",
    "https://*.teams.microsoft.com",
    "https://*.cloud.microsoft",
    "https://*.microsoft365.com",
    "https://*.office.com",
    "https://outlook.office.com",
    "https://outlook.office365.com",
    "https://outlook-sdf.office.com",
    "https://outlook-sdf.office365.com",
)


def embeddable(view: View) -> View:
    """Marks a page that Teams and SharePoint may frame (embedded mode, no cookie needed)."""
    view.plaza_embeddable = True  # type: ignore[attr-defined]
    return view


def embedded_ancestors_of(settings: Any) -> list[str]:
    """frame-ancestors of embedded pages: Microsoft's tab hosts, SharePoint, configured extras."""
    sources = list(MICROSOFT_TAB_HOSTS)
    host = getattr(settings, "sharepoint_host", "")
    if host:
        sources.append(f"https://{host}")
    sources += str(getattr(settings, "embed_ancestors", "")).replace(",", " ").split()
    return sources


def _embeddable_view() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "plaza_embeddable", False))


def frame_ancestors_of(settings: Any) -> list[str]:
    """Who may frame Plaza (Teams and SharePoint hosts, later): `'self'` unless configured."""
    configured = getattr(settings, "frame_ancestors", None)
    if configured is None:
        configured = settings.extra.get("frame_ancestors")
    if isinstance(configured, str):
        configured = configured.split()
    sources = [str(source) for source in configured or ()] or ["'self'"]
    bad = [s for s in sources if any(c in s for c in ";,\r\n\t ")]
    if bad:
        raise SettingsError([f"frame ancestor {s!r} is not a CSP source" for s in bad])
    return sources


def _security_headers(response):
    policy = current_app.extensions["plaza.csp_embedded" if _embeddable_view() else "plaza.csp"]
    response.headers["Content-Security-Policy"] = policy.format(nonce=csp_nonce())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:  # never over plain http, where a browser must ignore it anyway
        response.headers["Strict-Transport-Security"] = HSTS
    return response


# -- rate limits -------------------------------------------------------------------------------


# The writes of the last minute and how many older ones are left to prune (one range of
# rate_events_by_person).
RATE_SQL = """SELECT count(*) FILTER (WHERE at > :since), min(at) FILTER (WHERE at > :since),
    count(*) FILTER (WHERE at <= :since) FROM rate_events
    WHERE person_id = :person AND action = :action"""
PRUNE_STALE = 32


def check_rate(person: Person | str, action: str) -> None:
    """Counts one write of `action` by `person`; RateLimited when the last minute already holds
    writes_per_minute of them. Called inside the caller's write transaction, the count and the
    write commit together (and a refused write leaves nothing behind)."""
    limit = current_app.extensions["plaza.settings"].writes_per_minute
    if limit <= 0:
        return
    person_id = person.id if isinstance(person, Person) else person
    now = time.time()
    window = {"person": person_id, "action": action, "since": now - RATE_WINDOW_SECONDS}
    with _writing() as conn:
        count, oldest, stale = conn.execute(RATE_SQL, window).fetchone()
        if stale >= PRUNE_STALE:  # one DELETE per PRUNE_STALE writes, not one per write
            conn.execute(
                "DELETE FROM rate_events WHERE person_id = :person AND action = :action"
                " AND at <= :since",
                window,
            )
        if count >= limit:
            raise RateLimited(max(1, math.ceil(oldest + RATE_WINDOW_SECONDS - now)))
        conn.execute(
            "INSERT INTO rate_events (person_id, action, at) VALUES (?, ?, ?)",
            (person_id, action, now),
        )


class ReadWindows:
    """Sliding one-minute windows of reads per (person, kind), in this process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._times: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def count(self, key: tuple[str, str], limit: int) -> int | None:
        """Counts one read; or, past `limit`, the whole seconds until the window has room."""
        now = self.clock()
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - RATE_WINDOW_SECONDS:
                times.popleft()
            if len(times) >= limit:
                return max(1, math.ceil(times[0] + RATE_WINDOW_SECONDS - now))
            times.append(now)
            return None


def check_read_rate(person: Person | str, kind: str) -> None:
    """Counts one read of `kind` (a key of READ_LIMITS) by `person`, in a window of its own;
    RateLimited (429 with Retry-After, or the error page) past the kind's setting."""
    setting, what = READ_LIMITS[kind]
    limit = getattr(current_app.extensions["plaza.settings"], setting)
    if limit <= 0:
        return
    person_id = person.id if isinstance(person, Person) else person
    wait = current_app.extensions["plaza.read_windows"].count((person_id, kind), limit)
    if wait is not None:
        raise RateLimited(
            wait, "Too many %(what)s at once: try again in %(seconds)s s.", what=Phrase(what)
        )


# -- audit ---------------------------------------------------------------------------------------


def audit(actor_id: str | None, action: str, target: str | None = None, detail: Any = None) -> None:
    """Appends one entry to the audit log. Inside an open transaction it commits with it (an
    admin action and its record stand or fall together); otherwise it commits on its own."""
    entry = _audit_entry(actor_id, action, target, detail)
    with _writing() as conn:
        _insert_audit(conn, [entry])


def audit_denial(
    actor_id: str | None, action: str, target: str | None = None, detail: Any = None
) -> None:
    """Like audit(), for refusals: the refusal usually rolls back the transaction it happens
    in, so then the entry waits and is written when the request ends."""
    entry = _audit_entry(actor_id, action, target, detail)
    if has_request_context() and db.social().conn.in_transaction:
        g.setdefault("pending_audit", []).append(entry)
        return
    with _writing() as conn:
        _insert_audit(conn, [entry])


def record(conn, actor_id: str | None, action: str, target: str | None = None, detail=None) -> None:
    """Appends one audit entry on `conn`, inside its transaction: for callers outside a request
    (the `plaza admin` commands)."""
    _insert_audit(conn, [_audit_entry(actor_id, action, target, detail)])


def _audit_entry(actor_id, action, target, detail) -> tuple:
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, sort_keys=True, default=str)
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return (at, actor_id, action, _bounded(target), _bounded(detail))


def _bounded(text: str | None) -> str | None:
    return None if text is None else text[:MAX_AUDIT_FIELD]


def _insert_audit(conn, entries: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO audit (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        entries,
    )


def audit_entries(
    conn, actor_id: str | None, action_prefix: str, since: str, until: str, limit: int
) -> list[tuple]:
    """(id, at, actor_id, action, target, detail) of the newest entries matching the filters
    ("" = any; `since`/`until` ISO dates, `until` inclusive), newest first (the admin viewer)."""
    try:  # the day after `until` (not SQL's date(): PostgreSQL has another)
        before = (date.fromisoformat(until) + timedelta(days=1)).isoformat() if until else ""
    except ValueError:
        return []  # no such day: nothing was before it
    return conn.execute(
        "SELECT id, at, actor_id, action, target, detail FROM audit"
        " WHERE (CAST(:actor AS TEXT) IS NULL OR actor_id = :actor)"
        " AND (:action = '' OR substr(action, 1, length(:action)) = :action)"
        " AND (:since = '' OR at >= :since) AND (:before = '' OR at < :before)"
        " ORDER BY id DESC LIMIT :limit",
        {"actor": actor_id, "action": action_prefix, "since": since, "before": before,
         "limit": limit},
    ).fetchall()  # fmt: skip


def _flush_pending_audit(_error: BaseException | None) -> None:
    entries = g.pop("pending_audit", None)
    if entries:
        with _writing() as conn:
            _insert_audit(conn, entries)


@contextmanager
def _writing() -> Iterator[Any]:
    """The caller's open transaction if there is one, else a new one around the block."""
    conn = db.social().conn
    if conn.in_transaction:
        yield conn
        return
    with db.transaction() as conn:
        yield conn


# -- wiring --------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Headers, nonces and the audit log: first, so that every response gets the headers."""
    settings = app.extensions["plaza.settings"]
    app.extensions["plaza.csp"] = policy_template(
        frame_ancestors_of(settings), settings.authority, getattr(settings, "realtime_url", "")
    )
    app.extensions["plaza.csp_embedded"] = policy_template(
        embedded_ancestors_of(settings), settings.authority, getattr(settings, "realtime_url", "")
    )
    app.extensions["plaza.read_windows"] = ReadWindows()
    app.after_request(_security_headers)
    app.teardown_request(_flush_pending_audit)
    app.add_template_global(csrf_token, "csrf_token")
    app.add_template_global(csp_nonce, "csp_nonce")


def init_csrf(app: Flask) -> None:
    """The CSRF check, registered after the auth layer's before_request hook (Flask runs them in
    order): whoever is not signed in meets sign-in first, whoever carries a session meets this
    before any view runs."""
    app.before_request(_check_csrf)
