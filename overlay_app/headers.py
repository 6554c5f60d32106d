"""The Content-Security-Policy and the other security headers of every response.

`script-src` admits only our own files and elements carrying this request's nonce (template
global `csp_nonce()`), so injected markup can never run script. Pages marked `@embeddable`
(Teams tabs, the document panel) may be framed by Microsoft's Teams and Microsoft 365 hosts and
the tenant's SharePoint host; every other page keeps `frame_ancestors_of` (`'self'` unless
configured).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request

from overlay_app.settings import SettingsError

HSTS = "max-age=31536000; includeSubDomains"  # a year: browsers then refuse http:// outright
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

View = TypeVar("View", bound=Callable[..., Any])


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


def init_headers(app: Flask) -> None:
    """Both policies built once from the settings (a bad frame ancestor stops the start), and
    the headers put on every response."""
    settings = app.extensions["plaza.settings"]
    realtime_url = getattr(settings, "realtime_url", "")
    app.extensions["plaza.csp"] = policy_template(
        frame_ancestors_of(settings), settings.authority, realtime_url
    )
    app.extensions["plaza.csp_embedded"] = policy_template(
        embedded_ancestors_of(settings), settings.authority, realtime_url
    )
    app.after_request(_security_headers)
    app.add_template_global(csp_nonce, "csp_nonce")
