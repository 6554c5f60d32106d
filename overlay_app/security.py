"""The browser-facing defences and the audit log, wired into the app in one place; each lives
in a module of its own and is re-exported here, where views and actions reach them
(`security.check_rate`, `security.audit`, `@security.csrf_exempt`):

- overlay_app.csrf: CSRF tokens on every state-changing request made with the session cookie.
- overlay_app.headers: a nonce-based Content-Security-Policy (frame-ancestors for embedded
  pages) and the other security headers.
- overlay_app.rate_limits: per-person rate limits on writes and on the reads that answer from
  what a person may see.
- overlay_app.audit: `audit()`, the append-only audit log (admin actions, access denials).
"""

from __future__ import annotations

from flask import Flask

from overlay_app.audit import audit, audit_denial, audit_entries, init_audit, record
from overlay_app.csrf import csrf_exempt, csrf_token, init_csrf
from overlay_app.headers import init_headers
from overlay_app.rate_limits import check_rate, check_read_rate, init_rate_limits

__all__ = [
    "audit",
    "audit_denial",
    "audit_entries",
    "check_rate",
    "check_read_rate",
    "csrf_exempt",
    "init_app",
    "init_csrf",
    "record",
]


def init_app(app: Flask) -> None:
    """Headers, nonces and the audit log: first, so that every response gets the headers. The
    CSRF check is wired separately, last (`init_csrf`)."""
    init_headers(app)
    init_rate_limits(app)
    init_audit(app)
    app.add_template_global(csrf_token, "csrf_token")
